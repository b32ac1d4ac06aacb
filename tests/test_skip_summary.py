"""The test run ends with its skips counted by what is missing and how to get it
(tests/conftest.py `pytest_terminal_summary`), in one process and across pytest-xdist
workers as scripts/test.sh runs it; under CI=true the same tests fail instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CHART_SOURCES, REFERENCE_DATA
from tools.stack_file import REPO_ROOT

TESTS = """
import pytest
from tests.conftest import CHART_SOURCES, REFERENCE_DATA, unavailable

@pytest.mark.parametrize("chart", ["base", "istiod", "gateway"])
def test_renders(chart):
    unavailable(f"no source of chart {chart!r} in /nowhere", CHART_SOURCES)

def test_compares_with_a_sample():
    unavailable("no /nowhere/istio-1.30.3", REFERENCE_DATA)

def test_something_else():
    pytest.skip("not on this platform")

def test_passes():
    pass
"""
HEADING = "skipped: what is missing, and how to get it"


def _pytest(tmp_path: Path, *args: str, ci: str = "") -> subprocess.CompletedProcess[str]:
    tests = tmp_path / "test_needs.py"
    tests.write_text(TESTS)
    plugins = ("-p", "tests.conftest", "-p", "no:cacheprovider")
    return subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, *args, str(tests)],
        cwd=REPO_ROOT,
        env={**os.environ, "CI": ci},
        capture_output=True,
        text=True,
        check=False,
    )


def _summary(output: str) -> list[str]:
    return [line for line in output.split(HEADING, 1)[1].splitlines()[1:] if line][:-1]


def test_the_run_ends_with_what_was_skipped_and_how_to_get_it(tmp_path):
    """Across workers, as scripts/test.sh runs the suite."""
    result = _pytest(tmp_path, "-n", "2")
    assert result.returncode == 0, result.stdout
    summary = _summary(result.stdout)
    assert summary == [
        f"3 tests skipped: {CHART_SOURCES.what} — {CHART_SOURCES.remedy}",
        "1 test skipped: not on this platform",
        f"1 test skipped: {REFERENCE_DATA.what} — {REFERENCE_DATA.remedy}",
    ]
    assert "1 passed, 5 skipped" in result.stdout


def test_under_ci_the_same_tests_fail_and_only_other_skips_are_summed_up(tmp_path):
    """In one process, as CI's failures are read."""
    result = _pytest(tmp_path, "-p", "no:xdist", ci="true")
    assert result.returncode == 1
    assert "4 failed, 1 passed, 1 skipped" in result.stdout
    assert _summary(result.stdout)[0] == "1 test skipped: not on this platform"
