"""Istio's ambient data plane and Gateway API (the local-ambient stack): the charts in the
order their needs impose (base → istiod and cni side by side → ztunnel), namespaces that opt in, a
waypoint for L7 routing, Bookinfo's ingress and routing scenarios as Gateway API objects equal
to Istio's samples/bookinfo/gateway-api/, and the refusals where ambient cannot run.
(The charts are rendered by tests/test_helm_releases.py, the objects validated against the
Gateway API v1.6.0 CRDs by tests/test_schemas.py.)"""

from __future__ import annotations

import pytest

from meshstack import versions
from meshstack.apps.bookinfo_gateway_api import routing_routes
from stacks.config import ConfigError
from tools.offline.engine import Declared, Resource

HELM = "kubernetes:helm.sh/v3:Release"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
AMBIENT = {"dataPlane": "ambient"}


@pytest.fixture
def ambient(engine) -> Declared:
    return engine.run("local-ambient")


def _release(declared: Declared, chart: str) -> Resource:
    (found,) = [r for r in declared.of_type(HELM) if r.inputs["chart"] == chart]
    return found


def test_charts_use_the_ambient_profile_and_pinned_images(ambient):
    assert _release(ambient, "istiod").inputs["values"]["profile"] == "ambient"
    assert _release(ambient, "cni").inputs["values"]["profile"] == "ambient"
    ztunnel = _release(ambient, "ztunnel").inputs["values"]
    # ztunnel's chart keeps hub and tag at the top level (charts/ztunnel/values.yaml).
    assert (ztunnel["profile"], ztunnel["hub"], ztunnel["tag"]) == (
        "ambient",
        versions.ISTIO_HUB,
        versions.ISTIO,
    )
    # Gateway API ingress: Istio deploys the ingress gateway; the chart serves egress only.
    gateways = [r.inputs["name"] for r in ambient.of_type(HELM) if r.inputs["chart"] == "gateway"]
    assert gateways == ["istio-egressgateway"]


def test_order_crds_istiod_cni_ztunnel_workloads(ambient):
    (crds,) = ambient.of_type("kubernetes:yaml/v2:ConfigFile")
    assert crds.inputs["file"] == versions.GATEWAY_API_CRDS
    istiod, cni, ztunnel = (_release(ambient, c) for c in ("istiod", "cni", "ztunnel"))
    assert ambient.depends_on(istiod, crds)
    assert ambient.depends_on(ztunnel, istiod) and ambient.depends_on(ztunnel, cni)
    # The node agent and istiod start side by side (neither needs the other to install).
    assert not ambient.depends_on(cni, istiod) and not ambient.depends_on(istiod, cni)
    for deployment in ambient.of_type("kubernetes:apps/v1:Deployment"):
        if deployment.manifest["metadata"]["namespace"] == "bookinfo":
            assert ambient.depends_on(deployment, ztunnel), deployment.name


def test_namespace_opts_in_and_its_waypoint_serves_l7(ambient):
    namespace = ambient.named("bookinfo-namespace").manifest["metadata"]
    assert namespace["labels"] == {
        "istio.io/dataplane-mode": "ambient",
        "istio.io/use-waypoint": "waypoint",
    }
    waypoint = ambient.named("bookinfo-waypoint")
    assert waypoint.manifest["spec"] == {
        "gatewayClassName": "istio-waypoint",
        "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
    }
    assert ambient.depends_on(waypoint, _release(ambient, "ztunnel"))
    # Routes and the check follow the waypoint; the workloads need not wait for it.
    for route in ambient.of_type(ROUTE):
        assert ambient.depends_on(route, waypoint), route.name
    assert ambient.depends_on(ambient.named("bookinfo-check-job"), waypoint)
    for deployment in ambient.of_type("kubernetes:apps/v1:Deployment"):
        assert not ambient.depends_on(deployment, waypoint), deployment.name


