"""Secure defaults (issue #24): what the package's own pods run with, NetworkPolicies that
select what the charts render, istio-cni wherever nodes run DaemonSets, digests on request."""

from __future__ import annotations

import pytest

from meshstack import hardening
from meshstack.network_policy import DATA_PLANE_PORTS, ingress_spec
from meshstack.observability.values import ADDON_INGRESS
from tests.conftest import rendered
from tools import charts

HELM = charts.RELEASE_TYPE
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DIGEST = "sha256:" + "ab" * 32
DETAILS = "docker.io/istio/examples-bookinfo-details-v1:1.20.3"


@pytest.fixture
def local(engine):
    return engine.run("local")


def test_pinned_images_are_pulled_by_digest_and_tags_always():
    assert hardening.pinned(DETAILS, {DETAILS: DIGEST}) == f"{DETAILS}@{DIGEST}"
    assert hardening.pinned(DETAILS, {}) == DETAILS
    assert hardening.pull_policy(f"{DETAILS}@{DIGEST}") == "IfNotPresent"
    assert hardening.pull_policy(DETAILS) == "Always"


def test_ingress_spec_admits_only_what_it_names():
    closed = ingress_spec({"app": "x"})
    assert closed["ingress"] == [] and closed["policyTypes"] == ["Ingress"]
    spec = ingress_spec({"app": "x"}, [9090], namespace_only=True, open_ports=[4317])
    assert spec["ingress"] == [
        {"ports": [{"protocol": "TCP", "port": 9090}], "from": [{"podSelector": {}}]},
        {"ports": [{"protocol": "TCP", "port": 4317}]},
    ]


def _pod_specs(declared):
    for resource in declared.kube_objects():
        spec = resource.manifest.get("spec", {})
        if resource.manifest["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            yield resource.manifest["metadata"]["name"], spec["template"]["spec"]


def test_every_declared_pod_is_restricted(local):
    pods = dict(_pod_specs(local))
    assert {"details-v1", "reviews-v1", "productpage-v1", "jaeger", "bookinfo-check"} <= set(pods)
    for name, pod in pods.items():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 10000, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert set(container["resources"]) == {"requests", "limits"}, name
            assert container["imagePullPolicy"] == "Always", name


def test_bookinfo_probes_ask_each_service_its_health(local):
    """GET /health on 9080: details.rb, ratings.js, productpage.py, reviews'
    LibertyRestEndpoint.java (istio/istio samples/bookinfo/src)."""
    for name, pod in _pod_specs(local):
        if name.endswith("-v1") or name.startswith("reviews-"):
            (container,) = pod["containers"]
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert container[probe]["httpGet"] == {"path": "/health", "port": 9080}, name
            assert pod["automountServiceAccountToken"] is False, name


@pytest.mark.parametrize("addon", sorted(set(ADDON_INGRESS) - {"jaeger"}))
def test_addon_policies_select_the_pods_their_charts_render(local, addon):
    """The selector of our NetworkPolicy is the chart's Deployment selector, as Helm renders
    the release the stack declares."""
    (release,) = [
        charts.Release.of(r.inputs) for r in local.of_type(HELM) if r.inputs["name"] == addon
    ]
    (deployment,) = [o for o in rendered(release) if o["kind"] == "Deployment"]
    policy = local.named(f"addons-{addon}-network-policy").manifest
    assert (
        policy["spec"]["podSelector"]["matchLabels"]
        == (deployment["spec"]["selector"]["matchLabels"])
    )
    served = {
        p["containerPort"]
        for c in deployment["spec"]["template"]["spec"]["containers"]
        for p in c.get("ports", [])
    }
    admitted = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert admitted <= served


def test_application_policies_admit_their_port_and_the_data_planes(local):
    policy = local.named("bookinfo-reviews-network-policy").manifest["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app": "reviews"}}
    (rule,) = policy["ingress"]
    assert "from" not in rule  # callers may be pods of other clusters
    assert {p["port"] for p in rule["ports"]} == {9080, *DATA_PLANE_PORTS}


def test_istio_charts_add_their_own_policies(local):
    for release in local.of_type(HELM):
        if release.inputs["chart"] in ("istiod", "cni", "gateway"):
            objects = rendered(charts.Release.of(release.inputs))
            assert [o for o in objects if o["kind"] == "NetworkPolicy"], release.name


