"""What every Alibaba Cloud scenario starts from: the provider for its region, and the
translation of a node-pool config to the ACK component's spec."""

from __future__ import annotations

import pulumi_alicloud as alicloud

from components.alicloud.ack import NodePoolSpec
from stacks.config import NodePoolConfig


def alibaba_provider(region: str) -> alicloud.Provider:
    """Credentials come from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET); the
    region is the stack's, so one machine can deploy stacks in several regions."""
    return alicloud.Provider("alicloud", region=region)


def node_pool_spec(pool: NodePoolConfig) -> NodePoolSpec:
    return NodePoolSpec(
        instance_types=tuple(pool.instance_types),
        size=pool.size,
        image_type=pool.image_type,
        system_disk_category=pool.system_disk_category,
        system_disk_size_gb=pool.system_disk_size_gb,
        key_pair=pool.key_pair,
    )
