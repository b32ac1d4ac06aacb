"""What every Google Cloud scenario starts from: the provider for the stack's project and
region, and the GKE cluster built from its config (once, for every scenario that has one)."""

from __future__ import annotations

from typing import Protocol

import pulumi

from meshstack.gcp.firewall import FirewallRule
from meshstack.gcp.gke import GkeCluster, GkeClusterArgs, GkeNodePoolSpec, control_plane_to_nodes
from meshstack.gcp.network import POD_RANGE, SERVICE_RANGE, GcpNetwork
from meshstack.gcp.sdk import gcp
from meshstack.istio.eastwest import WEBHOOK_PORT
from stacks.config import GcpConfig, GkeNodePoolConfig

# The APIs a GKE cluster of ours needs: its network, GKE itself, and its node service account
# with its project role (IAM, and Cloud Resource Manager for the project's IAM policy).
GKE_APIS = {
    "compute": "compute.googleapis.com",
    "container": "container.googleapis.com",
    "iam": "iam.googleapis.com",
    "resourcemanager": "cloudresourcemanager.googleapis.com",
}


def gke_prerequisites(apis: dict[str, gcp.projects.Service]) -> list[gcp.projects.Service]:
    """What a GKE cluster (and its node account and role) waits for."""
    return [apis[GKE_APIS[k]] for k in ("container", "iam", "resourcemanager")]


def google_provider(config: GcpConfig) -> gcp.Provider:
    """Credentials come from the environment (application-default login or
    GOOGLE_CREDENTIALS); no project set means the provider's own default."""
    return gcp.Provider("gcp", project=config.project, region=config.region, zone=config.zone)


def gke_node_pool_spec(pool: GkeNodePoolConfig) -> GkeNodePoolSpec:
    return GkeNodePoolSpec(
        machine_type=pool.machine_type,
        node_count=pool.node_count,
        disk_size_gb=pool.disk_size_gb,
        disk_type=pool.disk_type,
        spot=pool.spot,
    )


class GkeSettings(Protocol):
    """What the vm stack's `cluster` and a multi-cluster stack's GKE cluster both say."""

    @property
    def release_channel(self) -> str: ...
    @property
    def kubernetes_version(self) -> str | None: ...
    @property
    def deletion_protection(self) -> bool: ...
    @property
    def authorized_networks(self) -> list[str] | None: ...


def gke_cluster(
    name: str,
    settings: GkeSettings,
    *,
    cloud: gcp.Provider,
    network: GcpNetwork,
    subnet: str,
    zone: str,
    node_pool: GkeNodePoolConfig,
    node_tag: str,
    labels: dict[str, str],
    apis: dict[str, gcp.projects.Service],
    network_policies: bool,
) -> GkeCluster:
    """A zonal GKE cluster on its subnet of `network` (VPC-native, private nodes), enforcing
    NetworkPolicies when the stack declares them."""
    return GkeCluster(
        name,
        GkeClusterArgs(
            cluster_name=name,
            zone=zone,
            network=network.network.id,
            subnetwork=network.subnetworks[subnet].id,
            pod_range_name=POD_RANGE,
            service_range_name=SERVICE_RANGE,
            release_channel=settings.release_channel,
            kubernetes_version=settings.kubernetes_version,
            node_pool=gke_node_pool_spec(node_pool),
            node_tags=[node_tag],
            deletion_protection=settings.deletion_protection,
            authorized_networks=settings.authorized_networks,
            labels=labels,
            network_policies=network_policies,
        ),
        pulumi.ResourceOptions(provider=cloud, depends_on=gke_prerequisites(apis)),
    )


def istiod_webhook_rule(cluster_name: str, cluster: GkeCluster, node_cidr: str) -> FirewallRule:
    """For a GKE cluster that runs istiod: its API server calls istiod's injection and
    validation webhooks (failurePolicy Fail) on the pod's port 15017 (the istiod chart's
    service.yaml: port 443, targetPort 15017; GKE's API server routes to the endpoint, not the
    ClusterIP: `--enable-aggregator-routing`, open-policy-agent/gatekeeper#499). A remote
    cluster needs none: its webhooks point at the primary's east-west gateway
    (remote-istiod-endpointslices.yaml: remotePilotAddress, port 15017), a load balancer its
    API server calls out to."""
    return control_plane_to_nodes(
        "istiod-webhooks",
        cluster_name,
        node_cidr=node_cidr,
        node_account=cluster.node_account.email,
        tcp_ports=[WEBHOOK_PORT],
        purpose="istiod's webhooks",
    )
