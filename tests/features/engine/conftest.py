"""One local SparkSession for the Spark tests (``local[2]``, UTC, UI off, few partitions).

The Spark tests carry the ``spark`` marker, which keeps them on one pytest-xdist worker and so
on one session. Without Java they are skipped with the reason, unless ``NEV_REQUIRE_SPARK=1``
(set by ``make test``, which installs Java first): then a missing Java fails the run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Any:
    from features.engine.spark import SparkUnavailable, local_session

    try:
        return local_session()
    except SparkUnavailable as exc:
        if os.environ.get("NEV_REQUIRE_SPARK") == "1":
            pytest.fail(f"Spark is required here: {exc}")
        pytest.skip(str(exc))
