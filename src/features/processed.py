"""Command-line entry point: ``python -m features.processed`` (code in ``features.table.processed``)."""

from features.table.processed import main

if __name__ == "__main__":
    raise SystemExit(main())
