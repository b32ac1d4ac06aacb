"""Shared fixtures: the offline engine (fresh mocks per test) and upstream data and tools.

Upstream data (chart sources, Istio's CRDs and samples, istioctl goldens) and the real Helm
are not part of the repository. A test that needs them skips with the reason on a bare
clone, and fails under CI=true, where they must be present: CI never passes by skipping.
"""

from __future__ import annotations

import os
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


def unavailable(reason: str) -> NoReturn:
    """Skip for a missing upstream input; under CI=true, fail."""
    if CI:
        pytest.fail(f"{reason} (CI=true: upstream data and tools must be present)")
    pytest.skip(reason)


@pytest.fixture
def engine() -> OfflineEngine:
    """Pulumi mocks installed for this test only, with a recording monitor."""
    return OfflineEngine()


@pytest.fixture
def istio_reference() -> Path:
    if not ISTIO_REFERENCE.is_dir():
        unavailable(f"upstream reference data not found at {ISTIO_REFERENCE}")
    return ISTIO_REFERENCE


def istio_crd_file() -> Path:
    """Istio's CRDs as the pinned `base` chart ships them (files/crd-all.gen.yaml)."""
    try:
        return charts.chart_source("base", versions.ISTIO) / "files" / "crd-all.gen.yaml"
    except charts.ChartUnavailable as missing:
        unavailable(str(missing))


@pytest.fixture
def istio_crds() -> list[Path]:
    return [istio_crd_file()]


# The Gateway API CRDs of the pinned release, beside the checkout (shared/reference).
GATEWAY_API_REFERENCE = charts.REFERENCE / f"gateway-api-{versions.GATEWAY_API}"


def gateway_api_crd_files() -> list[Path]:
    files = sorted(GATEWAY_API_REFERENCE.glob("gateway.networking.k8s.io_*.yaml"))
    if not files:
        unavailable(f"Gateway API {versions.GATEWAY_API} CRDs not found at {GATEWAY_API_REFERENCE}")
    return files


@pytest.fixture
def gateway_api_crds() -> list[Path]:
    return gateway_api_crd_files()


def rendered(release: charts.Release, kubernetes: str = LOWEST) -> list[dict[str, Any]]:
    """What Helm renders for a release, from the pinned chart source (tools/charts.py)."""
    try:
        return charts.render(release, kubernetes)
    except charts.ChartUnavailable as missing:
        unavailable(str(missing))


@pytest.fixture(scope="session")
def helm() -> Path:
    """The real Helm, from the tool cache (tools/kubetools.py)."""
    try:
        return kubetools.ensure().helm
    except kubetools.ToolUnavailable as missing:
        unavailable(str(missing))
