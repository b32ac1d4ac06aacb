"""The `multi-cluster` scenario (seed 001, section 1): each model over a list of clusters.

`multi-primary` is ACK + GKE on two networks, `primary-remote` is GKE on one network; the
other models are the same stacks with their cluster lists changed.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tools.benchmark import scaled_clusters
from tools.offline.engine import Declared, Resource
from tools.offline.fakes import (
    FAKE_EXTERNAL_ADDRESS,
    FAKE_GKE_ENDPOINT,
    FAKE_INTERNAL_ADDRESS,
    FAKE_LB_IP,
    FAKE_READER_TOKEN,
    intranet_endpoint,
    public_endpoint,
)
from tools.stack_file import stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
SECURITY_RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule"
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def clusters_of(stack: str) -> list[dict[str, Any]]:
    return [dict(c) for c in stack_config(stack)["meshstack:clusters"]]


def provider(declared: Declared, cluster: str) -> Resource:
    return declared.named(f"{cluster}-kubernetes")


def on(declared: Declared, cluster: str, type_: str) -> list[Resource]:
    urn = provider(declared, cluster).urn
    return [r for r in declared.of_type(type_) if r.provider_urn == urn]


def charts(declared: Declared, cluster: str) -> dict[str, Resource]:
    return {r.inputs["name"]: r for r in on(declared, cluster, RELEASE)}


def remote_secrets(declared: Declared, cluster: str) -> dict[str, dict[str, Any]]:
    """Kubeconfigs held in `cluster` for its istiod, by the cluster they read."""
    found = {}
    for secret in on(declared, cluster, SECRET):
        labels = secret.inputs["metadata"].get("labels") or {}
        if labels.get("istio/multiCluster") == "true":
            assert "stringData" in secret.secret_inputs
            found |= {read: yaml.safe_load(c) for read, c in secret.inputs["stringData"].items()}
    return found


def istio_kinds(declared: Declared, cluster: str) -> set[tuple[str, str]]:
    urn = provider(declared, cluster).urn
    return {
        (r.manifest["kind"], r.manifest["metadata"]["name"])
        for r in declared.istio_objects()
        if r.provider_urn == urn
    }


# --- multi-primary across clouds, two networks ------------------------------------------------


@pytest.fixture
def mixed(engine) -> Declared:
    return engine.run("multi-primary")


def test_mixed_mesh_runs_istiod_in_both_clouds_on_their_own_networks(mixed):
    assert mixed.outputs["model"] == {
        "network": "multi-network",
        "controlPlane": "multi-primary",
        "mesh": "single mesh, one root of trust",
        "tenancy": "namespace",
    }
    assert len(mixed.of_type("alicloud:cs/managedKubernetes:ManagedKubernetes")) == 1
    assert len(mixed.of_type("gcp:container/cluster:Cluster")) == 1
    for cluster, network in (("ack-west", "alibaba"), ("gke-west", "google")):
        istiod = charts(mixed, cluster)["istiod"].inputs["values"]
        assert "profile" not in istiod  # Istio's default profile (no chart profile file)
        assert istiod["global"]["meshID"] == "mesh1"
        assert istiod["global"]["multiCluster"] == {"clusterName": cluster}
        assert istiod["global"]["network"] == network
        assert "externalIstiod" not in istiod["global"]  # no remotes to serve
        (namespace,) = [
            n
            for n in on(mixed, cluster, NAMESPACE)
            if n.manifest["metadata"]["name"] == "istio-system"
        ]
        assert namespace.manifest["metadata"]["labels"] == {"topology.istio.io/network": network}


def test_mixed_mesh_has_one_root_and_an_intermediate_and_cacerts_per_cluster(mixed):
    assert len(mixed.of_type("tls:index/selfSignedCert:SelfSignedCert")) == 1
    intermediates = mixed.of_type("tls:index/locallySignedCert:LocallySignedCert")
    assert len(intermediates) == 2
    for cluster in ("ack-west", "gke-west"):
        (cacerts,) = [
            s for s in on(mixed, cluster, SECRET) if s.inputs["metadata"]["name"] == "cacerts"
        ]
        assert "stringData" in cacerts.secret_inputs
        assert mixed.depends_on(charts(mixed, cluster)["istiod"], cacerts)


def test_each_istiod_reads_the_other_cloud_through_its_public_api_server(mixed):
    in_gke = remote_secrets(mixed, "gke-west")
    in_ack = remote_secrets(mixed, "ack-west")
    assert set(in_gke) == {"ack-west"} and set(in_ack) == {"gke-west"}
    ack_server = in_gke["ack-west"]["clusters"][0]["cluster"]["server"]
    assert ack_server == public_endpoint("ack-west-cluster")  # not the VPC-only endpoint
    assert in_ack["gke-west"]["clusters"][0]["cluster"]["server"] == f"https://{FAKE_GKE_ENDPOINT}"
    for kubeconfig in (*in_gke.values(), *in_ack.values()):
        assert kubeconfig["users"][0]["user"] == {"token": FAKE_READER_TOKEN}
    assert mixed.outputs["istiodReads"] == ["ack-west reads gke-west", "gke-west reads ack-west"]


def test_every_cluster_exposes_its_services_to_the_other_network_publicly(mixed):
    for cluster, network in (("ack-west", "alibaba"), ("gke-west", "google")):
        gateway = charts(mixed, cluster)["istio-eastwestgateway"].inputs["values"]
        assert gateway["networkGateway"] == network
        assert gateway["service"]["type"] == "LoadBalancer"
        # Across clouds the gateway must be reachable from the internet.
        assert gateway["service"]["annotations"] == {}
        assert istio_kinds(mixed, cluster) >= {("Gateway", "cross-network-gateway")}
        assert ("Gateway", "istiod-gateway") not in istio_kinds(mixed, cluster)
    # GKE's is a regional public address reserved up front; ACK's is read from its Service.
    assert mixed.outputs["eastWestGatewayAddresses"] == {
        "ack-west": FAKE_LB_IP,
        "gke-west": FAKE_EXTERNAL_ADDRESS,
    }
    gke = charts(mixed, "gke-west")["istio-eastwestgateway"].inputs["values"]
    assert gke["service"]["loadBalancerIP"] == FAKE_EXTERNAL_ADDRESS
    (address,) = mixed.of_type("gcp:compute/address:Address")
    assert address.inputs["addressType"] == "EXTERNAL" and "subnetwork" not in address.inputs


@pytest.mark.parametrize("n", [2, 6])
def test_ack_clusters_share_one_security_group_whose_rules_grow_linearly(engine, n):
    ack = clusters_of("multi-primary")[0]
    clusters = [
        {
            **ack,
            "name": f"ack-{i}",
            "nodeCidr": f"192.168.{16 * i}.0/20",
            "podCidr": f"10.{20 + i}.0.0/16",
            "serviceCidr": f"172.16.{16 * i}.0/20",
        }
        for i in range(n)
    ]
    declared = engine.run("multi-primary", {"clusters": clusters})
    (group,) = declared.of_type("alicloud:ecs/securityGroup:SecurityGroup")
    assert group.inputs["securityGroupName"] == "mesh1-sg"
    assert group.inputs["innerAccessPolicy"] == "Accept"  # nodes of every cluster
    for cluster in declared.of_type("alicloud:cs/managedKubernetes:ManagedKubernetes"):
        assert cluster.inputs["securityGroupId"] == f"{group.name}-id"
    rules = declared.of_type(SECURITY_RULE)
    # ICMP, Alibaba's service range, and each cluster's pods: N + 2.
    assert len(rules) == n + 2
    assert {r.inputs.get("cidrIp") for r in rules} >= {c["podCidr"] for c in clusters}


def test_within_one_cloud_the_api_server_is_read_inside_the_vpc(engine):
    clusters = clusters_of("multi-primary")
    second_ack = {
        **clusters[0],
        "name": "ack-east",
        "zone": "us-west-1b",
        "nodeCidr": "192.168.16.0/20",
        "podCidr": "10.11.0.0/16",
        "serviceCidr": "172.16.16.0/20",
    }
    declared = engine.run("multi-primary", {"clusters": [*clusters, second_ack]})
    in_east = remote_secrets(declared, "ack-east")
    in_gke = remote_secrets(declared, "gke-west")
    assert in_east["ack-west"]["clusters"][0]["cluster"]["server"] == intranet_endpoint(
        "ack-west-cluster"
    )
    assert in_gke["ack-west"]["clusters"][0]["cluster"]["server"] == public_endpoint(
        "ack-west-cluster"
    )


# --- primary-remote on one network -------------------------------------------------------------


@pytest.fixture
def primary_remote(engine) -> Declared:
    return engine.run("primary-remote")


def test_only_the_primary_runs_istiod_and_serves_the_remote(primary_remote):
    primary = charts(primary_remote, "gke-primary")
    remote = charts(primary_remote, "gke-remote")
    assert primary["istiod"].inputs["values"]["global"]["externalIstiod"] is True
    assert "profile" not in primary["istiod"].inputs["values"]
    # Only what the remote templates read (tests/test_helm_releases.py renders them): the
    # primary's gateway as istiod, and the injection path naming this cluster and network.
    assert remote["istiod"].inputs["values"] == {
        "profile": "remote",
        "global": {"remotePilotAddress": FAKE_INTERNAL_ADDRESS},
        "istiodRemote": {"injectionPath": "/inject/cluster/gke-remote/net/network1"},
    }
    # The primary's gateway address is reserved in its subnet before anything exists: the
    # remote's control plane does not wait for the gateway's load balancer.
    (address,) = primary_remote.of_type("gcp:compute/address:Address")
    assert address.inputs["addressType"] == "INTERNAL"
    assert address.inputs["subnetwork"] == "mesh1-gcp-gke-primary-subnet-id"
    gateway = primary["istio-eastwestgateway"]
    assert gateway.inputs["values"]["service"]["loadBalancerIP"] == FAKE_INTERNAL_ADDRESS
    assert not primary_remote.depends_on(remote["istiod"], gateway)
    assert remote["istio-base"].inputs["values"] == {"profile": "remote"}
    assert "istio-ingressgateway" not in remote and "istio-eastwestgateway" not in remote
    # The remote has no CA of its own: its primary signs its workloads' certificates.
    assert not [
        s
        for s in on(primary_remote, "gke-remote", SECRET)
        if s.inputs["metadata"]["name"] == "cacerts"
    ]
    assert len(primary_remote.of_type("tls:index/locallySignedCert:LocallySignedCert")) == 1


def test_the_remote_names_its_control_plane_cluster(primary_remote):
    (namespace,) = [
        n
        for n in on(primary_remote, "gke-remote", NAMESPACE)
        if n.manifest["metadata"]["name"] == "istio-system"
    ]
    assert namespace.manifest["metadata"]["annotations"] == {
        "topology.istio.io/controlPlaneClusters": "gke-primary"
    }


def test_istiod_is_exposed_on_an_internal_gateway_and_no_services_are(primary_remote):
    gateway = charts(primary_remote, "gke-primary")["istio-eastwestgateway"].inputs["values"]
    assert gateway["service"]["annotations"] == {"networking.gke.io/load-balancer-type": "Internal"}
    # One network: the gateway still carries it, as Istio's primary-remote install does.
    assert gateway["networkGateway"] == "network1"
    kinds = istio_kinds(primary_remote, "gke-primary")
    assert {("Gateway", "istiod-gateway"), ("VirtualService", "istiod-vs")} <= kinds
    assert ("Gateway", "cross-network-gateway") not in kinds
    # Mesh-wide mTLS is the primary's: it is the config cluster.
    assert ("PeerAuthentication", "default") in kinds
    assert istio_kinds(primary_remote, "gke-remote") == set()


def test_only_the_primary_holds_a_remote_secret(primary_remote):
    assert set(remote_secrets(primary_remote, "gke-primary")) == {"gke-remote"}
    assert remote_secrets(primary_remote, "gke-remote") == {}


def test_remote_workloads_wait_for_the_way_to_their_istiod(primary_remote):
    (deployment,) = on(primary_remote, "gke-remote", DEPLOYMENT)
    upstream = primary_remote.upstream(deployment)
    secret = primary_remote.named("membership-in-gke-primary")
    exposure = primary_remote.named("gke-primary-eastwest-istiod-vs")
    assert {secret.urn, exposure.urn} <= upstream
    assert primary_remote.named("gke-primary-istio-istiod").urn in upstream


def test_gke_pods_reach_each_other_across_clusters(primary_remote):
    rule = primary_remote.named("mesh1-mesh-pods")
    assert sorted(rule.inputs["sourceRanges"]) == ["10.132.0.0/14", "10.140.0.0/14"]
    assert rule.inputs["targetTags"] == ["mesh1-node"]


def test_each_gke_cluster_has_its_own_subnet_and_ranges(primary_remote):
    subnets = {
        s.inputs["name"]: s for s in primary_remote.of_type("gcp:compute/subnetwork:Subnetwork")
    }
    assert set(subnets) == {"mesh1-gcp-gke-primary", "mesh1-gcp-gke-remote"}
    assert subnets["mesh1-gcp-gke-remote"].inputs["ipCidrRange"] == "10.128.16.0/20"


# --- any N ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "remotes"), [(4, 0), (4, 2), (6, 5)])
def test_remote_secrets_are_one_per_primary_and_other_cluster(engine, n, remotes):
    declared = engine.run("primary-remote", {"clusters": scaled_clusters(n, remotes)})
    primaries = n - remotes
    held = {f"c{i}": remote_secrets(declared, f"c{i}") for i in range(n)}
    assert sum(len(s) for s in held.values()) == primaries * (n - 1)
    for i in range(n):
        expected = {f"c{j}" for j in range(n) if j != i} if i == 0 or i > remotes else set()
        assert set(held[f"c{i}"]) == expected
    # One Secret per reading primary, whatever N.
    holders = [
        s
        for s in declared.of_type(SECRET)
        if s.inputs["metadata"]["name"] == "istio-remote-secrets"
    ]
    assert len(holders) == (primaries if n > 1 else 0)
    # One reader token per cluster some istiod reads (a lone primary is read by none).
    tokens = [
        s
        for s in declared.of_type(SECRET)
        if s.inputs.get("type") == "kubernetes.io/service-account-token"
    ]
    assert len(tokens) == (n if primaries > 1 else n - 1)
    assert len(declared.of_type("tls:index/locallySignedCert:LocallySignedCert")) == primaries


def test_all_ack_multi_primary_on_one_network_needs_no_gateway(engine):
    ack = clusters_of("multi-primary")[0]
    second = {
        **ack,
        "name": "ack-east",
        "zone": "us-west-1b",
        "nodeCidr": "192.168.16.0/20",
        "podCidr": "10.11.0.0/16",
        "serviceCidr": "172.16.16.0/20",
    }
    declared = engine.run("multi-primary", {"clusters": [ack, second]})
    assert declared.of_type("gcp:container/cluster:Cluster") == []
    assert declared.outputs["model"]["network"] == "single network"
    assert not [r for r in declared.of_type(RELEASE) if r.inputs["name"] == "istio-eastwestgateway"]
    # One group holds both clusters' nodes and admits both pod ranges.
    assert len(declared.of_type("alicloud:ecs/securityGroup:SecurityGroup")) == 1
    pods = {r.inputs.get("cidrIp") for r in declared.of_type(SECURITY_RULE)}
    assert {"10.11.0.0/16", ack["podCidr"]} <= pods
    for reader, read in (("ack-west", "ack-east"), ("ack-east", "ack-west")):
        server = remote_secrets(declared, reader)[read]["clusters"][0]["cluster"]["server"]
        assert server == intranet_endpoint(f"{read}-cluster")


def test_a_remote_on_another_network_gets_its_own_gateway_pods(engine):
    clusters = clusters_of("primary-remote")
    clusters[1] = {**clusters[1], "network": "network2"}
    declared = engine.run("primary-remote", {"clusters": clusters})
    primary = istio_kinds(declared, "gke-primary")
    assert {("Gateway", "istiod-gateway"), ("Gateway", "cross-network-gateway")} <= primary
    # The remote runs gateway pods; their configuration is the primary's.
    assert istio_kinds(declared, "gke-remote") == set()
    remote = charts(declared, "gke-remote")
    assert remote["istio-eastwestgateway"].inputs["values"]["networkGateway"] == "network2"
    assert remote["istiod"].inputs["values"]["istiodRemote"] == {
        "injectionPath": "/inject/cluster/gke-remote/net/network2"
    }
