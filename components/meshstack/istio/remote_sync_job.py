"""Runs in the cluster (python3, standard library only): waits until every istiod of this
cluster has synced every cluster it reads through its remote secret.

It reads the istiod pods from the Endpoints of istiod's Service through the Kubernetes API
(a `get` by name: the check lists nothing), then asks each for /debug/clusterz on its
monitoring port 15014: istiod's own list of the clusters its secret controller holds, each
with the Secret it came from and its sync status (istio/istio release-1.31
pkg/kube/multicluster/secretcontroller.go ListRemoteClusters; pilot/pkg/xds/debug.go). The
port answers a caller that shows a Kubernetes token for audience istio-ca, as a proxy does
(allowAuthenticatedOrLocalhost), and a caller of the system namespace may read every debug
endpoint (AuthorizeDebugRequest).

When a remote secret changes, istiod builds a client from the new kubeconfig and lists the
cluster as `syncing` until that client has synced, then drops the old one (clusterstore.go
PendingClusterSwap): `synced` for a cluster means istiod reads it with the kubeconfig it
holds now. A token that the remote API server refuses stays `syncing` and then `timeout`,
and this check fails.

Settings: NAMESPACE (istiod's), SERVICE (istiod's Service; with revisions side by side,
each revision's, separated by spaces: every istiod reads the remote secrets), SECRET
(namespace/name of the remote secrets), CLUSTERS (JSON list of the clusters read), GENERATION
(the reader token the secrets use: named so that a new generation runs the check again),
DEADLINE_SECONDS.
"""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

KUBERNETES = "https://kubernetes.default.svc"
ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
ISTIO_TOKEN = "/var/run/secrets/tokens/istio-ca"
MONITORING_PORT = 15014
SYNCED = "synced"

# (URL, bearer token, CA file or None) -> (HTTP status, JSON answer or the error's words)
Get = Callable[[str, str, str | None], tuple[int, Any]]


def get(url: str, token: str, cafile: str | None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    try:
        with urllib.request.urlopen(request, timeout=15, context=context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.reason
    except (OSError, ValueError) as error:
        return 0, str(error)


def istiod_pods(
    call: Get, token: str, namespace: str, service: str
) -> tuple[list[tuple[str, str]], str]:
    """(pod name, pod IP) of every istiod behind `service`, or what is short of that: an
    istiod not ready yet (its address under notReadyAddresses) is waited for."""
    status, answer = call(
        f"{KUBERNETES}/api/v1/namespaces/{namespace}/endpoints/{service}",
        token,
        f"{ACCOUNT}/ca.crt",
    )
    if status != 200:
        return [], f"reading the endpoints of {service}: HTTP {status}: {answer}"
    subsets = answer.get("subsets") or []
    waiting = [a for s in subsets for a in s.get("notReadyAddresses") or []]
    pods = [
        ((a.get("targetRef") or {}).get("name", a["ip"]), a["ip"])
        for s in subsets
        for a in s.get("addresses") or []
    ]
    if waiting:
        return [], f"{len(waiting)} istiod pod(s) of {service} not ready"
    if not pods:
        return [], f"no ready istiod pod behind {namespace}/{service}"
    return pods, ""


def unsynced(clusterz: Any, secret: str, clusters: Sequence[str]) -> list[str]:
    """What one istiod's /debug/clusterz shows short of every cluster synced from `secret`."""
    if not isinstance(clusterz, list):
        return [f"clusterz answered {clusterz!r}"]
    held = {c.get("id"): c for c in clusterz if c.get("secretName") == secret}
    problems = []
    for cluster in clusters:
        entry = held.get(cluster)
        if entry is None:
            problems.append(f"{cluster}: not read from {secret}")
        elif entry.get("syncStatus") != SYNCED:
            problems.append(f"{cluster}: {entry.get('syncStatus')}")
    return problems


def url_of(ip: str) -> str:
    host = f"[{ip}]" if ":" in ip else ip
    return f"http://{host}:{MONITORING_PORT}/debug/clusterz"


def survey(call: Get, settings: Mapping[str, str], api_token: str, istio_token: str) -> list[str]:
    """Every problem, per istiod pod; empty when all of them have synced every cluster."""
    pods = []
    for service in settings["SERVICE"].split():
        found, problem = istiod_pods(call, api_token, settings["NAMESPACE"], service)
        if problem:
            return [problem]
        pods += found
    clusters = json.loads(settings["CLUSTERS"])
    problems = []
    for name, ip in pods:
        status, answer = call(url_of(ip), istio_token, None)
        found = unsynced(answer, settings["SECRET"], clusters) if status == 200 else []
        if status != 200:
            found = [f"clusterz: HTTP {status}: {answer}"]
        problems += [f"{name}: {p}" for p in found]
    return problems


def wait(
    call: Get,
    settings: Mapping[str, str],
    tokens: Callable[[], tuple[str, str]],
    clock: Callable[[], float] = time.monotonic,
    nap: Callable[[float], None] = time.sleep,
) -> str:
    deadline = clock() + int(settings.get("DEADLINE_SECONDS", "480"))
    while True:
        problems = survey(call, settings, *tokens())
        if not problems:
            return (
                f"every istiod has synced {', '.join(json.loads(settings['CLUSTERS']))} "
                f"(reader token {settings['GENERATION']})"
            )
        if clock() > deadline:
            raise SystemExit("remote clusters not synced: " + "; ".join(problems))
        print("waiting: " + "; ".join(problems), flush=True)
        nap(10)


def read_tokens() -> tuple[str, str]:
    # Read each round: the kubelet renews both files.
    return Path(f"{ACCOUNT}/token").read_text(), Path(ISTIO_TOKEN).read_text()


def main() -> None:
    print(wait(get, os.environ, read_tokens), flush=True)


if __name__ == "__main__":
    main()
