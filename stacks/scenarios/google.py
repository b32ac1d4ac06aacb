"""What every Google Cloud scenario starts from: the provider for the stack's project and
region, and the translation of a node-pool config to the GKE component's spec."""

from __future__ import annotations

import pulumi_gcp as gcp

from components.gcp.gke import GkeNodePoolSpec
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
        pool.machine_type, pool.node_count, pool.disk_size_gb, pool.disk_type, pool.spot
    )
