"""Command-line entry point: ``python -m features.envcheck`` (code in ``features.pipeline.envcheck``)."""

from features.pipeline.envcheck import main

if __name__ == "__main__":
    raise SystemExit(main())
