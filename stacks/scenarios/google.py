"""What every Google Cloud scenario starts from: the provider for the stack's project and
region, and the GKE cluster built from its config (once, for every scenario that has one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi

from meshstack.gcp.apis import ProjectApis, ProjectApisArgs
from meshstack.gcp.firewall import Firewall, FirewallArgs, FirewallRule
from meshstack.gcp.gke import GkeCluster, GkeClusterArgs, GkeNodePoolSpec, control_plane_to_nodes
from meshstack.gcp.network import (
    POD_RANGE,
    SERVICE_RANGE,
    GcpNetwork,
    GcpNetworkArgs,
    GcpSubnetSpec,
)
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


class GkeMember(GkeSettings, Protocol):
    """A GKE cluster of a mesh's config (multi-cluster's, external-control-plane's)."""

    @property
    def name(self) -> str: ...
    @property
    def zone(self) -> str: ...
    @property
    def node_cidr(self) -> str: ...
    @property
    def pod_cidr(self) -> str: ...
    @property
    def service_cidr(self) -> str: ...
    @property
    def gke_node_pool(self) -> GkeNodePoolConfig: ...


@dataclass(frozen=True)
class GkeFloor:
    cloud: gcp.Provider
    network: GcpNetwork
    clusters: dict[str, GkeCluster]

    def webhook_firewall(self, name: str, node_cidr: str) -> Firewall:
        """For a cluster that runs istiod (istiod_webhook_rule)."""
        return Firewall(
            name,
            FirewallArgs(
                provider=self.cloud,
                network=self.network.network.id,
                rules=[istiod_webhook_rule(name, self.clusters[name], node_cidr)],
            ),
        )


def gke_floor(
    mesh_id: str,
    config: GcpConfig,
    members: Sequence[GkeMember],
    *,
    labels: dict[str, str],
    network_policies: bool,
) -> GkeFloor:
    """One VPC with a subnet per cluster, the pods of every cluster reaching the others'
    (one network: no gateway between), and a GKE cluster per member."""
    cloud = google_provider(config)
    apis = ProjectApis("apis", ProjectApisArgs(cloud, services=list(GKE_APIS.values()))).services
    network = GcpNetwork(
        f"{mesh_id}-gcp",
        GcpNetworkArgs(
            region=config.region,
            subnets=[
                GcpSubnetSpec(
                    cidr=c.node_cidr, pod_cidr=c.pod_cidr, service_cidr=c.service_cidr, role=c.name
                )
                for c in members
            ],
        ),
        pulumi.ResourceOptions(provider=cloud, depends_on=[apis[GKE_APIS["compute"]]]),
    )
    node_tag = f"{mesh_id}-node"
    if len(members) > 1:
        Firewall(
            f"{mesh_id}-mesh",
            FirewallArgs(
                provider=cloud,
                network=network.network.id,
                rules=[
                    FirewallRule(
                        name="pods",
                        description="mesh traffic between the pods of the mesh's GKE clusters",
                        target_tags=[node_tag],
                        source_ranges=[c.pod_cidr for c in members],
                    )
                ],
            ),
        )
    clusters = {
        c.name: gke_cluster(
            c.name,
            c,
            cloud=cloud,
            network=network,
            subnet=c.name,
            zone=c.zone,
            node_pool=c.gke_node_pool,
            node_tag=node_tag,
            labels=labels,
            apis=apis,
            network_policies=network_policies,
        )
        for c in members
    }
    return GkeFloor(cloud, network, clusters)
