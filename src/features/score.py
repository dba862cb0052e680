"""Command-line entry point: ``python -m features.score`` (code in ``features.scoring.cli``)."""

from features.scoring.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
