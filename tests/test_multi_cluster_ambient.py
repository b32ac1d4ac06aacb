"""Bookinfo over the ambient multi-cluster mesh (multi-primary-ambient): what Istio 1.31's
ambient multi-cluster asks for (istio.io docs/ambient/install/multicluster, "Current Status
and Limitations"; the failover task; Istio's tests/integration/ambient/multinetwork_test.go
with-waypoints) declared in every cluster, the ingress in one, and the checks that prove
cross-cluster L7 routing and policy. (Gateway API objects are validated against the v1.6.0
CRDs and Istio objects against Istio's by tests/test_schemas.py: this stack file is one of
the committed ones.)"""

from __future__ import annotations

import json

import pytest

from stacks.config import ConfigError
from stacks.config.multi_cluster import MeshBookinfoConfig
from tools.offline.engine import Declared, Resource

CLUSTERS = ("ack-ambient", "gke-ambient")
GLOBAL = {"istio.io/global": "true"}
BOOKINFO_SERVICES = ("details", "ratings", "reviews", "productpage")
VERSION_SERVICES = (
    "reviews-v1",
    "reviews-v2",
    "reviews-v3",
    "productpage-v1",
    "ratings-v1",
    "details-v1",
)


@pytest.fixture
def declared(engine) -> Declared:
    return engine.run("multi-primary-ambient")


def _in(declared: Declared, cluster: str, kind: str, name: str) -> Resource:
    """The object `name` of `kind` the stack applies in `cluster`'s bookinfo namespace."""
    (found,) = [
        r
        for r in declared
        if r.type.endswith(f":{kind}")
        and r.name.startswith(f"{cluster}-")
        and r.manifest.get("metadata", {}).get("name") == name
    ]
    return found


