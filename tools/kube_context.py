"""Which kubeconfig files and context the `local` stack will use: the ones kubectl uses.

With no `meshstack:kubernetes.kubeconfig`, the Kubernetes provider loads its configuration
with client-go's default rules (components/meshstack/kube.py AMBIENT_KUBECONFIG), as kubectl does:
the files of $KUBECONFIG (a list, separated like PATH; missing files skipped; for every
name the first file that sets it wins, the current context included), or ~/.kube/config.
`resolve` follows the same rules (kubernetes.io "Organizing cluster access using kubeconfig
files", merging) so that `scripts/up.sh` can say what it deploys to before it does, and stop
when that context does not exist.

    python -m tools.kube_context stacks/Pulumi.local.yaml
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml


class NoContext(Exception):
    """The configuration names no usable context; the message says what to do."""


@dataclass(frozen=True)
class KubeContext:
    files: tuple[Path, ...]
    context: str
    # The API server of that context's cluster.
    server: str


def _files(kubeconfig: str | None, environ: Mapping[str, str]) -> tuple[Path, ...]:
    if kubeconfig:
        return (Path(kubeconfig).expanduser(),)
    listed = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return tuple(Path(p).expanduser() for p in listed)
    return (Path(environ.get("HOME", "~")).expanduser() / ".kube" / "config",)


def resolve(kubeconfig: str | None, context: str | None, environ: Mapping[str, str]) -> KubeContext:
    files = _files(kubeconfig, environ)
    present = [f for f in files if f.is_file()]
    if not present:
        raise NoContext(
            f"no kubeconfig at {', '.join(map(str, files))}. Create a cluster first (e.g. "
            "`kind create cluster` or `minikube start`), or set meshstack:kubernetes.kubeconfig"
        )
    current, contexts, clusters = "", {}, {}
    for path in present:
        document = yaml.safe_load(path.read_text()) or {}
        current = current or document.get("current-context") or ""
        for entry in document.get("contexts") or []:
            contexts.setdefault(entry.get("name"), entry.get("context") or {})
        for entry in document.get("clusters") or []:
            clusters.setdefault(entry.get("name"), entry.get("cluster") or {})
    chosen = context or current
    if not chosen or chosen not in contexts:
        missing = f"no context {chosen!r}" if chosen else "no current context"
        raise NoContext(
            f"the kubeconfig ({', '.join(map(str, present))}) has {missing} "
            f"(contexts: {sorted(c for c in contexts if c)}). Run `kubectl config use-context "
            "NAME` or set meshstack:kubernetes.context"
        )
    server = clusters.get(contexts[chosen].get("cluster"), {}).get("server", "")
    return KubeContext(tuple(present), chosen, server)


def main(stack_file: str) -> None:
    config = yaml.safe_load(Path(stack_file).read_text())["config"]
    settings = config.get("meshstack:kubernetes") or {}
    try:
        found = resolve(settings.get("kubeconfig"), settings.get("context"), os.environ)
    except NoContext as problem:
        sys.exit(f"error: {problem}")
    files = ", ".join(map(str, found.files))
    print(f"Deploying onto Kubernetes context {found.context!r} ({found.server}) from {files}.")


if __name__ == "__main__":
    main(sys.argv[1])