def test_bookinfo_ingress_is_istios_gateway_api_sample(ambient):
    gateway = ambient.named("bookinfo-routing-gateway").manifest
    # samples/bookinfo/gateway-api/bookinfo-gateway.yaml, plus the Service type Istio reads.
    assert gateway["spec"] == {
        "gatewayClassName": "istio",
        "listeners": [
            {
                "name": "http",
                "port": 80,
                "protocol": "HTTP",
                "allowedRoutes": {"namespaces": {"from": "Same"}},
            }
        ],
    }
    assert gateway["metadata"]["annotations"] == {"networking.istio.io/service-type": "ClusterIP"}
    route = ambient.named("bookinfo-routing-route").manifest["spec"]
    assert route["parentRefs"] == [{"name": "bookinfo-gateway"}]
    assert route["rules"][0]["backendRefs"] == [{"name": "productpage", "port": 9080}]
    assert [m["path"] for m in route["rules"][0]["matches"]] == [
        {"type": "Exact", "value": "/productpage"},
        {"type": "PathPrefix", "value": "/static"},
        {"type": "Exact", "value": "/login"},
        {"type": "Exact", "value": "/logout"},
        {"type": "PathPrefix", "value": "/api/v1/products"},
    ]
    # The check calls the Service Istio deploys for the Gateway: <gateway>-istio.
    job = ambient.named("bookinfo-check-job").manifest
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert "http://bookinfo-gateway-istio.bookinfo/productpage" in env["CHECKS"]


def test_routing_scenarios_equal_istios_gateway_api_samples():
    service_parent = [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}]
    # samples/bookinfo/gateway-api/route-reviews-50-v3.yaml
    assert routing_routes("reviews-50-v3")["reviews"] == {
        "parentRefs": service_parent,
        "rules": [
            {
                "backendRefs": [
                    {"name": "reviews-v1", "port": 9080, "weight": 50},
                    {"name": "reviews-v3", "port": 9080, "weight": 50},
                ]
            }
        ],
    }
    # route-all-v1.yaml: every service to its v1 Service.
    assert {h: r["rules"] for h, r in routing_routes("all-v1").items()} == {
        h: [{"backendRefs": [{"name": f"{h}-v1", "port": 9080}]}]
        for h in ("productpage", "reviews", "ratings", "details")
    }
    # jason-v2: the header match of the sidecar scenario, as an HTTPRoute header match.
    assert routing_routes("jason-v2")["reviews"]["rules"] == [
        {
            "matches": [{"headers": [{"type": "Exact", "name": "end-user", "value": "jason"}]}],
            "backendRefs": [{"name": "reviews-v2", "port": 9080}],
        },
        {"backendRefs": [{"name": "reviews-v1", "port": 9080}]},
    ]
    with pytest.raises(ValueError, match="no fault injection"):
        routing_routes("ratings-delay")


def test_check_pods_stay_outside_the_ambient_mesh(ambient):
    job = ambient.named("bookinfo-check-job").manifest
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["istio.io/dataplane-mode"] == "none"


def test_sidecar_mode_can_use_gateway_api_ingress(engine):
    declared = engine.run("local", {"istio": {"ingressApi": "gateway-api"}})
    assert {r.manifest["metadata"]["name"] for r in declared.of_type(GATEWAY)} == {
        "bookinfo-gateway"
    }
    # istio-cni, the default where nodes run DaemonSets, but no ztunnel and no ambient profile.
    assert not [r for r in declared.of_type(HELM) if r.inputs["chart"] == "ztunnel"]
    (cni,) = [r for r in declared.of_type(HELM) if r.inputs["chart"] == "cni"]
    assert "profile" not in cni.inputs["values"]
    labels = declared.named("bookinfo-namespace").manifest["metadata"]["labels"]
    assert labels == {"istio-injection": "enabled"}


@pytest.mark.parametrize(
    ("stack", "overrides", "named"),
    [
        ("single-cluster", {"istio": {"dataPlane": "ambient"}}, "virtual nodes run no DaemonSet"),
        ("vm", {"istio": {"dataPlane": "ambient"}}, "Istio has no ambient VMs"),
        ("primary-remote", {"istio": {"dataPlane": "ambient"}}, "clusters\\[1\\].role is remote"),
        ("primary-remote", {"istio": {"dataPlane": "ambient"}}, "multi-network meshes only"),
        (
            "two-cluster-retention",
            {"istio": {"dataPlane": "ambient"}},
            "retention is built on sidecars",
        ),
        ("local-ambient", {"bookinfo": {"routing": "ratings-abort"}}, "cannot express"),
        # An override replaces the stack file's whole section (tools/offline/engine.py).
        ("local-ambient", {"istio": {**AMBIENT, "revision": "canary"}}, "revision 'canary'"),
        ("local-ambient", {"istio": {**AMBIENT, "profile": "demo"}}, "istio.profile 'demo'"),
        ("local-ambient", {"istio": {**AMBIENT, "ingressApi": "istio"}}, "ingressApi 'istio'"),
    ],
)
def test_ambient_is_refused_where_it_cannot_run(engine, stack, overrides, named):
    with pytest.raises(ConfigError, match=named):
        engine.run(stack, overrides)
    assert engine.monitor.recorded == []


