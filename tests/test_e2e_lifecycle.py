"""The real-engine harness's own logic (tools/e2e/lifecycle.py): what it hands Pulumi and how
it reads the answers. The run itself is `make e2e` (scripts/e2e.sh), against real tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stacks.config.loading import load
from stacks.config.local import LocalStack
from tests.conftest import unavailable
from tools import charts
from tools.e2e import lifecycle
from tools.offline.engine import run_stack
from tools.stack_file import to_pulumi_strings

GATEWAY_API = charts.REFERENCE / "gateway-api-v1.6.0"
HELM = "kubernetes:helm.sh/v3:Release"


@pytest.fixture
def gateway_api(tmp_path) -> Path:
    if not GATEWAY_API.is_dir():
        unavailable(f"the Gateway API v1.6.0 files are not at {GATEWAY_API}")
    return lifecycle.gateway_api_manifest(GATEWAY_API, tmp_path / "standard.yaml")


def test_gateway_api_manifest_is_the_standard_channel(gateway_api):
    documents = list(yaml.safe_load_all(gateway_api.read_text()))
    crds = {d["metadata"]["name"] for d in documents if d["kind"] == "CustomResourceDefinition"}
    assert {"gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io"} <= crds
    # standard-install.yaml also carries the policy refusing experimental CRDs over standard.
    kinds = {d["kind"] for d in documents}
    assert {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} <= kinds


@pytest.mark.parametrize("stack", ["local", "local-ambient"])
def test_the_config_it_writes_is_accepted_by_the_typed_config(stack, tmp_path, gateway_api):
    directory = charts.charts_dir()
    if not (directory / "istiod" / "Chart.yaml").is_file():
        unavailable(f"no chart sources in {directory}: run `make charts`")
    kubeconfig = tmp_path / "kubeconfig"
    config = lifecycle.stack_config(stack, kubeconfig, directory, gateway_api)
    loaded = load(to_pulumi_strings(config))
    assert isinstance(loaded, LocalStack)
    assert loaded.istio.chart_repository == f"file://{directory}"
    assert loaded.istio.gateway_api_crds == str(gateway_api)
    assert loaded.kubernetes.kubeconfig == str(kubeconfig)
    assert loaded.addons.kiali.repository == f"file://{directory}"


def test_changes_and_replacements_are_read_from_the_preview():
    preview = {
        "steps": [
            {"op": "same", "urn": "urn:a"},
            {"op": "update", "urn": "urn:vs"},
            {"op": "replace", "urn": "urn:job"},
            {"op": "create-replacement", "urn": "urn:job"},
        ],
        "changeSummary": {"same": 40, "update": 1, "replace": 1},
    }
    assert lifecycle.changes(json.dumps(preview)) == ({"update": 1, "replace": 1}, ["urn:job"])


def _result(**overrides):
    step = {"exit": 0}
    result = {
        "up": step,
        "noChange": step,
        "update": {"exit": 0, "replaces": []},
        "destroy": {"exit": 0, "leftovers": [], "checkedPairs": 3, "outOfOrder": []},
        "reup": step,
    }
    return {**result, **overrides}


def test_a_run_passes_only_when_every_step_did():
    assert lifecycle.passed(_result())
    assert not lifecycle.passed(_result(noChange={"exit": 1}))
    destroy = _result()["destroy"]
    assert not lifecycle.passed(_result(destroy={**destroy, "leftovers": ["Namespace/bookinfo"]}))
    assert not lifecycle.passed(_result(destroy={**destroy, "outOfOrder": ["istiod: base"]}))
    assert not lifecycle.passed(_result(destroy={**destroy, "checkedPairs": 0}))
    release = "urn:pulumi:e2e::meshstack::kubernetes:helm.sh/v3:Release::local-istio-istiod"
    assert not lifecycle.passed(_result(update={"exit": 0, "replaces": [release]}))
    assert not lifecycle.passed({k: v for k, v in _result().items() if k != "reup"})
    # A change safe only in steps must be refused, and for the reason expected.
    assert lifecycle.passed(_result(refused={"exit": 1, "said": True}))
    assert not lifecycle.passed(_result(refused={"exit": 0, "said": False}))
    assert not lifecycle.passed(_result(refused={"exit": 1, "said": False}))


def test_istio_crds_and_their_api_services_are_the_only_objects_kept_on_purpose():
    crd = "CustomResourceDefinition.apiextensions.k8s.io"
    assert lifecycle.kept_on_purpose((crd, "", "virtualservices.networking.istio.io"))
    assert not lifecycle.kept_on_purpose((crd, "", "httproutes.gateway.networking.k8s.io"))
    api_service = "APIService.apiregistration.k8s.io"
    assert lifecycle.kept_on_purpose((api_service, "", "v1.networking.istio.io"))
    assert not lifecycle.kept_on_purpose((api_service, "", "v1.gateway.networking.k8s.io"))
    assert not lifecycle.kept_on_purpose(("Namespace", "", "istio-system"))


def test_the_cloud_providers_are_asked_of_the_proxy_at_the_pinned_versions(tmp_path, monkeypatch):
    asked = tmp_path / "asked"
    go = tmp_path / "go"
    go.write_text(
        f'#!/bin/sh\necho "$@" >> {asked}\n'
        'case "$4" in *gcp*) echo "reading https://proxy: 403 Forbidden" >&2; exit 1;; esac\n'
    )
    go.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    answers = lifecycle.providers()
    pins = dict(
        line.split("==")
        for line in (lifecycle.REPO_ROOT / "constraints.txt").read_text().splitlines()
        if line.startswith(lifecycle.CLOUD_PROVIDERS)
    )
    gcp = f"github.com/pulumi/pulumi-gcp/provider/v{pins['pulumi-gcp'].split('.')[0]}"
    assert f"list -m -json {gcp}@v{pins['pulumi-gcp']}" in asked.read_text()
    assert answers["pulumi-gcp"] == "reading https://proxy: 403 Forbidden"
    assert answers["pulumi-alicloud"].endswith("served, not built by this harness")
    assert set(answers) == set(lifecycle.CLOUD_PROVIDERS)


def test_a_retained_manifest_is_kept_by_name(gateway_api):
    """On a shared cluster the Gateway API manifest is retained (docs/teardown.md): its CRDs,
    its admission policy and the APIServices of the versions the CRDs serve stay, by name."""
    kept = lifecycle.retained_objects(gateway_api)
    crd = "CustomResourceDefinition.apiextensions.k8s.io"
    api_service = "APIService.apiregistration.k8s.io"
    for entry in [
        (crd, "", "httproutes.gateway.networking.k8s.io"),
        (api_service, "", "v1.gateway.networking.k8s.io"),
        (
            "ValidatingAdmissionPolicy.admissionregistration.k8s.io",
            "",
            "safe-upgrades.gateway.networking.k8s.io",
        ),
    ]:
        assert lifecycle.kept_on_purpose(entry, kept), entry
    assert not lifecycle.kept_on_purpose((crd, "", "certificates.cert-manager.io"), kept)
    assert not lifecycle.kept_on_purpose(("Namespace", "", "bookinfo"), kept)


def _event(sequence: int, kind: str, op: str, urn: str) -> str:
    return json.dumps({"sequence": sequence, kind: {"metadata": {"op": op, "urn": urn}}})


def test_the_destroy_order_is_read_from_the_engine_events_and_checked(tmp_path):
    """The real destroy's events against tools/teardown.py's pairs on the offline graph:
    istiod must be gone before base's delete starts."""
    declared = run_stack("local")
    stack = "urn:pulumi:e2e-local::meshstack::"
    urns = {
        r.name: f"{stack}meshstack:istio:ControlPlane${r.type}::{r.name}"
        for r in declared.of_type(HELM)
    }
    events = tmp_path / "events.json"

    def write(order: list[str]) -> dict:
        lines = []
        for name in order:
            lines.append(_event(len(lines), "resourcePreEvent", "delete", urns[name]))
            lines.append(_event(len(lines), "resOutputsEvent", "delete", urns[name]))
        lines.append(_event(len(lines), "resourcePreEvent", "same", urns["istio-base"]))
        events.write_text("\n".join(lines) + "\n")
        deleted = lifecycle.deletions(lifecycle.engine_events(events))
        return lifecycle.destroy_order(declared, deleted)

    istio = ["istio-ingress", "istio-egress", "istio-istiod", "istio-cni", "istio-base"]
    releases = [n for n in urns if n not in istio] + istio
    found = write(releases)
    assert found["order"][-2:] == [
        "kubernetes:helm.sh/v3:Release::istio-cni",
        "kubernetes:helm.sh/v3:Release::istio-base",
    ]
    assert found["checkedPairs"] > 0
    # Every other rule's resources were not deleted in this made-up log.
    assert not [w for w in found["outOfOrder"] if "before istio-base was gone" in w]
    swapped = write([n for n in releases if n != "istio-istiod"] + ["istio-istiod"])
    assert any(
        "istio-base was deleted before istio-istiod was gone" in w for w in swapped["outOfOrder"]
    )


def test_the_config_at_destroy_is_the_updated_one():
    config = {"meshstack:bookinfo": {"namespace": "bookinfo"}, "meshstack:scenario": "local"}
    assert lifecycle.updated_config(config)["meshstack:bookinfo"] == {
        "namespace": "bookinfo",
        "routing": "reviews-80-20",
    }
    assert config["meshstack:bookinfo"] == {"namespace": "bookinfo"}


def test_the_stand_in_answers_as_every_istiod_the_stacks_run():
    """A tenant's own istiod serves its webhooks from istio-<tenant>: the API server verifies
    that name, so the plane's stand-in must answer as it (tools/e2e/controlplane.sh)."""
    assert lifecycle.istio_namespaces(["local", "tenancy"]) == ["istio-system", "istio-red"]
    assert lifecycle.update_of("tenancy") == ("istio.outboundTrafficPolicy", "REGISTRY_ONLY")
    assert lifecycle.update_of("local") == lifecycle.UPDATE
