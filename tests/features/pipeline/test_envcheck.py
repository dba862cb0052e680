"""Tests of the environment check."""

from __future__ import annotations

import pytest

from features.pipeline import envcheck


def test_envcheck_names_a_missing_package(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(envcheck.EnvironmentCheckError, match="no_such_module_xyz"):
        envcheck.run_checks({"no_such_module_xyz": "no-such-dist", "yaml": "pyyaml"}, None)
    assert "FAILED" in capsys.readouterr().out


def test_envcheck_passes_in_the_project_environment(capsys: pytest.CaptureFixture[str]):
    assert envcheck.main([]) == 0
    out = capsys.readouterr().out
    assert "environment OK" in out and "lightgbm" in out and "ran 1+1" in out
