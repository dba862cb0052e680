"""Command-line entry point: ``python -m features.synth`` (code in ``features.data.synth``)."""

from features.data.synth import main

if __name__ == "__main__":
    raise SystemExit(main())