def _checks(job: Resource) -> list[dict]:
    (container,) = job.manifest["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    return json.loads(env["CHECKS"])


def test_every_cluster_has_the_same_waypoint_whose_service_is_global(declared):
    for cluster in CLUSTERS:
        namespace = declared.named(f"{cluster}-bookinfo-namespace").manifest["metadata"]
        assert namespace["labels"] == {
            "istio.io/dataplane-mode": "ambient",
            "istio.io/use-waypoint": "waypoint",
        }
        waypoint = declared.named(f"{cluster}-bookinfo-waypoint")
        assert waypoint.manifest["metadata"]["name"] == "waypoint"
        # `kubectl label svc waypoint istio.io/global=true` of the failover task, declared:
        # istiod's waypoint template puts infrastructure labels on the Service it deploys.
        assert waypoint.manifest["spec"] == {
            "gatewayClassName": "istio-waypoint",
            "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
            "infrastructure": {"labels": GLOBAL},
        }
        app = declared.named(f"{cluster}-bookinfo-productpage-v1")
        assert waypoint.provider_urn == app.provider_urn and cluster in app.provider_urn


def test_every_bookinfo_service_is_global_in_every_cluster(declared):
    for cluster in CLUSTERS:
        for name in (*BOOKINFO_SERVICES, *VERSION_SERVICES):
            labels = _in(declared, cluster, "Service", name).manifest["metadata"]["labels"]
            assert labels["istio.io/global"] == "true", (cluster, name)
        # Only Services carry the label: the ambient profile's serviceScopeConfigs select
        # Services (pilot/pkg/serviceregistry/ambient/services.go matchServiceScope).
        deployment = _in(declared, cluster, "Deployment", "productpage-v1")
        assert "istio.io/global" not in deployment.manifest["metadata"]["labels"]


def test_reviews_split_as_the_stack_file_says_and_ingress_in_one_cluster(declared):
    reviews = {
        cluster: sorted(
            r.manifest["metadata"]["name"]
            for r in declared.of_type("kubernetes:apps/v1:Deployment")
            if r.name.startswith(f"{cluster}-bookinfo-reviews-")
        )
        for cluster in CLUSTERS
    }
    assert reviews == {"ack-ambient": ["reviews-v1"], "gke-ambient": ["reviews-v2"]}
    gateways = [
        r.name
        for r in declared.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
        if r.manifest["spec"]["gatewayClassName"] == "istio"
    ]
    assert gateways == ["ack-ambient-bookinfo-routing-gateway"]
    # The mesh routes (parent: the Service) in every cluster: each waypoint applies its own
    # cluster's objects, and the request meets one waypoint only (istio#60985).
    for cluster in CLUSTERS:
        route = _in(declared, cluster, "HTTPRoute", "reviews").manifest["spec"]
        assert route["parentRefs"] == [
            {"group": "", "kind": "Service", "name": "reviews", "port": 9080}
        ]
        assert route["rules"][0] == {
            "matches": [{"headers": [{"type": "Exact", "name": "end-user", "value": "jason"}]}],
            "backendRefs": [{"name": "reviews-v2", "port": 9080}],
        }


def test_ingress_and_waypoints_reach_other_networks(declared):
    releases = declared.of_type("kubernetes:helm.sh/v3:Release")
    for istiod in (r for r in releases if r.inputs["chart"] == "istiod"):
        env = istiod.inputs["values"]["pilot"]["env"]
        # pilot/pkg/features/ambient.go (release-1.31): an ingress gateway keeps traffic in
        # its network unless this is true; waypoints cross networks by default.
        assert env["AMBIENT_ENABLE_MULTI_NETWORK"] == "true"
        assert env["AMBIENT_ENABLE_MULTI_NETWORK_INGRESS"] == "true"
        assert "AMBIENT_ENABLE_MULTI_NETWORK_WAYPOINT" not in env


def test_l7_policy_admits_only_productpage_in_every_cluster(declared):
    for cluster in CLUSTERS:
        policy = _in(declared, cluster, "AuthorizationPolicy", "reviews-viewer")
        assert policy.manifest["apiVersion"] == "security.istio.io/v1"
        assert policy.manifest["spec"] == {
            "targetRefs": [{"group": "", "kind": "Service", "name": "reviews"}],
            "action": "ALLOW",
            "rules": [
                {
                    "from": [{"source": {"serviceAccounts": ["bookinfo/bookinfo-productpage"]}}],
                    "to": [{"operation": {"methods": ["GET"]}}],
                }
            ],
        }


def test_routing_check_runs_through_the_ingress_after_both_clusters(declared):
    job = declared.named("ack-ambient-bookinfo-check-job")
    checks = _checks(job)
    assert [(c["name"], c["url"], c.get("login"), c["expect"]["only"]) for c in checks] == [
        (
            "routing jason-v2: an anonymous user sees reviews v1",
            "http://bookinfo-gateway-istio.bookinfo/productpage",
            None,
            ["v1"],
        ),
        (
            "routing jason-v2: jason sees reviews v2",
            "http://bookinfo-gateway-istio.bookinfo/productpage",
            "jason",
            ["v2"],
        ),
    ]
    labels = job.manifest["spec"]["template"]["metadata"]["labels"]
    assert labels["istio.io/dataplane-mode"] == "none"  # a client outside the mesh
    waits = declared.waits_for(job)
    # jason's reviews v2 runs in the other cluster: the check waits for it, for the other
    # cluster's waypoint and routes, and for what joins the clusters.
    for needed in (
        "gke-ambient-bookinfo-reviews-v2",
        "gke-ambient-bookinfo-waypoint",
        "gke-ambient-bookinfo-routing-reviews-route",
        "ack-ambient-bookinfo-routing-gateway",
        "ack-ambient-bookinfo-routing-route",
        "gke-ambient-eastwest-gateway",
        "ack-ambient-eastwest-gateway",
    ):
        assert declared.named(needed).urn in waits, needed
    assert {declared.by_urn(u).type for u in waits} >= {"kubernetes:core/v1:Secret"}


def test_policy_check_runs_as_a_mesh_pod_in_every_cluster(declared):
    for cluster in CLUSTERS:
        job = declared.named(f"{cluster}-bookinfo-policy-check-job")
        check, not_admitted = _checks(job)
        assert not_admitted["url"] == "http://productpage.bookinfo:9080/productpage"
        assert check["url"] == "http://reviews.bookinfo:9080/reviews/0"
        assert check["classes"] == [
            {"label": "denied by the waypoint", "status": 403, "body": "RBAC: access denied"}
        ]
        assert check["expect"] == {"only": ["denied by the waypoint"]}
        labels = job.manifest["spec"]["template"]["metadata"]["labels"]
        assert not {"istio.io/dataplane-mode", "sidecar.istio.io/inject"} & set(labels)
        waits = declared.waits_for(job)
        assert declared.named(f"{cluster}-bookinfo-reviews-policy").urn in waits
        assert declared.named(f"{cluster}-bookinfo-waypoint").urn in waits


def test_routes_wait_for_their_waypoint_and_workloads_do_not(declared):
    for cluster in CLUSTERS:
        waypoint = declared.named(f"{cluster}-bookinfo-waypoint")
        for route in declared.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"):
            if route.name.startswith(f"{cluster}-"):
                assert declared.depends_on(route, waypoint), route.name
        for deployment in declared.of_type("kubernetes:apps/v1:Deployment"):
            if deployment.name.startswith(f"{cluster}-bookinfo-"):
                assert not declared.depends_on(deployment, waypoint), deployment.name


def test_outputs_say_where_to_open_the_product_page(declared):
    assert declared.outputs["productpageUrl"].startswith("in ack-ambient: kubectl -n bookinfo ")


def test_without_reviews_versions_the_clusters_split_v1_v2_v3():
    assert MeshBookinfoConfig().reviews_of(["a", "b", "c", "d"]) == {
        "a": ("v1",),
        "b": ("v2",),
        "c": ("v3",),
        "d": ("v1",),
    }
    named = MeshBookinfoConfig.model_validate({"reviewsVersions": {"b": ["v2", "v3"]}})
    assert named.reviews_of(["a", "b"]) == {"a": (), "b": ("v2", "v3")}


def test_sidecar_multi_cluster_stacks_declare_no_bookinfo(engine):
    declared = engine.run("multi-primary")
    assert not [r for r in declared if "bookinfo" in r.name]


SIDECAR = {"dataPlane": "sidecar"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"istio": SIDECAR},
            "bookinfo.enabled is true, but istio.dataPlane is sidecar",
        ),
        (
            {"bookinfo": {"enabled": True, "ingressCluster": "nowhere"}},
            "bookinfo.ingressCluster 'nowhere' is not a cluster of the mesh "
            r"\(ack-ambient, gke-ambient\)",
        ),
        (
            {"bookinfo": {"enabled": True, "reviewsVersions": {"elsewhere": ["v1"]}}},
            "bookinfo.reviewsVersions names 'elsewhere', which is not a cluster",
        ),
        (
            {"bookinfo": {"enabled": True, "reviewsVersions": {"ack-ambient": ["v1", "v1"]}}},
            "bookinfo.reviewsVersions.ack-ambient lists a version twice",
        ),
        (
            {"bookinfo": {"enabled": True, "reviewsVersions": {"ack-ambient": ["v1"]}}},
            r"bookinfo.routing 'jason-v2' sends traffic to reviews \['v2'\], which no cluster",
        ),
        (
            {"bookinfo": {"enabled": True, "reviewsVersions": {}, "routing": "none"}},
            "runs reviews in no cluster",
        ),
        (
            {"bookinfo": {"enabled": True, "routing": "ratings-delay"}},
            "bookinfo.routing 'ratings-delay' injects a fault, which Gateway API's HTTPRoute "
            "cannot express",
        ),
    ],
)
def test_bookinfo_mistakes_are_refused_before_any_resource(engine, overrides, message):
    with pytest.raises(ConfigError, match=message):
        engine.run("multi-primary-ambient", overrides)
    assert engine.monitor.recorded == []


def test_all_bookinfo_mistakes_in_one_message(engine):
    with pytest.raises(ConfigError) as raised:
        engine.run(
            "multi-primary-ambient",
            {
                "bookinfo": {
                    "enabled": True,
                    "ingressCluster": "nowhere",
                    "reviewsVersions": {"elsewhere": ["v3"]},
                    "routing": "jason-v2",
                }
            },
        )
    message = str(raised.value)
    assert "ingressCluster 'nowhere'" in message
    assert "names 'elsewhere'" in message
    assert "sends traffic to reviews ['v1', 'v2']" in message