def test_network_policies_can_be_left_out(engine):
    declared = engine.run("local", {"security": {"networkPolicies": False}})
    remaining = {r.name for r in declared.of_type(POLICY)}
    # The check Jobs' pods serve nothing, whatever the setting (bookinfo-authz-check: the
    # default-deny set's denied caller, bookinfo.authorization default-deny by default).
    assert remaining == {"bookinfo-check-network-policy", "bookinfo-authz-check-network-policy"}
    for release in declared.of_type(HELM):
        assert "networkPolicy" not in release.inputs["values"].get("global", {}), release.name


def test_digests_pin_the_images_they_name(engine):
    declared = engine.run("local", {"security": {"imageDigests": {DETAILS: DIGEST}}})
    pods = dict(_pod_specs(declared))
    (details,) = pods["details-v1"]["containers"]
    assert details["image"] == f"{DETAILS}@{DIGEST}"
    assert details["imagePullPolicy"] == "IfNotPresent"
    (ratings,) = pods["ratings-v1"]["containers"]
    assert "@" not in ratings["image"] and ratings["imagePullPolicy"] == "Always"


def test_a_malformed_digest_is_refused_by_key(engine):
    with pytest.raises(Exception, match=r"imageDigests.*sha256: and 64 hex digits"):
        engine.run("local", {"security": {"imageDigests": {DETAILS: "latest"}}})


@pytest.mark.parametrize(
    ("stack", "overrides", "cni"),
    [
        ("local", {}, True),
        ("local", {"kubernetes": {"serverless": True}}, False),
        ("local", {"istio": {"cni": False}}, False),
        ("single-cluster", {}, False),
        ("multi-primary", {}, True),
        ("vm", {}, True),
    ],
)
def test_istio_cni_wherever_nodes_run_daemonsets(engine, stack, overrides, cni):
    declared = engine.run(stack, overrides)
    releases = declared.of_type(HELM)
    assert any(r.inputs["chart"] == "cni" for r in releases) == cni
    for istiod in (r for r in releases if r.inputs["chart"] == "istiod"):
        assert ("pilot" in istiod.inputs["values"]) == cni


@pytest.mark.parametrize(("stack", "gke"), [("vm", "istio-cni"), ("multi-primary", "gke-west-")])
def test_gke_clusters_use_the_charts_gke_platform_for_cni(engine, stack, gke):
    """The cni chart's files/profile-platform-gke.yaml: GKE's CNI binary directory and the
    ResourceQuota that lets system-node-critical pods run outside kube-system; not on ACK."""
    cni = [r for r in engine.run(stack).of_type(HELM) if r.inputs["chart"] == "cni"]
    on_gke = [r for r in cni if r.name.startswith(gke)]
    assert on_gke
    for release in cni:
        platform = release.inputs["values"]["global"].get("platform")
        assert platform == ("gke" if release in on_gke else None), release.name
        objects = rendered(charts.Release.of(release.inputs))
        assert bool([o for o in objects if o["kind"] == "ResourceQuota"]) == (release in on_gke)


CLUSTER = "gcp:container/cluster:Cluster"


def _policies(declared) -> list[str]:
    """Policies that admit something: the Jobs' (which serve nothing) are declared whatever
    the setting."""
    return [r.name for r in declared.of_type(POLICY) if r.inputs["spec"]["ingress"]]


@pytest.mark.parametrize(
    ("stack", "overrides", "enforced"),
    [
        ("vm", {}, True),
        ("primary-remote", {}, True),
        ("vm", {"security": {"networkPolicies": False}}, False),
    ],
)
def test_gke_clusters_run_dataplane_v2_where_policies_are_declared(
    engine, stack, overrides, enforced
):
    """GKE enforces NetworkPolicy with Dataplane V2; its default LEGACY_DATAPATH does not
    (terraform-provider-google resource_container_cluster.go `datapath_provider`)."""
    declared = engine.run(stack, overrides)
    clusters = declared.of_type(CLUSTER)
    assert clusters
    for cluster in clusters:
        wanted = "ADVANCED_DATAPATH" if enforced else None
        assert cluster.inputs.get("datapathProvider") == wanted, cluster.name
    assert bool(_policies(declared)) == enforced


@pytest.mark.parametrize(
    "stack", ["single-cluster", "two-cluster-retention", "multi-primary", "multi-primary-ambient"]
)
def test_stacks_with_alibaba_clusters_declare_no_policies_they_would_ignore(engine, stack):
    """ACK here runs Flannel, ACS and ASK no policy add-on: policies are off by default there,
    in every cluster of the stack (its GKE clusters keep the legacy datapath)."""
    declared = engine.run(stack)
    assert _policies(declared) == []
    for release in declared.of_type(HELM):
        assert "networkPolicy" not in release.inputs["values"].get("global", {}), release.name
    assert all("datapathProvider" not in c.inputs for c in declared.of_type(CLUSTER))
