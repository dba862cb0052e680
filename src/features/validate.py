"""Command-line entry point: ``python -m features.validate`` (code in ``features.data.validate``)."""

from features.data.validate import main

if __name__ == "__main__":
    raise SystemExit(main())
