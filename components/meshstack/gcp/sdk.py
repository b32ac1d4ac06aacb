"""pulumi_gcp as this floor uses it: of `pulumi_gcp.compute` and `pulumi_gcp.container`, only
the modules of the resources it creates are loaded (the other 278 and 17 stay unloaded: about
0.5 s and 30 MB less; see meshstack/sdk_modules.py). Import `gcp` from here, not `pulumi_gcp`
itself. The other packages it uses hold few modules."""

import pulumi_gcp as gcp

from meshstack.sdk_modules import load_only

load_only(
    "pulumi_gcp.compute",
    ("address", "firewall", "instance", "network", "router", "router_nat", "subnetwork"),
)
load_only("pulumi_gcp.container", ("cluster", "node_pool"))

__all__ = ["gcp"]
