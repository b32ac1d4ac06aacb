"""Runs in the cluster (python3, standard library only): waits until a pod created in this
namespace would get Istio's sidecar.

It asks the API server to create a probe pod with `dryRun=All`: admission runs (Istio's
injector webhook declares `sideEffects: None`, so dry-run requests reach it), nothing is
stored. The answer is the pod as it would be: with an `istio-proxy` container (or init
container, for native sidecars) once the namespace's injector answers. Retried until
DEADLINE_SECONDS, then the pod fails with what it saw. Settings: NAMESPACE, PROBE_IMAGE,
DEADLINE_SECONDS; for one revision's injector, PROBE_LABELS (JSON, e.g. {"istio.io/rev": r})
and PROXY_TAG (the image tag its sidecar must have: that revision's proxy version).

An answer at all proves the API server called the injector over TLS with the webhook's
caBundle (a call it cannot verify fails the create: failurePolicy Fail), so the webhook's
CA bundle is set and the revision's istiod serves.
"""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

KUBERNETES = "https://kubernetes.default.svc"
ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
SIDECAR = "istio-proxy"

# (URL, bearer token, JSON body) -> (HTTP status, JSON answer)
Post = Callable[[str, str, Any], tuple[int, Any]]


def post(url: str, token: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    context = ssl.create_default_context(cafile=f"{ACCOUNT}/ca.crt")
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read())
        except ValueError:
            return error.code, {"message": error.reason}


def probe_pod(image: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "injection-probe-",
            "labels": {"app": "injection-probe", **(labels or {})},
        },
        "spec": {"containers": [{"name": "probe", "image": image}]},
    }


def injected(
    call: Post,
    token: str,
    namespace: str,
    image: str,
    *,
    labels: Mapping[str, str] | None = None,
    proxy_tag: str = "",
) -> str:
    """ "" when a pod would get the sidecar (of `proxy_tag`, when given), else what the API
    server answered instead."""
    status, answer = call(
        f"{KUBERNETES}/api/v1/namespaces/{namespace}/pods?dryRun=All",
        token,
        probe_pod(image, labels),
    )
    if status // 100 != 2:
        return f"HTTP {status}: {answer.get('message', answer)}"
    spec = answer.get("spec", {})
    containers = spec.get("containers", []) + spec.get("initContainers", [])
    names = [c["name"] for c in containers]
    if SIDECAR not in names:
        return (
            f"a pod in {namespace} would run {names}: no {SIDECAR} (the injector has not answered)"
        )
    image = next(c.get("image", "") for c in containers if c["name"] == SIDECAR)
    if proxy_tag and not image.endswith(f":{proxy_tag}"):
        return f"the {SIDECAR} sidecar would run {image}, not proxy version {proxy_tag}"
    return ""


def wait(call: Post, settings: Mapping[str, str], token: str, clock=time.monotonic, nap=time.sleep):
    deadline = clock() + int(settings.get("DEADLINE_SECONDS", "480"))
    while True:
        labels = json.loads(settings.get("PROBE_LABELS") or "{}")
        tag = settings.get("PROXY_TAG", "")
        problem = injected(
            call,
            token,
            settings["NAMESPACE"],
            settings["PROBE_IMAGE"],
            labels=labels,
            proxy_tag=tag,
        )
        if not problem:
            which = f" {tag}" if tag else ""
            chosen = f" labelled {labels}" if labels else ""
            return f"pods{chosen} in {settings['NAMESPACE']} get the {SIDECAR}{which} sidecar"
        if clock() > deadline:
            raise SystemExit(f"injection check failed: {problem}")
        print(f"waiting: {problem}", flush=True)
        nap(10)


def main() -> None:
    token = Path(f"{ACCOUNT}/token").read_text()
    print(wait(post, os.environ, token), flush=True)


if __name__ == "__main__":
    main()
