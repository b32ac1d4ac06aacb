"""Shared fixtures: the offline engine (fresh mocks per test) and upstream reference data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.offline.engine import REPO_ROOT, OfflineEngine

# Upstream Istio data beside the checkout (shared/reference); tests that compare against it
# skip with a reason when it is absent, everything else runs on a bare clone.
REFERENCE = Path(os.environ.get("MESHSTACK_REFERENCE", REPO_ROOT.parent / "shared" / "reference"))
ISTIO_REFERENCE = REFERENCE / "istio-1.30.3"


@pytest.fixture
def engine() -> OfflineEngine:
    """Pulumi mocks installed for this test only, with a recording monitor."""
    return OfflineEngine()


@pytest.fixture
def istio_reference() -> Path:
    if not ISTIO_REFERENCE.is_dir():
        pytest.skip(f"upstream reference data not found at {ISTIO_REFERENCE}")
    return ISTIO_REFERENCE
