"""checkov (pinned; tools/scanner.py) over everything every stack applies: declared objects
and what Helm renders for its releases. Each finding must be in tests/checkov_allowlist.yaml
with its reason; an entry that accepts nothing fails too.

Issue #24's baseline: checkov fails Istio's own Bookinfo sample 128 times
(samples/bookinfo/platform/kube/bookinfo.yaml, Istio 1.30.3), and failed the `local` stack's
declared workloads 130 times; the target is at most a tenth of the sample's.
"""

from __future__ import annotations

import copy
import fnmatch
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CHART_SOURCES, ISTIO_REFERENCE, TOOLS, unavailable
from tools import charts, scanner
from tools.offline.engine import run_stack
from tools.stack_file import REPO_ROOT, stack_names

ALLOWLIST = Path(__file__).with_name("checkov_allowlist.yaml")
SAMPLE_FAILURES = 128
TARGET = SAMPLE_FAILURES // 10


def _scan(objects: dict[str, list[dict[str, Any]]]) -> list[scanner.Finding]:
    try:
        return scanner.scan(objects)
    except scanner.ScannerUnavailable as missing:
        unavailable(str(missing), TOOLS)


@cache
def _every_stack() -> tuple[scanner.Finding, ...]:
    objects: dict[str, list[dict[str, Any]]] = {}
    try:
        for stack in stack_names():
            objects.update(scanner.stack_objects(stack))
    except charts.ChartUnavailable as missing:
        unavailable(str(missing), CHART_SOURCES)
    return tuple(_scan(objects))


@pytest.fixture
def findings() -> tuple[scanner.Finding, ...]:
    return _every_stack()


def _entries() -> list[dict[str, Any]]:
    return yaml.safe_load(ALLOWLIST.read_text())


def _accepts(entry: dict[str, Any], finding: scanner.Finding) -> bool:
    return entry["check"] == finding.check and any(
        fnmatch.fnmatchcase(finding.resource, pattern) for pattern in entry["resources"]
    )


def test_every_finding_is_accepted_with_a_reason(findings):
    entries = _entries()
    new = [f for f in findings if not any(_accepts(e, f) for e in entries)]
    assert not new, "checkov findings no entry of tests/checkov_allowlist.yaml accepts:\n" + (
        "\n".join(map(str, new))
    )


def test_every_allowance_accepts_a_finding(findings):
    stale = [e for e in _entries() if not any(_accepts(e, f) for f in findings)]
    assert not stale, f"allow-list entries that accept nothing (remove them): {stale}"


def test_allowances_are_explained():
    for entry in _entries():
        assert set(entry) == {"check", "resources", "reason"}, entry
        assert entry["check"].startswith(("CKV_K8S_", "CKV2_K8S_")), entry
        assert entry["resources"] and len(entry["reason"].split()) >= 8, entry


def test_local_stack_workloads_within_a_tenth_of_upstreams_sample(findings):
    """What the `local` stack declares itself (its chart releases aside)."""
    declared = [f for f in findings if "local" in f.origins]
    assert len(declared) <= TARGET, "\n".join(map(str, declared))
    # Only digests remain: opt-in (security.imageDigests).
    assert {f.check for f in declared} == {"CKV_K8S_43"}


def test_upstream_sample_baseline(istio_reference):
    """The figure the target is measured against: the sample as Istio ships it."""
    sample = yaml.safe_load_all((istio_reference / "bookinfo/platform/bookinfo.yaml").read_text())
    failures = _scan({"sample": [o for o in sample if o]})
    assert len(failures) == SAMPLE_FAILURES, ISTIO_REFERENCE


def test_the_scan_fails_a_regression():
    """A Bookinfo Deployment stripped of its hardening brings findings no entry accepts."""
    deployment = next(
        r.manifest
        for r in run_stack("local").of_type("kubernetes:apps/v1:Deployment")
        if r.manifest["metadata"]["name"] == "ratings-v1"
    )
    weakened = copy.deepcopy(deployment)
    pod = weakened["spec"]["template"]["spec"]
    del pod["securityContext"], pod["automountServiceAccountToken"]
    for container in pod["containers"]:
        del container["securityContext"], container["resources"], container["livenessProbe"]
    entries = _entries()
    new = {
        f.check for f in _scan({"weakened": [weakened]}) if not any(_accepts(e, f) for e in entries)
    }
    # Root, privilege escalation, capabilities, seccomp, limits, token, liveness.
    assert {"CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_28", "CKV_K8S_31", "CKV_K8S_38"} <= new
    assert {"CKV_K8S_11", "CKV_K8S_13", "CKV_K8S_8"} <= new


def test_scanning_a_stack_without_chart_sources_says_what_to_do_in_one_line(tmp_path):
    """`python -m tools.scanner local` (docs/security.md) on a clone without chart sources."""
    result = subprocess.run(
        [sys.executable, "-m", "tools.scanner", "local"],
        cwd=REPO_ROOT,
        env={**os.environ, "MESHSTACK_CHARTS": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    # The releases render side by side: whichever chart is looked up first is named.
    assert re.match(
        rf"error: no source of chart '[a-z-]+' in {re.escape(str(tmp_path))}: run `make charts`",
        line,
    ), line
