"""Runs in a remote cluster (python3, standard library only): fails when an istiod
Deployment runs in the cluster's system namespace, where the istiod chart would put one
(templates/deployment.yaml, labels app=istiod): a remote of an external control plane runs
none, its webhooks and proxies use the external istiod.

Settings: NAMESPACE (the system namespace).
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.parse
import urllib.request
from pathlib import Path

KUBERNETES = "https://kubernetes.default.svc"
ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def istiod_deployments(answer: dict) -> list[str]:
    """The names of the Deployments in a DeploymentList answer."""
    return [item["metadata"]["name"] for item in answer.get("items", [])]


def main() -> None:
    namespace = os.environ["NAMESPACE"]
    query = urllib.parse.urlencode({"labelSelector": "app=istiod"})
    request = urllib.request.Request(
        f"{KUBERNETES}/apis/apps/v1/namespaces/{namespace}/deployments?{query}",
        headers={"Authorization": f"Bearer {(ACCOUNT / 'token').read_text()}"},
    )
    context = ssl.create_default_context(cafile=str(ACCOUNT / "ca.crt"))
    with urllib.request.urlopen(request, timeout=15, context=context) as response:
        found = istiod_deployments(json.loads(response.read()))
    if found:
        print(f"istiod Deployments in {namespace}: {', '.join(found)}", file=sys.stderr)
        sys.exit(1)
    print(f"no istiod Deployment in {namespace}: this cluster uses the external istiod")


if __name__ == "__main__":
    main()
