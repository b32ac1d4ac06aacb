"""pulumi_alicloud as this floor uses it: of its `ecs`, `vpc`, `cs` and `slb` packages, only the
modules of the resources (and the one data source) it uses are loaded (the others stay
unloaded: about 0.15 s and 18 MB less; see meshstack/sdk_modules.py). Import `alicloud` from
here, not `pulumi_alicloud` itself."""

import pulumi_alicloud as alicloud

from meshstack.sdk_modules import load_only

load_only(
    "pulumi_alicloud.ecs",
    ("ecs_key_pair", "eip_address", "eip_association", "security_group", "security_group_rule"),
)
load_only("pulumi_alicloud.vpc", ("nat_gateway", "network", "snat_entry", "switch"))
load_only("pulumi_alicloud.cs", ("get_cluster_credential", "managed_kubernetes", "node_pool"))
load_only("pulumi_alicloud.slb", ("application_load_balancer",))

__all__ = ["alicloud"]
