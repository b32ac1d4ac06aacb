"""Chart sources and `helm template`: what the tests render every declared release with.

Chart sources live in one directory, one folder per chart named as the chart
(`<dir>/istiod/Chart.yaml`, `<dir>/kiali-server/Chart.yaml`, …), found in this order:
`$MESHSTACK_CHARTS`, `.charts/` (what `make charts` pulls), `../shared/reference/charts/`.
Istio's charts of another pinned release (versions.ISTIO_VERSIONS) are in
`.charts/istio-<version>/` or `../shared/reference/charts-<version>/`; the revision-tag chart
of each is derived from its istiod chart (`derive_tag_chart`, versions.TAG_CHART).

    python -m tools.charts pull     # helm pull every pinned chart version into .charts/

needs internet (or `MESHSTACK_CHART_REPOSITORY`: one Helm repository, e.g. a mirror, that
serves every chart); it writes `.charts/` in that layout only once every chart has arrived.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from meshstack import versions
from meshstack.versions import ISTIO_CHARTS, LOCAL_CHARTS, TAG_CHART, TAG_CHARTS, ChartPin
from tools import kubetools

REPO_ROOT = kubetools.REPO_ROOT
PULLED = REPO_ROOT / ".charts"
REFERENCE = Path(os.environ.get("MESHSTACK_REFERENCE", REPO_ROOT.parent / "shared" / "reference"))
RENDER_CACHE = kubetools.CACHE.parent / "render-cache"
# Tag charts the tests derive from the chart sources they find (make charts writes TAG_CHARTS).
DERIVED = kubetools.CACHE.parent / "tag-charts"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
# One repository to pull every chart from instead of each chart's own (a mirror, a proxy).
MIRROR_VARIABLE = "MESHSTACK_CHART_REPOSITORY"


class ChartUnavailable(RuntimeError):
    """No source of this chart at this version in the chart directory."""


class PullFailed(RuntimeError):
    """A chart could not be downloaded; the message is one line that says what to do."""


class RenderError(RuntimeError):
    """`helm template` refused the release (its message is Helm's)."""


def charts_dir() -> Path:
    """The chart directory (it may not exist: `chart_source` then says how to get it)."""
    if "MESHSTACK_CHARTS" in os.environ:
        return Path(os.environ["MESHSTACK_CHARTS"])
    # An empty `.charts/` (an interrupted pull before pulls were staged) is no chart directory.
    return PULLED if any(PULLED.glob("*/Chart.yaml")) else REFERENCE / "charts"


@dataclass(frozen=True)
class Release:
    """What a `helm.v3.Release` asks Helm for (its recorded inputs)."""

    name: str
    chart: str
    version: str
    namespace: str
    values: Mapping[str, Any]
    repository: str

    @classmethod
    def of(cls, inputs: Mapping[str, Any]) -> Release:
        chart = inputs["chart"]
        if chart.startswith("oci://"):
            repository, chart = chart.rsplit("/", 1)
        elif chart.startswith(("/", TAG_CHARTS)):  # a local chart folder (LOCAL_CHARTS)
            directory, chart = chart.rsplit("/", 1)
            repository = f"{LOCAL_CHARTS}{directory}"
        else:
            repository = inputs["repositoryOpts"]["repo"]
        return cls(
            name=inputs["name"],
            chart=chart,
            version=inputs["version"],
            namespace=inputs["namespace"],
            values=inputs.get("values") or {},
            repository=repository,
        )

    def source(self) -> Path:
        """Its chart's source folder: in its own file:// directory, else in charts_dir()."""
        local = self.repository.startswith(LOCAL_CHARTS)
        root = Path(self.repository.removeprefix(LOCAL_CHARTS)) if local else None
        return chart_source(self.chart, self.version, root)


def _istio_provenance_matches(path: Path, version: str) -> bool:
    """Istio's charts built from a branch keep the unstamped Chart.yaml version 1.0.0; the
    reference directory's SOURCES.json then says which minor they are."""
    sources = path.parent / "SOURCES.json"
    if not sources.is_file():
        return False
    provenance = json.loads(sources.read_text()).get(path.name, {}).get("version", "")
    minor = ".".join(version.split(".")[:2])
    # "1.31 (release-1.31@…)" (a branch) or "1.30.3 (tag 1.30.3, exact; …)".
    return provenance.startswith((f"{minor} ", f"{version} "))


def chart_source(chart: str, version: str, root: Path | None = None) -> Path:
    """The source folder of `chart` at `version`, or ChartUnavailable saying how to get it."""
    if chart == TAG_CHART:
        # Derived from the istiod chart of its version, wherever the release finds it.
        return tag_chart(version)
    if root is None and chart in ISTIO_CHARTS and version != versions.ISTIO:
        # Another pinned Istio release: its own folder of chart sources.
        pulled = PULLED / f"istio-{version}"
        root = pulled if (pulled / chart).is_dir() else REFERENCE / f"charts-{version}"
    path = (root or charts_dir()) / chart
    if not (path / "Chart.yaml").is_file():
        raise ChartUnavailable(
            f"no source of chart {chart!r} in {path.parent}: run `make charts` (needs internet) "
            "or set MESHSTACK_CHARTS to a directory of chart sources"
        )
    declared = str(yaml.safe_load((path / "Chart.yaml").read_text())["version"])
    if declared == version:
        return path
    if chart in ISTIO_CHARTS and declared == "1.0.0" and _istio_provenance_matches(path, version):
        return path
    raise ChartUnavailable(
        f"{path} is chart {chart} {declared}, but {version} is declared: "
        "run `make charts` for the declared versions"
    )


# What a chart of the istiod chart's revision-tag templates needs of it (Sail Operator's
# hack/download-charts.sh createRevisionTagChart copies the same): its values and profiles
# (zzz_profile.yaml merges them, and defines istio.labels), and the two tag templates.
_TAG_CHART_FILES = (
    "values.yaml",
    "templates/zzz_profile.yaml",
    "templates/revision-tags-mwc.yaml",
    "templates/revision-tags-svc.yaml",
)


def derive_tag_chart(istiod: Path, version: str, destination: Path) -> Path:
    """The revision-tag chart of the istiod chart at `istiod` (of Istio `version`), written
    to `destination/<version>/<TAG_CHART>` (replaced if there)."""
    chart = destination / version / TAG_CHART
    chart.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=chart.parent, prefix=".derive-"))
    try:
        fresh = staging / TAG_CHART
        for name in _TAG_CHART_FILES:
            (fresh / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(istiod / name, fresh / name)
        (fresh / "files").mkdir()
        for profile in sorted((istiod / "files").glob("profile-*.yaml")):
            shutil.copyfile(profile, fresh / "files" / profile.name)
        (fresh / "Chart.yaml").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v2",
                    "name": TAG_CHART,
                    "version": version,
                    "appVersion": version,
                    "description": f"Istio {version}'s revision tags, from its istiod chart",
                }
            )
        )
        shutil.rmtree(chart, ignore_errors=True)
        fresh.rename(chart)
        return chart
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def tag_chart(version: str) -> Path:
    """The tag chart of Istio `version`, derived (once per istiod source) from the istiod
    chart source the tests find."""
    istiod = chart_source("istiod", version)
    chart = DERIVED / _digest(istiod)[:16] / version / TAG_CHART
    if not (chart / "Chart.yaml").is_file():
        derive_tag_chart(istiod, version, chart.parent.parent)
    return chart


