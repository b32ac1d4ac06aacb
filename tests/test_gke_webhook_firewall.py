"""GKE's control plane reaches istiod's webhooks wherever a GKE cluster runs istiod.

GKE's own rule for private nodes admits the control plane on TCP 443 and 10250 only
(cloud.google.com/kubernetes-engine/docs/concepts/firewall-rules, `gke-…-master`); istiod's
injection webhook (failurePolicy Fail) is served on the pod's port 15017 (the istiod chart's
templates/service.yaml: port 443, targetPort 15017). A remote cluster runs no istiod: its
webhooks point at the primary's east-west gateway (templates/remote-istiod-endpointslices.yaml),
so it gets no such rule.
"""

from __future__ import annotations

import pytest

from meshstack.gcp.firewall import FirewallRule
from tools.offline.engine import Declared, Resource

FIREWALL = "gcp:compute/firewall:Firewall"
WEBHOOK = [{"protocol": "tcp", "ports": ["15017"]}]
# GKE clusters of each stack with GKE, and whether each runs istiod.
GKE_CLUSTERS = {
    "vm": {"istio-vm-lab": True},
    "primary-remote": {"gke-primary": True, "gke-remote": False},
    "multi-primary": {"gke-west": True},
    "multi-primary-ambient": {"gke-ambient": True},
    # The external cluster's own istiod (it injects the gateway); the mesh's remotes run none.
    "external-control-plane": {"gke-external": True, "gke-config": False, "gke-remote": False},
}


def node_account(declared: Declared, cluster: str) -> str:
    (pool,) = [
        r
        for r in declared.of_type("gcp:container/nodePool:NodePool")
        if r.inputs["cluster"].endswith(f"/clusters/{cluster}")
    ]
    return pool.inputs["nodeConfig"]["serviceAccount"]


def node_subnet(declared: Declared, cluster: Resource) -> str:
    """The primary range of the cluster's subnet (where a Private Service Connect control
    plane has its endpoint)."""
    subnets = {
        f"{s.name}-id": s.inputs["ipCidrRange"]
        for s in declared.of_type("gcp:compute/subnetwork:Subnetwork")
    }
    return subnets[cluster.inputs["subnetwork"]]


@pytest.mark.parametrize("stack", sorted(GKE_CLUSTERS))
def test_every_gke_cluster_running_istiod_admits_its_control_plane_on_15017(engine, stack):
    declared = engine.run(stack)
    clusters = {c.inputs["name"]: c for c in declared.of_type("gcp:container/cluster:Cluster")}
    assert set(clusters) == set(GKE_CLUSTERS[stack])
    (network,) = declared.of_type("gcp:compute/network:Network")
    for name, runs_istiod in GKE_CLUSTERS[stack].items():
        account = node_account(declared, name)
        admitted = [
            r.inputs
            for r in declared.of_type(FIREWALL)
            if account in (r.inputs.get("targetServiceAccounts") or [])
            or r.inputs["name"] == f"{name}-istiod-webhooks"
        ]
        if not runs_istiod:
            assert admitted == [], name
            continue
        (rule,) = admitted
        assert rule["name"] == f"{name}-istiod-webhooks"
        assert rule["direction"] == "INGRESS"
        assert rule["network"] == f"{network.name}-id"
        assert rule["allows"] == WEBHOOK
        assert rule["sourceRanges"] == [node_subnet(declared, clusters[name])]
        # Its own nodes only (by their service account), not other clusters' with the tag.
        assert rule["targetServiceAccounts"] == [account]
        assert "targetTags" not in rule and "sourceTags" not in rule


@pytest.mark.parametrize(
    "targets",
    [
        {},  # no target: compute.Firewall applies it to every instance of the network
        {"target_tags": ["n"], "target_service_accounts": ["a@p.iam.gserviceaccount.com"]},
        {"target_service_accounts": ["a@p.iam.gserviceaccount.com"], "source_tags": ["vm"]},
    ],
    ids=["none", "tags-and-accounts", "accounts-with-source-tags"],
)
def test_a_rule_names_one_kind_of_target(targets):
    # pulumi-gcp compute.Firewall: targetServiceAccounts cannot be used at the same time as
    # targetTags or sourceTags.
    with pytest.raises(ValueError, match=r"firewall rule r: .*(target|service accounts)"):
        FirewallRule("r", "d", source_ranges=["10.0.0.0/8"], **targets)
