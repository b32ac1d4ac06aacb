"""What every Alibaba Cloud scenario starts from: the provider for its region, and the ACK
cluster of a mesh built from its config (once, for every scenario that has one)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from meshstack.alicloud.ack import AckCluster, AckClusterArgs, NodePoolSpec
from meshstack.alicloud.credentials import AlibabaCredentials
from meshstack.alicloud.network import AlicloudNetwork
from meshstack.alicloud.sdk import alicloud
from stacks.config import ClusterInMesh, NodePoolConfig
from stacks.program import raw_config


def alibaba_provider(region: str) -> alicloud.Provider:
    """With the credentials the catalog and ASM's client use (the stack's `alicloud:` secrets,
    else ALIBABA_CLOUD_* in the environment: an explicit provider reads no config itself); the
    region is the stack's, so one machine can deploy stacks in several regions."""
    credentials = AlibabaCredentials.of(raw_config())
    return alicloud.Provider("alicloud", region=region, **credentials.provider_args())


def node_login_keys(keys: Mapping[str, pulumi.Output[str] | None]) -> dict[str, pulumi.Output]:
    """The `nodeLoginKeys` output (secret): each ACK cluster's SSH private key the stack made,
    by cluster; nothing when every cluster uses a key pair of the user's."""
    made = {name: key for name, key in keys.items() if key is not None}
    return {"nodeLoginKeys": pulumi.Output.secret(made)} if made else {}


def node_pool_spec(pool: NodePoolConfig) -> NodePoolSpec:
    return NodePoolSpec(
        instance_types=list(pool.instance_types),
        size=pool.size,
        image_type=pool.image_type,
        system_disk_category=pool.system_disk_category,
        system_disk_size_gb=pool.system_disk_size_gb,
        key_pair=pool.key_pair,
    )


def ack_cluster(
    cluster: ClusterInMesh,
    *,
    cloud: alicloud.Provider,
    network: AlicloudNetwork,
    vswitch: int,
    security_group_id: pulumi.Input[str],
    node_pool: NodePoolConfig,
    kubernetes_version: str,
    tags: dict[str, str],
    cluster_spec: str = "ack.pro.small",
) -> AckCluster:
    """An ACK cluster of a mesh on its own vSwitch of `network`, waiting for that vSwitch's
    SNAT entry only (its nodes pull images through it)."""
    return AckCluster(
        cluster.name,
        AckClusterArgs(
            cluster_name=cluster.name,
            kubernetes_version=kubernetes_version,
            vswitch_id=network.vswitches[vswitch].id,
            security_group_id=security_group_id,
            pod_cidr=cluster.pod_cidr,
            service_cidr=cluster.service_cidr,
            node_pool=node_pool_spec(node_pool),
            cluster_spec=cluster_spec,
            api_server_public=cluster.api_server_public,
            deletion_protection=cluster.deletion_protection,
            tags=tags,
        ),
        pulumi.ResourceOptions(provider=cloud, depends_on=[network.snat_entries[vswitch]]),
    )
