"""Runs in the cluster (python3, standard library only): waits until istiod serves the
expected root bundle.

istiod publishes the roots it accepted, and only those, as ConfigMap `istio-ca-root-cert`
(key root-cert.pem) in every namespace (istio/istio release-1.31 pilot/pkg/serviceregistry/
kube/controller/namespacecontroller.go:165-174, written after a new `cacerts` bundle was
verified and loaded: pilot/pkg/bootstrap/istio_ca.go:344-417), in the same step that pushes it
to every proxy (certcontroller.go:213-226). The ConfigMap is mounted at BUNDLE_FILE; the
kubelet refreshes it, so the script re-reads it until it holds exactly the certificates of
EXPECTED, in that order (the signing root first), or DEADLINE_SECONDS pass; then the pod fails
with what it saw. Settings: EXPECTED (PEM), BUNDLE_FILE, DEADLINE_SECONDS, CLUSTER.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)


def certificates(pem: str) -> list[str]:
    """The certificates of a PEM text, in order, each as its base64 body without spaces."""
    return ["".join(body.split()) for body in BLOCK.findall(pem)]


def verdict(expected: list[str], served: list[str] | None) -> str:
    """ "" when istiod serves exactly the expected roots in their order, else what differs."""
    if served is None:
        return "istio-ca-root-cert is not there yet"
    if served == expected:
        return ""
    missing = sum(1 for cert in expected if cert not in served)
    unexpected = sum(1 for cert in served if cert not in expected)
    if not missing and not unexpected:
        return "it serves the expected roots, but not yet the signing root first"
    return (
        f"it serves {len(served)} root(s): {missing} of the {len(expected)} expected missing, "
        f"{unexpected} not expected"
    )


def read(path: Path) -> list[str] | None:
    try:
        return certificates(path.read_text())
    except OSError:
        return None


def main() -> int:
    expected = certificates(os.environ["EXPECTED"])
    path = Path(os.environ["BUNDLE_FILE"])
    cluster = os.environ.get("CLUSTER", "this cluster")
    end = time.monotonic() + int(os.environ.get("DEADLINE_SECONDS", "480"))
    while True:
        why = verdict(expected, read(path))
        if not why:
            print(f"istiod of {cluster} serves the {len(expected)} root(s) of trust.roots")
            return 0
        if time.monotonic() > end:
            print(f"istiod of {cluster} does not serve trust.roots: {why}", file=sys.stderr)
            return 1
        time.sleep(5)


if __name__ == "__main__":
    sys.exit(main())