@cache
def _digest(path: Path) -> str:
    """A content hash of a chart folder: render results are cached under it."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


# Template functions whose result differs between two renders of the same values.
_UNSTABLE = re.compile(r"{{[^}]*\b(rand\w*|uuidv4|gen(CA|PrivateKey|\w*Cert)|now)\b[^}]*}}")


@cache
def renders_differently_each_time(chart: Path) -> bool:
    """Whether a chart calls a random (or clock) function, e.g. a generated admin password."""
    return any(
        _UNSTABLE.search(template.read_text(errors="replace"))
        for template in chart.rglob("*")
        if template.is_file() and "templates" in template.relative_to(chart).parts
    )


def render(
    release: Release,
    kube_version: str,
    values: Mapping[str, Any] | None = None,
    *,
    fresh: bool = False,
) -> list[dict[str, Any]]:
    """The objects `helm template` renders for `release` (with `values` instead of its own,
    when given) against Kubernetes `kube_version`; RenderError when Helm refuses.

    Results are cached on disk by chart content, Helm version and arguments; `fresh` renders
    anew (charts that generate random passwords differ between two renders).
    """
    source = release.source()
    values = release.values if values is None else values
    arguments = [release.name, str(source), "-n", release.namespace]
    arguments += ["--kube-version", kube_version]
    key_material = json.dumps(
        [kubetools.HELM_VERSION, _digest(source), arguments, values], sort_keys=True
    )
    cached = RENDER_CACHE / f"{hashlib.sha256(key_material.encode()).hexdigest()}.json"
    if cached.is_file() and not fresh:
        outcome = json.loads(cached.read_text())
    else:
        outcome = _helm_template(arguments, values)
        RENDER_CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=RENDER_CACHE, delete=False) as handle:
            json.dump(outcome, handle)
        Path(handle.name).replace(cached)
    if "error" in outcome:
        raise RenderError(outcome["error"])
    return outcome["objects"]


def _helm_template(arguments: list[str], values: Mapping[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json") as values_file:
        json.dump(values, values_file)
        values_file.flush()
        result = subprocess.run(
            [str(kubetools.ensure().helm), "template", *arguments, "-f", values_file.name],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        return {"error": result.stderr.strip()}
    # libyaml's loader: the `base` chart renders a megabyte of CRDs.
    return {"objects": [d for d in yaml.load_all(result.stdout, Loader=yaml.CSafeLoader) if d]}


def pinned_charts() -> tuple[ChartPin, ...]:
    """Every chart version the package pins (components/meshstack/versions.py)."""
    return (*versions.istio_charts(), *versions.ADDON_CHARTS)


def derive_tag_charts(destination: Path = REPO_ROOT / TAG_CHARTS) -> list[str]:
    """The tag chart of every pinned Istio release, from the istiod chart sources found."""
    return [
        str(derive_tag_chart(chart_source("istiod", version), version, destination))
        for version in versions.ISTIO_VERSIONS
    ]


def pull(
    pins: Iterable[ChartPin], destination: Path = PULLED, repository: str | None = None
) -> list[str]:
    """`helm pull` each chart into `destination/<chart>` (needs internet), from `repository`
    instead of each chart's own when given. The charts are downloaded beside `destination`
    and moved into place together: a failure (PullFailed) leaves `destination` as it was."""
    helm = str(kubetools.ensure().helm)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f"{destination.name}-pull-"))
    try:
        fresh = staging / destination.name
        fresh.mkdir()
        pulled = []
        for pin in pins:
            origin = repository or pin.repository
            source = (
                [f"{origin}/{pin.chart}"]
                if origin.startswith("oci://")
                else [pin.chart, "--repo", origin]
            )
            command = [helm, "pull", *source, "--version", pin.version, "--untar"]
            result = subprocess.run(
                [*command, "--untardir", str(fresh)], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                said = result.stderr.strip().splitlines() or [f"helm exited {result.returncode}"]
                raise PullFailed(
                    f"could not download chart {pin.chart} {pin.version} from {origin} "
                    f"({said[-1].removeprefix('Error: ')}); nothing was written to {destination}. "
                    "Check the network or proxy (Helm must reach the chart repositories), or "
                    "set MESHSTACK_CHARTS to a directory of chart sources"
                )
            pulled.append(f"{pin.chart} {pin.version} from {origin}")
        if destination.exists():
            destination.rename(staging / "previous")
        fresh.rename(destination)
        return pulled
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Chart sources for the rendering tests.")
    parser.add_argument("command", choices=["pull", "where"])
    parser.add_argument("--into", type=Path, default=PULLED, help="pull: default .charts/")
    arguments = parser.parse_args()
    if arguments.command == "where":
        print(charts_dir())
        return
    mirror = os.environ.get(MIRROR_VARIABLE) or None
    try:
        pulled = pull(pinned_charts(), arguments.into, repository=mirror)
        for version in versions.ISTIO_VERSIONS:
            if version != versions.ISTIO:
                into = arguments.into / f"istio-{version}"
                pulled += pull(versions.istio_charts(version), into, repository=mirror)
    except (PullFailed, kubetools.ToolUnavailable) as failure:
        sys.exit(f"error: {str(failure).splitlines()[0]}")
    for line in pulled:
        print(f"pulled {line}")
    for chart in derive_tag_charts():
        print(f"derived {chart}")


if __name__ == "__main__":
    main()
