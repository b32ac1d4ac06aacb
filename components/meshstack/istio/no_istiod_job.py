"""Runs in a remote cluster (python3, standard library only): fails when the istiod
Deployment exists in the cluster's system namespace, where the istiod chart would put it
(templates/deployment.yaml: `istiod`, or `istiod-<revision>`): a remote of an external
control plane runs none, its webhooks and proxies use the external istiod. A `get` by name:
the check lists nothing (nor may the preview identity, which must hold what its Role grants).

Settings: NAMESPACE (the system namespace), DEPLOYMENT (the name istiod would have).
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path

KUBERNETES = "https://kubernetes.default.svc"
ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def verdict(status: int, namespace: str, name: str) -> tuple[bool, str]:
    """(passed, what to say) for the API server's answer to the `get`."""
    if status == 404:
        return (
            True,
            f"no istiod Deployment {name} in {namespace}: this cluster uses the external one",
        )
    if status == 200:
        return False, f"istiod Deployment {name} runs in {namespace}: this remote has an istiod"
    return False, f"the API server answered {status} for Deployment {namespace}/{name}"


def get_status(url: str) -> int:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {(ACCOUNT / 'token').read_text()}"}
    )
    context = ssl.create_default_context(cafile=str(ACCOUNT / "ca.crt"))
    try:
        with urllib.request.urlopen(request, timeout=15, context=context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def main() -> None:
    namespace, name = os.environ["NAMESPACE"], os.environ["DEPLOYMENT"]
    status = get_status(f"{KUBERNETES}/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    passed, said = verdict(status, namespace, name)
    print(said, file=sys.stdout if passed else sys.stderr)
    if not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
