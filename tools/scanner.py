"""checkov, the Kubernetes security scanner, over every object the stacks apply.

checkov is pinned with all its dependencies in requirements-scan.txt and installed once into a
virtualenv of its own (.tools/checkov-<version>/): it pins packaging 23.2, older than what the
Pulumi SDK and the test tools need, so it cannot share .venv.

`scan` writes each distinct object once, runs `checkov --framework kubernetes` over them
(offline: `--skip-download`) and returns the failed checks. What a stack applies is its declared
Kubernetes objects and what Helm renders for its releases (`stack_objects`).

    python -m tools.scanner             # install checkov; print its path
    python -m tools.scanner local       # the findings on a stack, one per line
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools import charts, kubetools
from tools.offline.engine import run_stack

CHECKOV_VERSION = "3.3.30"
REQUIREMENTS = kubetools.REPO_ROOT / "requirements-scan.txt"
VENV = kubetools.CACHE.parent / f"checkov-{CHECKOV_VERSION}"
CHECKOV = VENV / "bin" / "checkov"
# The Kubernetes version the charts are rendered for (the stacks' lowest).
RENDER_KUBERNETES = "1.30"


class ScannerUnavailable(RuntimeError):
    """checkov could not be installed (no package index)."""


def ensure() -> Path:
    """The checkov executable, installing the pinned set the first time (one process at a
    time: the others wait on the lock and find it installed)."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / f"checkov-{CHECKOV_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = VENV / ".installed"
        if not done.is_file():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
            result = subprocess.run(
                [
                    *(str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"),
                    *("--disable-pip-version-check", "-r", str(REQUIREMENTS)),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise ScannerUnavailable(f"pip could not install checkov:\n{result.stderr}")
            done.write_text(REQUIREMENTS.read_text())
    return CHECKOV


@dataclass(frozen=True)
class Finding:
    """One failed check on one object: checkov's id of the check and of the resource
    (`Kind.namespace.name`; graph checks on pods add the pod's labels)."""

    check: str
    resource: str
    title: str
    # Where the object comes from: `<stack>` (declared) or `<stack> chart <name>`.
    origins: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.check} {self.resource} ({self.title}) in {', '.join(self.origins)}"


def _installed(manifest: Mapping[str, Any]) -> bool:
    """Whether installing the release applies it: not a test hook (`helm test` runs those;
    helm.sh/docs/topics/chart_tests), and not a CRD (no workload, a megabyte to parse)."""
    hook = (manifest.get("metadata", {}).get("annotations") or {}).get("helm.sh/hook", "")
    return "test" not in hook.split(",") and manifest.get("kind") != "CustomResourceDefinition"


def stack_objects(stack: str) -> dict[str, list[dict[str, Any]]]:
    """The objects a stack applies, by origin: its declared Kubernetes objects, and each
    Helm release as Helm renders it from the pinned chart source."""
    declared = run_stack(stack)
    objects = {stack: [r.manifest for r in declared.kube_objects()]}
    for resource in declared.of_type(charts.RELEASE_TYPE):
        release = charts.Release.of(resource.inputs)
        rendered = charts.render(release, RENDER_KUBERNETES)
        objects[f"{stack} chart {release.name}"] = [o for o in rendered if _installed(o)]
    return objects


def scan(objects: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[Finding]:
    """checkov's failed checks on the objects (origin → objects). An object that several
    origins share is scanned once; an object without a namespace is in `default`, as
    checkov names it."""
    checkov = ensure()
    files: dict[str, tuple[Mapping[str, Any], list[str]]] = {}
    for origin, listed in objects.items():
        for manifest in listed:
            text = json.dumps(manifest, sort_keys=True, default=str)
            key = hashlib.sha256(text.encode()).hexdigest()[:20]
            files.setdefault(key, (manifest, []))[1].append(origin)
    with tempfile.TemporaryDirectory() as directory:
        for key, (manifest, _) in files.items():
            (Path(directory) / f"{key}.yaml").write_text(yaml.safe_dump(dict(manifest)))
        result = subprocess.run(
            [
                *(str(checkov), "--directory", directory, "--framework", "kubernetes"),
                *("--output", "json", "--quiet", "--skip-download", "--compact"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    # checkov exits 1 when a check fails; its report is on stdout either way.
    try:
        report = json.loads(result.stdout) if result.stdout.strip() else {}
    except json.JSONDecodeError:
        report = None
    if report is None or result.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({result.returncode}):\n{result.stderr[-4000:]}")
    if isinstance(report, list):  # one entry per framework when several ran
        report = next(r for r in report if r.get("check_type") == "kubernetes")
    if report.get("summary", {}).get("parsing_errors"):
        raise RuntimeError(f"checkov could not parse some objects: {report['summary']}")
    failed = report.get("results", {}).get("failed_checks", [])
    return sorted(
        {
            Finding(
                check=f["check_id"],
                resource=f["resource"],
                title=f["check_name"],
                origins=tuple(sorted(set(files[Path(f["file_path"]).stem][1]))),
            )
            for f in failed
        },
        key=lambda f: (f.check, f.resource, f.origins),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="checkov over what the stacks apply.")
    parser.add_argument("stacks", nargs="*", help="stacks to scan (none: install checkov)")
    arguments = parser.parse_args()
    if not arguments.stacks:
        print(f"checkov {ensure()}")
        return
    objects: dict[str, list[dict[str, Any]]] = {}
    try:
        for stack in arguments.stacks:
            objects.update(stack_objects(stack))
        findings = scan(objects)
    except (charts.ChartUnavailable, kubetools.ToolUnavailable, ScannerUnavailable) as missing:
        sys.exit(f"error: {str(missing).splitlines()[0]}")
    for finding in findings:
        print(finding)


if __name__ == "__main__":
    main()
