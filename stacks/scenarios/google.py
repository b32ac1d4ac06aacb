"""What every Google Cloud scenario starts from: the provider for the stack's project and
region, and the translation of a node-pool config to the GKE component's spec."""

from __future__ import annotations

import pulumi_gcp as gcp

from components.gcp.gke import GkeNodePoolSpec
from stacks.config import GcpConfig, GkeNodePoolConfig


def google_provider(config: GcpConfig) -> gcp.Provider:
    """Credentials come from the environment (application-default login or
    GOOGLE_CREDENTIALS); no project set means the provider's own default."""
    return gcp.Provider("gcp", project=config.project, region=config.region, zone=config.zone)


def gke_node_pool_spec(pool: GkeNodePoolConfig) -> GkeNodePoolSpec:
    return GkeNodePoolSpec(
        pool.machine_type, pool.node_count, pool.disk_size_gb, pool.disk_type, pool.spot
    )
