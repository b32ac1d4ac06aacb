"""Runs in the cluster (python3, standard library only): a fresh token of one Kubernetes service
account, for one audience, written as the newest version of a Secret Manager secret.

1. TokenRequest (POST /api/v1/namespaces/NS/serviceaccounts/SA/token) with this pod's own
   service-account token, which RBAC allows `create` on `serviceaccounts/token` for SA only.
2. An access token of the Google service account this pod's Kubernetes service account is
   bound to (GKE Workload Identity: the metadata server answers for it).
3. `:addVersion` on the secret, then every enabled version but the newest KEEP_VERSIONS is
   destroyed (their tokens expire anyway; each kept version is billed).

Everything is retried until DEADLINE_SECONDS (IAM bindings take a while to apply); then the
pod fails with what it saw, and the Job (or `pulumi up`, which waits for it) says so.
Settings come from the environment: NAMESPACE, SERVICE_ACCOUNT, AUDIENCE, LIFETIME_SECONDS,
MINIMUM_SECONDS, SECRET (projects/P/secrets/S), KEEP_VERSIONS, DEADLINE_SECONDS.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

KUBERNETES = "https://kubernetes.default.svc"
ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
METADATA = "http://metadata.google.internal/computeMetadata/v1"
SECRET_MANAGER = "https://secretmanager.googleapis.com/v1"

# (method, url, headers, JSON body or None) -> (HTTP status, JSON answer or {})
Http = Callable[[str, str, Mapping[str, str], Any], tuple[int, Any]]


class RelayError(Exception):
    """What went wrong, said for the pod's log."""


def http(method: str, url: str, headers: Mapping[str, str], body: Any = None) -> tuple[int, Any]:
    """One HTTPS call; the Kubernetes API with the cluster's CA."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    context = ssl.create_default_context(
        cafile=f"{ACCOUNT}/ca.crt" if url.startswith(KUBERNETES) else None
    )
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"message": text}


def _ok(status: int, answer: Any, what: str) -> Any:
    if status // 100 != 2:
        message = answer.get("message") or answer.get("error") or answer
        raise RelayError(f"{what}: HTTP {status}: {message}")
    return answer


def request_token(
    call: Http, own_token: str, *, namespace: str, account: str, audience: str, seconds: int
) -> tuple[str, int]:
    """A token of `account` for `audience`, and the lifetime the API server granted."""
    answer = _ok(
        *call(
            "POST",
            f"{KUBERNETES}/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
            {"Authorization": f"Bearer {own_token}"},
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"audiences": [audience], "expirationSeconds": seconds},
            },
        ),
        f"TokenRequest for {namespace}/{account}",
    )
    status = answer["status"]
    expires = datetime.datetime.fromisoformat(status["expirationTimestamp"].replace("Z", "+00:00"))
    granted = int((expires - datetime.datetime.now(datetime.UTC)).total_seconds())
    return status["token"], granted


def google_token(call: Http) -> str:
    answer = _ok(
        *call(
            "GET",
            f"{METADATA}/instance/service-accounts/default/token",
            {"Metadata-Flavor": "Google"},
            None,
        ),
        "the metadata server's access token (is Workload Identity bound?)",
    )
    return answer["access_token"]


def add_version(call: Http, access: str, secret: str, value: str) -> str:
    answer = _ok(
        *call(
            "POST",
            f"{SECRET_MANAGER}/{secret}:addVersion",
            {"Authorization": f"Bearer {access}"},
            {"payload": {"data": base64.b64encode(value.encode()).decode()}},
        ),
        f"adding a version to {secret}",
    )
    return answer["name"]


def prune(call: Http, access: str, secret: str, keep: int) -> list[str]:
    """Destroy every enabled version but the newest `keep`; the names destroyed."""
    versions: list[dict[str, Any]] = []
    page = ""
    while True:
        url = f"{SECRET_MANAGER}/{secret}/versions" + (f"?pageToken={page}" if page else "")
        answer = _ok(*call("GET", url, {"Authorization": f"Bearer {access}"}, None), "listing")
        versions += answer.get("versions", [])
        page = answer.get("nextPageToken", "")
        if not page:
            break
    enabled = sorted(
        (v for v in versions if v.get("state") == "ENABLED"),
        key=lambda v: v["createTime"],
        reverse=True,
    )
    destroyed = []
    for version in enabled[keep:]:
        _ok(
            *call(
                "POST",
                f"{SECRET_MANAGER}/{version['name']}:destroy",
                {"Authorization": f"Bearer {access}"},
                {},
            ),
            f"destroying {version['name']}",
        )
        destroyed.append(version["name"])
    return destroyed


def relay(call: Http, settings: Mapping[str, str], own_token: str) -> str:
    """One relay: the message to log. Raises RelayError on the first failure."""
    wanted, minimum = int(settings["LIFETIME_SECONDS"]), int(settings["MINIMUM_SECONDS"])
    token, granted = request_token(
        call,
        own_token,
        namespace=settings["NAMESPACE"],
        account=settings["SERVICE_ACCOUNT"],
        audience=settings["AUDIENCE"],
        seconds=wanted,
    )
    if granted < minimum:
        raise RelayError(
            f"the API server granted a {granted} s token ({wanted} s asked): renewals would "
            f"leave the VM without a valid token; lower the lifetime to at most {granted} s"
        )
    access = google_token(call)
    name = add_version(call, access, settings["SECRET"], token)
    destroyed = prune(call, access, settings["SECRET"], int(settings["KEEP_VERSIONS"]))
    return f"wrote {name} (valid {granted} s); destroyed {len(destroyed)} older version(s)"


def main() -> None:
    settings = os.environ
    deadline = time.monotonic() + int(settings.get("DEADLINE_SECONDS", "600"))
    own_token = Path(f"{ACCOUNT}/token").read_text()
    while True:
        try:
            print(relay(http, settings, own_token), flush=True)
            return
        except (RelayError, OSError) as error:
            if time.monotonic() > deadline:
                sys.exit(f"token relay failed: {error}")
            print(f"retrying: {error}", flush=True)
            time.sleep(15)


if __name__ == "__main__":
    main()
