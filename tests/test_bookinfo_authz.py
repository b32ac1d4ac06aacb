"""bookinfo.authorization default-deny (components/meshstack/apps/bookinfo_authz.py): every
Bookinfo stack's namespace denies by default and each service admits exactly its callers, by
the accounts the callers really run as; an account not admitted is checked to get 403. (The
policies are validated against Istio 1.31's CRDs by tests/test_schemas.py, which covers every
committed stack; the new-stack default through the `deployed` record:
tests/test_previous_deployment.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshstack.apps.bookinfo_authz import (
    ALLOW_NOTHING,
    FROM_WAYPOINT,
    PRODUCTPAGE_INGRESS,
    Entrance,
    Placement,
    policy_specs,
)
from tests.conftest import rendered
from tests.test_helm_releases import helm_releases
from tools.offline.engine import Declared, Resource

POLICY = ":AuthorizationPolicy"
# Every committed stack whose scenario deploys Bookinfo.
BOOKINFO_STACKS = (
    "local",
    "local-ambient",
    "local-canary",
    "single-cluster",
    "two-cluster-retention",
    "multi-primary-ambient",
)
INGRESS = {"serviceAccounts": ["istio-system/istio-ingressgateway"]}


def policies(declared: Declared, prefix: str = "") -> dict[str, dict[str, Any]]:
    return {
        r.manifest["metadata"]["name"]: r.manifest["spec"]
        for r in declared
        if r.type.endswith(POLICY) and r.name.startswith(prefix)
    }


def sources(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [f["source"] for rule in spec.get("rules", []) for f in rule.get("from", [])]


def accounts(spec: dict[str, Any]) -> set[str]:
    return {a for s in sources(spec) for a in s.get("serviceAccounts", [])}


def test_with_sidecars_each_service_admits_exactly_its_callers(engine):
    found = policies(engine.run("local"))
    assert found[ALLOW_NOTHING] == {"action": "ALLOW"}
    callers = {
        "productpage": {"istio-system/istio-ingressgateway"},
        "details": {"bookinfo/bookinfo-productpage"},
        "reviews": {"bookinfo/bookinfo-productpage"},
        "ratings": {"bookinfo/bookinfo-reviews"},
    }
    assert set(found) == {ALLOW_NOTHING, *callers}
    for service, admitted in callers.items():
        assert found[service]["selector"] == {"matchLabels": {"app": service}}
        assert found[service]["action"] == "ALLOW"
        assert accounts(found[service]) == admitted, service


def test_the_admitted_accounts_are_those_bookinfo_and_the_gateway_run_as(engine, helm):
    declared = engine.run("local")
    found = policies(declared)
    bookinfo_accounts = {
        f"bookinfo/{r.manifest['metadata']['name']}"
        for r in declared.of_type("kubernetes:core/v1:ServiceAccount")
        if r.manifest["metadata"]["namespace"] == "bookinfo"
    }
    for service in ("details", "reviews", "ratings"):
        assert accounts(found[service]) <= bookinfo_accounts
    # The ingress gateway's account as the real Helm renders the gateway chart.
    (gateway,) = [r for _, r in helm_releases(declared) if r.name == "istio-ingressgateway"]
    objects = rendered(gateway)
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    assert {o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"} == {account}
    assert accounts(found["productpage"]) == {f"{deployment['metadata']['namespace']}/{account}"}


def test_in_ambient_the_waypoint_enforces_by_caller_and_ztunnel_admits_the_waypoint(engine):
    found = policies(engine.run("local-ambient"))
    for service in ("productpage", "details", "reviews", "ratings"):
        # Waypoints read only policies whose targetRefs name the Service.
        assert found[service]["targetRefs"] == [{"group": "", "kind": "Service", "name": service}]
        assert "selector" not in found[service]
    gateway = {"bookinfo/bookinfo-gateway-istio"}
    assert accounts(found["productpage"]) == gateway
    assert accounts(found["reviews"]) == {"bookinfo/bookinfo-productpage"}
    # ztunnel sees the waypoint's identity for calls through it, and the ingress directly.
    assert found[FROM_WAYPOINT] == {
        "action": "ALLOW",
        "rules": [{"from": [{"source": {"serviceAccounts": ["bookinfo/waypoint"]}}]}],
    }
    assert found[PRODUCTPAGE_INGRESS]["selector"] == {"matchLabels": {"app": "productpage"}}
    assert accounts(found[PRODUCTPAGE_INGRESS]) == gateway
    # The Gateway API ingress runs in the namespace: it admits every request.
    assert found["bookinfo-gateway"] == {
        "targetRefs": [
            {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "bookinfo-gateway"}
        ],
        "action": "ALLOW",
        "rules": [{}],
    }


def test_check_jobs_calling_productpage_are_admitted_by_their_accounts():
    specs = policy_specs(
        "bookinfo", Entrance(ingress=INGRESS, checks=("bookinfo/a-check",)), Placement()
    )
    assert accounts(specs["productpage"]) == {
        "istio-system/istio-ingressgateway",
        "bookinfo/a-check",
    }
    assert accounts(specs["details"]) == {"bookinfo/bookinfo-productpage"}


@pytest.mark.parametrize("stack", BOOKINFO_STACKS)
def test_every_bookinfo_stack_denies_by_default_and_none_declares_nothing(engine, stack):
    found = policies(engine.run(stack))
    assert found[ALLOW_NOTHING] == {"action": "ALLOW"}
    off = type(engine)().run(stack, {"bookinfo": {"authorization": "none"}})
    assert ALLOW_NOTHING not in policies(off)
    assert not [r for r in off if "authz" in r.name]


def _not_admitted_job(declared: Declared, name: str) -> Resource:
    job = declared.named(name)
    (container,) = job.manifest["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    (check,) = [c for c in json.loads(env["CHECKS"]) if c["name"].startswith("default-deny")]
    assert check["url"] == "http://productpage.bookinfo:9080/productpage"
    assert check["expect"] == {"only": ["denied by the default-deny policies"]}
    assert env["IN_MESH"] == "1"
    return job


@pytest.mark.parametrize(
    ("stack", "job"),
    [
        ("local", "bookinfo-authz-check-job"),
        ("local-ambient", "bookinfo-authz-check-job"),
        ("two-cluster-retention", "bookinfo-authz-check-job"),
        ("multi-primary-ambient", "ack-ambient-bookinfo-policy-check-job"),
    ],
)
def test_the_denied_check_runs_in_the_mesh_as_an_account_no_policy_admits(engine, stack, job):
    declared = engine.run(stack)
    found = _not_admitted_job(declared, job)
    account = f"bookinfo/{found.manifest['spec']['template']['spec']['serviceAccountName']}"
    assert all(account not in accounts(spec) for spec in policies(declared).values())
    labels = found.manifest["spec"]["template"]["metadata"]["labels"]
    if stack in ("local", "two-cluster-retention"):
        assert labels["sidecar.istio.io/inject"] == "true"
    else:  # ambient: captured by ztunnel, no sidecar
        assert not {"istio.io/dataplane-mode", "sidecar.istio.io/inject"} & set(labels)
    waits = declared.waits_for(found)
    assert any(declared.by_urn(u).type.endswith(POLICY) for u in waits)


def test_multi_cluster_policies_are_the_same_in_every_cluster_the_gateways_only_where_it_runs(
    engine,
):
    declared = engine.run("multi-primary-ambient")
    ack, gke = policies(declared, "ack-ambient-"), policies(declared, "gke-ambient-")
    assert "bookinfo-gateway" in ack and "bookinfo-gateway" not in gke
    del ack["bookinfo-gateway"]
    assert ack == gke
    # The ingress in ack-ambient calls productpage in either cluster: admitted in both.
    assert accounts(gke["productpage"]) == {"bookinfo/bookinfo-gateway-istio"}


def test_two_clusters_with_istiod_have_the_set_in_each_and_asm_once(engine):
    declared = engine.run("two-cluster-retention")
    assert set(policies(declared, "mesh-")) >= {ALLOW_NOTHING, "productpage"}
    # ASM names no account for its gateway: the entrance is the gateway's namespace.
    assert sources(policies(declared, "mesh-")["productpage"]) == [{"namespaces": ["istio-system"]}]
    istio = type(engine)().run("two-cluster-retention", {"controlPlane": "istio"})
    for cluster in ("m1c1", "m1c2"):
        found = policies(istio, f"{cluster}-")
        assert accounts(found["productpage"]) == {"istio-system/istio-ingressgateway"}


def test_bookinfo_network_policies_admit_callers_of_other_clusters(engine):
    # Issue #33 item 4: a same-namespace NetworkPolicy would refuse callers in other
    # clusters; Bookinfo's (the same component in every stack) admit their ports from any
    # address (network_policy.py). (Alibaba's clusters get none: they would not enforce them.)
    declared = engine.run("local")
    found = [
        r.manifest["spec"]
        for r in declared.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.manifest["metadata"]["namespace"] == "bookinfo"
        and r.manifest["metadata"]["name"] in ("productpage", "details", "reviews", "ratings")
    ]
    assert len(found) == 4
    for spec in found:
        serving = [
            rule for rule in spec["ingress"] if {"port": 9080, "protocol": "TCP"} in rule["ports"]
        ]
        assert serving and all("from" not in rule for rule in serving)


@pytest.mark.parametrize("stack", BOOKINFO_STACKS)
def test_no_source_mixes_service_accounts_with_namespaces_or_principals(engine, stack):
    # The 1.31 CRD's CEL rule on Source (charts/base/files/crd-all.gen.yaml: "Cannot set
    # serviceAccounts with namespaces or principals"), which the schema check does not run.
    for spec in policies(engine.run(stack)).values():
        for source in sources(spec):
            if "serviceAccounts" in source:
                assert not {"namespaces", "principals"} & set(source), source
                assert len(source["serviceAccounts"]) <= 16
