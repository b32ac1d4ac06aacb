"""pulumi_gcp as this floor uses it: of `pulumi_gcp.compute`, only the modules of the resources
it creates are loaded (the other 278 stay unloaded: about 0.45 s and 28 MB less; see
meshstack/sdk_modules.py). Import `gcp` from here, not `pulumi_gcp` itself."""

import pulumi_gcp as gcp

from meshstack.sdk_modules import load_only

load_only(
    "pulumi_gcp.compute",
    ("address", "firewall", "instance", "network", "router", "router_nat", "subnetwork"),
)

__all__ = ["gcp"]