def test_multi_cluster_ambient_is_multi_primary_with_hbone_eastwest_gateways(engine):
    declared = engine.run("multi-primary-ambient")
    istiods = [r for r in declared.of_type(HELM) if r.inputs["chart"] == "istiod"]
    assert len(istiods) == 2
    for istiod in istiods:
        values = istiod.inputs["values"]
        assert values["profile"] == "ambient"
        # pilot/pkg/features/ambient.go: multi-network ambient is off unless asked for.
        assert values["pilot"]["env"]["AMBIENT_ENABLE_MULTI_NETWORK"] == "true"
    # ztunnel knows its cluster and network (charts/ztunnel values multiCluster, network).
    ztunnels = {
        r.inputs["values"]["multiCluster"]["clusterName"]: r.inputs["values"]
        for r in declared.of_type(HELM)
        if r.inputs["chart"] == "ztunnel"
    }
    assert {c: v["network"] for c, v in ztunnels.items()} == {
        "ack-ambient": "alibaba",
        "gke-ambient": "google",
    }
    assert ztunnels["gke-ambient"]["global"]["platform"] == "gke"
    assert "platform" not in ztunnels["ack-ambient"].get("global", {})
    # samples/multicluster/gen-eastwest-gateway.sh --ambient: no gateway chart, a Gateway.
    assert not [r for r in declared.of_type(HELM) if r.inputs["chart"] == "gateway"]
    gateways = {
        r.manifest["metadata"]["labels"]["topology.istio.io/network"]: r.manifest
        for r in declared.of_type(GATEWAY)
        if r.name.endswith("-eastwest-gateway")
    }
    assert set(gateways) == {"alibaba", "google"}
    for gateway in gateways.values():
        assert gateway["metadata"]["name"] == "istio-eastwestgateway"
        assert gateway["spec"]["gatewayClassName"] == "istio-east-west"
        assert gateway["spec"]["listeners"] == [
            {
                "name": "mesh",
                "port": 15008,
                "protocol": "HBONE",
                "tls": {
                    "mode": "Terminate",
                    "options": {"gateway.istio.io/tls-terminate-mode": "ISTIO_MUTUAL"},
                },
            }
        ]
    # Across clouds the gateways are public; GKE's address is reserved beforehand.
    assert gateways["google"]["spec"]["addresses"][0]["type"] == "IPAddress"
    # helloworld's Service is global in ambient (the ambient profile's serviceScopeConfigs).
    services = [
        s
        for s in declared.of_type("kubernetes:core/v1:Service")
        if s.manifest["metadata"]["name"] == "hello-world"
    ]
    assert len(services) == 2
    for service in services:
        assert service.manifest["metadata"]["labels"]["istio.io/global"] == "true"
    # The checks run as ambient mesh pods: no sidecar asked for, not opted out.
    jobs = [
        j
        for j in declared.of_type("kubernetes:batch/v1:Job")
        if j.manifest["metadata"]["name"] == "hello-world-check"
    ]
    assert len(jobs) == 2
    for job in jobs:
        labels = job.manifest["spec"]["template"]["metadata"]["labels"]
        assert not {"sidecar.istio.io/inject", "istio.io/rev", "istio.io/dataplane-mode"} & set(
            labels
        )


def test_gateway_api_crds_from_a_local_copy(engine, tmp_path):
    """istio.gatewayApiCrds: the pinned release's manifest from a file (no internet)."""
    manifest = tmp_path / "standard-install.yaml"
    manifest.write_text("")
    declared = engine.run(
        "local-ambient", {"istio": {"dataPlane": "ambient", "gatewayApiCrds": str(manifest)}}
    )
    (crds,) = declared.of_type("kubernetes:yaml/v2:ConfigFile")
    assert crds.inputs["file"] == str(manifest)
