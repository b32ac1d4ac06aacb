"""What every Alibaba Cloud scenario starts from: the provider for its region, and the
translation of a node-pool config to the ACK component's spec."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_alicloud as alicloud

from components.alicloud.ack import NodePoolSpec
from stacks.config import NodePoolConfig


def alibaba_provider(region: str) -> alicloud.Provider:
    """Credentials come from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET); the
    region is the stack's, so one machine can deploy stacks in several regions."""
    return alicloud.Provider("alicloud", region=region)


def node_login_keys(keys: Mapping[str, pulumi.Output[str] | None]) -> dict[str, pulumi.Output]:
    """The `nodeLoginKeys` output (secret): each ACK cluster's SSH private key the stack made,
    by cluster; nothing when every cluster uses a key pair of the user's."""
    made = {name: key for name, key in keys.items() if key is not None}
    return {"nodeLoginKeys": pulumi.Output.secret(made)} if made else {}


def node_pool_spec(pool: NodePoolConfig) -> NodePoolSpec:
    return NodePoolSpec(
        instance_types=tuple(pool.instance_types),
        size=pool.size,
        image_type=pool.image_type,
        system_disk_category=pool.system_disk_category,
        system_disk_size_gb=pool.system_disk_size_gb,
        key_pair=pool.key_pair,
    )
