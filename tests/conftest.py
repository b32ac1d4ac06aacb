"""Shared fixtures: the offline engine (fresh mocks per test) and upstream data and tools.

Upstream data (chart sources, Istio's CRDs and samples, istioctl goldens) and the real Helm
are not part of the repository. A test that needs them skips with the reason on a bare
clone, and fails under CI=true, where they must be present: CI never passes by skipping.
The run ends with the skips counted by what is missing and how to get it.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from meshstack import versions
from tests.schema.kube import LOWEST
from tools import charts, kubetools
from tools.offline.engine import OfflineEngine

CI = os.environ.get("CI") == "true"
# Upstream Istio 1.30.3 data beside the checkout (shared/reference): Bookinfo samples,
# multi-cluster samples and istioctl's VM goldens (no 1.31 copy of those exists there).
ISTIO_REFERENCE = charts.REFERENCE / "istio-1.30.3"


@dataclass(frozen=True)
class Missing:
    """An upstream input that a clone may lack, and how to get it."""

    what: str
    remedy: str


CHART_SOURCES = Missing(
    "chart sources not found",
    "run `make charts` (needs internet) or set MESHSTACK_CHARTS",
)
REFERENCE_DATA = Missing(
    "upstream reference data not found",
    f"set MESHSTACK_REFERENCE to a directory with {ISTIO_REFERENCE.name}/ (Istio's samples "
    f"and istioctl's goldens) and gateway-api-{versions.GATEWAY_API}/ (its CRDs)",
)
TOOLS = Missing(
    "a pinned tool is not installed",
    "run the tests with `scripts/test.sh`, which installs them (needs PyPI)",
)


def unavailable(reason: str, missing: Missing | None = None) -> NoReturn:
    """Skip for a missing upstream input (the summary counts it under `missing`); under
    CI=true, fail."""
    reason = f"{missing.what}: {reason}" if missing else reason
    if CI:
        pytest.fail(f"{reason} (CI=true: upstream data and tools must be present)")
    pytest.skip(reason)


def skip_summary(reasons: list[str]) -> list[str]:
    """One line per missing input (others: per reason), the most skipped first (ties in
    alphabetical order: workers finish in any order)."""
    known = (CHART_SOURCES, REFERENCE_DATA, TOOLS)
    counted = Counter(
        next((f"{m.what} — {m.remedy}" for m in known if r.startswith(f"{m.what}: ")), r)
        for r in reasons
    )
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [f"{n} test{'s' if n > 1 else ''} skipped: {line}" for line, n in ordered]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # A skip's report holds (path, line, "Skipped: <reason>"); a list when pytest-xdist
    # brought it from a worker.
    reasons = [
        str(report.longrepr[2]).removeprefix("Skipped: ")
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, (tuple, list))
    ]
    if reasons:
        terminalreporter.section("skipped: what is missing, and how to get it")
        for line in skip_summary(reasons):
            terminalreporter.write_line(line)


@pytest.fixture
def engine() -> OfflineEngine:
    """Pulumi mocks installed for this test only, with a recording monitor."""
    return OfflineEngine()


@pytest.fixture
def istio_reference() -> Path:
    if not ISTIO_REFERENCE.is_dir():
        unavailable(f"no {ISTIO_REFERENCE}", REFERENCE_DATA)
    return ISTIO_REFERENCE


def istio_crd_file() -> Path:
    """Istio's CRDs as the pinned `base` chart ships them (files/crd-all.gen.yaml)."""
    try:
        return charts.chart_source("base", versions.ISTIO) / "files" / "crd-all.gen.yaml"
    except charts.ChartUnavailable as missing:
        unavailable(str(missing), CHART_SOURCES)


@pytest.fixture
def istio_crds() -> list[Path]:
    return [istio_crd_file()]


# The Gateway API CRDs of the pinned release, beside the checkout (shared/reference).
GATEWAY_API_REFERENCE = charts.REFERENCE / f"gateway-api-{versions.GATEWAY_API}"


def gateway_api_crd_files() -> list[Path]:
    files = sorted(GATEWAY_API_REFERENCE.glob("gateway.networking.k8s.io_*.yaml"))
    if not files:
        unavailable(f"no Gateway API CRDs in {GATEWAY_API_REFERENCE}", REFERENCE_DATA)
    return files


@pytest.fixture
def gateway_api_crds() -> list[Path]:
    return gateway_api_crd_files()


def rendered(release: charts.Release, kubernetes: str = LOWEST) -> list[dict[str, Any]]:
    """What Helm renders for a release, from the pinned chart source (tools/charts.py)."""
    try:
        return charts.render(release, kubernetes)
    except charts.ChartUnavailable as missing:
        unavailable(str(missing), CHART_SOURCES)


@pytest.fixture(scope="session")
def helm() -> Path:
    """The real Helm, from the tool cache (tools/kubetools.py)."""
    try:
        return kubetools.ensure().helm
    except kubetools.ToolUnavailable as missing:
        unavailable(str(missing), TOOLS)
