"""The scripts of the VM token relay, against recorded answers of the APIs they call.

Answers follow the APIs' documented shapes: TokenRequest's `status.token` and
`status.expirationTimestamp` (authentication.k8s.io/v1), the metadata server's
`access_token`, Secret Manager v1's `:addVersion` (the new version's `name`), `versions` list
(`versions[].name/state/createTime`, `nextPageToken`), `:destroy`, and `versions/latest:access`
(`payload.data`, base64).
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import urllib.error
from collections.abc import Mapping
from typing import Any

import pytest

from meshstack.gcp import secret_reader_vm as reader
from meshstack.gcp import token_relay_job as relay
from meshstack.gcp.token_relay import TokenRelayArgs, renewal_schedule, vm_reader

SECRET = "projects/p/secrets/hello-vm-1-istio-token"
SETTINGS = {
    "NAMESPACE": "vm-namespace",
    "SERVICE_ACCOUNT": "vm-sa",
    "AUDIENCE": "istio-ca",
    "LIFETIME_SECONDS": "86400",
    "MINIMUM_SECONDS": "43200",
    "SECRET": SECRET,
    "KEEP_VERSIONS": "2",
}


def expires_in(seconds: int) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def version(number: int, state: str = "ENABLED") -> dict[str, str]:
    return {
        "name": f"{SECRET}/versions/{number}",
        "state": state,
        "createTime": f"2026-11-0{number}T00:00:00.000000Z",
    }


class Api:
    """Answers by (method, URL prefix); records every call."""

    def __init__(self, answers: Mapping[tuple[str, str], tuple[int, Any]]) -> None:
        self.answers = dict(answers)
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []

    def __call__(self, method, url, headers, body):
        self.calls.append((method, url, dict(headers), body))
        for (answer_method, prefix), answer in self.answers.items():
            if method == answer_method and url.startswith(prefix):
                return answer
        return 404, {"message": f"no answer for {method} {url}"}


def healthy_api(granted: int = 86400, versions: list[dict[str, str]] | None = None) -> Api:
    token_url = f"{relay.KUBERNETES}/api/v1/namespaces/vm-namespace/serviceaccounts/vm-sa/token"
    return Api(
        {
            ("POST", token_url): (
                201,
                {"status": {"token": "jwt-new", "expirationTimestamp": expires_in(granted)}},
            ),
            ("GET", f"{relay.METADATA}/instance/service-accounts/default/token"): (
                200,
                {"access_token": "ya29.writer", "expires_in": 3599, "token_type": "Bearer"},
            ),
            ("POST", f"{relay.SECRET_MANAGER}/{SECRET}:addVersion"): (
                200,
                {"name": f"{SECRET}/versions/5", "state": "ENABLED"},
            ),
            ("GET", f"{relay.SECRET_MANAGER}/{SECRET}/versions"): (
                200,
                {"versions": versions or []},
            ),
            ("POST", f"{relay.SECRET_MANAGER}/{SECRET}/versions/"): (200, {}),
        }
    )


def test_a_relay_requests_the_audience_writes_the_token_and_prunes_old_versions():
    old = [version(1), version(2, "DESTROYED"), version(3), version(4), version(5)]
    api = healthy_api(versions=old)
    message = relay.relay(api, SETTINGS, own_token="pod-token")
    method, _, headers, body = api.calls[0]
    assert (method, headers["Authorization"]) == ("POST", "Bearer pod-token")
    assert body["spec"] == {"audiences": ["istio-ca"], "expirationSeconds": 86400}
    added = next(c for c in api.calls if c[1].endswith(":addVersion"))
    assert base64.b64decode(added[3]["payload"]["data"]).decode() == "jwt-new"
    assert added[2] == {"Authorization": "Bearer ya29.writer"}
    destroyed = [c[1] for c in api.calls if c[1].endswith(":destroy")]
    # Newest two enabled kept (5, 4); destroyed ones are not destroyed again.
    assert destroyed == [
        f"{relay.SECRET_MANAGER}/{SECRET}/versions/3:destroy",
        f"{relay.SECRET_MANAGER}/{SECRET}/versions/1:destroy",
    ]
    assert message.startswith(f"wrote {SECRET}/versions/5") and "destroyed 2" in message


def test_version_listing_follows_pages():
    pages = iter(
        [
            (200, {"versions": [version(3)], "nextPageToken": "next"}),
            (200, {"versions": [version(1), version(2)]}),
        ]
    )
    urls: list[str] = []

    def api(method, url, headers, body):
        urls.append(url)
        return next(pages) if method == "GET" else (200, {})

    destroyed = relay.prune(api, "ya29", SECRET, keep=2)
    assert urls[1].endswith("/versions?pageToken=next")
    assert destroyed == [f"{SECRET}/versions/1"]


def test_a_shortened_token_is_refused_with_what_to_change():
    with pytest.raises(relay.RelayError, match=r"granted a 3[0-9]{3} s token \(86400 s asked\)"):
        relay.relay(healthy_api(granted=3600), SETTINGS, own_token="pod-token")


@pytest.mark.parametrize(
    ("failing", "status", "expected"),
    [
        ("/token", 403, "TokenRequest for vm-namespace/vm-sa: HTTP 403: forbidden"),
        ("/default/token", 404, r"is Workload Identity bound\?\): HTTP 404"),
        (":addVersion", 403, f"adding a version to {SECRET}: HTTP 403: forbidden"),
    ],
)
def test_each_failure_names_the_call_and_what_it_answered(failing, status, expected):
    api = healthy_api()
    for key in list(api.answers):
        if key[1].endswith(failing):
            api.answers[key] = (status, {"message": "forbidden"})
    with pytest.raises(relay.RelayError, match=expected):
        relay.relay(api, SETTINGS, own_token="pod-token")


def test_the_renewal_rhythm_leaves_every_token_valid_for_three_quarters_of_its_life():
    assert renewal_schedule(6) == "17 */6 * * *"
    args = {f: None for f in TokenRelayArgs.__dataclass_fields__}
    assert TokenRelayArgs(**{**args, "lifetime_hours": 24}).renew_hours == 6
    assert TokenRelayArgs(**{**args, "lifetime_hours": 8}).renew_hours == 2


# --- on the VM --------------------------------------------------------------------------------


def vm_answers(payload: bytes | None) -> Any:
    def get(url: str, headers: dict[str, str]) -> bytes:
        if url == f"{reader.METADATA}/project/project-id":
            return b"p"
        if url.endswith("/service-accounts/default/token"):
            assert headers == {"Metadata-Flavor": "Google"}
            return json.dumps({"access_token": "ya29.vm"}).encode()
        assert url == f"{reader.SECRET_MANAGER}/{SECRET}/versions/latest:access"
        assert headers == {"Authorization": "Bearer ya29.vm"}
        if payload is None:
            raise urllib.error.HTTPError(url, 404, "Not Found", None, io.BytesIO())  # type: ignore[arg-type]
        return json.dumps({"payload": {"data": base64.b64encode(payload).decode()}}).encode()

    return get


def test_the_vm_reads_the_newest_version_as_itself():
    assert reader.latest(vm_answers(b"jwt-new"), "hello-vm-1-istio-token") == "jwt-new"


def test_the_vm_reader_fails_while_there_is_no_version(monkeypatch, capsys):
    monkeypatch.setattr(reader, "get", vm_answers(None))
    monkeypatch.setattr("sys.argv", ["reader", "hello-vm-1-istio-token"])
    with pytest.raises(SystemExit, match="reading secret hello-vm-1-istio-token: HTTP 404"):
        reader.main()
    assert capsys.readouterr().out == ""  # nothing the refresh could take for a token


def test_the_vm_command_runs_the_shipped_reader():
    command, files = vm_reader("hello-vm-1-istio-token")
    (path,) = files
    assert command == f"python3 {path} hello-vm-1-istio-token"
    assert files[path] == reader.__loader__.get_source(reader.__name__)  # type: ignore[union-attr]
