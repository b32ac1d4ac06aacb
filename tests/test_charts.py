"""`make charts` (tools/charts.py pull): every pinned chart is pulled with the real Helm from a
Helm repository served here over HTTP, moved into place only once all arrived, and a failure
(an unreachable repository: nothing listens on port 9) is one line, with nothing left behind."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from meshstack.versions import ChartPin
from tools import charts
from tools.stack_file import REPO_ROOT

UNREACHABLE = "http://127.0.0.1:9/"


@pytest.fixture
def repository(helm: Path, tmp_path: Path) -> Iterator[str]:
    """A Helm repository (index.yaml and chart archives, made by `helm package` and `helm repo
    index`) of the charts `one` 1.0.0 and `two` 2.0.0, served on a free local port."""
    served = tmp_path / "served"
    for chart, version in (("one", "1.0.0"), ("two", "2.0.0")):
        source = tmp_path / "sources" / chart
        (source / "templates").mkdir(parents=True)
        (source / "Chart.yaml").write_text(
            yaml.safe_dump({"apiVersion": "v2", "name": chart, "version": version})
        )
        subprocess.run([helm, "package", source, "-d", served], check=True, capture_output=True)
    subprocess.run([helm, "repo", "index", served], check=True, capture_output=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=served)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _pins(repository: str) -> list[ChartPin]:
    return [ChartPin("one", "1.0.0", repository), ChartPin("two", "2.0.0", repository)]


def test_pull_puts_every_chart_in_its_folder_and_replaces_the_old_ones(repository, tmp_path):
    destination = tmp_path / "charts"
    (destination / "stale").mkdir(parents=True)
    pulled = charts.pull(_pins(repository), destination)
    assert pulled == [f"one 1.0.0 from {repository}", f"two 2.0.0 from {repository}"]
    assert sorted(p.name for p in destination.iterdir()) == ["one", "two"]
    assert charts.chart_source("two", "2.0.0", destination) == destination / "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["charts", "served", "sources"]


def test_a_mirror_serves_every_chart_instead_of_its_own_repository(repository, tmp_path):
    pins = [ChartPin(p.chart, p.version, UNREACHABLE) for p in _pins(repository)]
    charts.pull(pins, tmp_path / "charts", repository=repository)
    assert (tmp_path / "charts" / "one" / "Chart.yaml").is_file()


def test_a_failed_pull_leaves_the_charts_as_they_were(repository, tmp_path):
    destination = tmp_path / "charts"
    (destination / "kept").mkdir(parents=True)
    pins = [*_pins(repository), ChartPin("three", "3.0.0", UNREACHABLE)]
    with pytest.raises(charts.PullFailed, match=r"chart three 3\.0\.0 from http://127\.0\.0\.1:9/"):
        charts.pull(pins, destination)
    assert [p.name for p in destination.iterdir()] == ["kept"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["charts", "served", "sources"]


def test_make_charts_without_network_says_so_in_one_line_and_writes_nothing(helm, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tools.charts", "pull", "--into", str(tmp_path / ".charts")],
        cwd=REPO_ROOT,
        env={**os.environ, charts.MIRROR_VARIABLE: UNREACHABLE},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: could not download chart base 1.31.0 from {UNREACHABLE} (")
    assert "connection refused" in line and "set MESHSTACK_CHARTS" in line
    assert list(tmp_path.iterdir()) == []


def test_an_empty_pull_directory_is_not_taken_for_the_charts(monkeypatch, tmp_path):
    monkeypatch.delenv("MESHSTACK_CHARTS", raising=False)
    monkeypatch.setattr(charts, "PULLED", tmp_path / ".charts")
    (tmp_path / ".charts").mkdir()
    assert charts.charts_dir() == charts.REFERENCE / "charts"
    (tmp_path / ".charts" / "base").mkdir()
    (tmp_path / ".charts" / "base" / "Chart.yaml").write_text("name: base\n")
    assert charts.charts_dir() == tmp_path / ".charts"
