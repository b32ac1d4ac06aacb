"""A VPC for one region: a subnet with the cluster's secondary ranges, and Cloud NAT.

Nothing in it has a public address: nodes and VMs reach the internet (image registries,
package mirrors) through Cloud NAT, and Google APIs through Private Google Access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

POD_RANGE = "pods"
SERVICE_RANGE = "services"


@dataclass(frozen=True)
class GcpNetworkArgs:
    provider: gcp.Provider
    region: str
    subnet_cidr: str
    pod_cidr: str
    service_cidr: str
    # The Compute Engine API, enabled.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class GcpNetwork(pulumi.ComponentResource):
    network: gcp.compute.Network
    subnetwork: gcp.compute.Subnetwork

    def __init__(
        self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:gcp:Network", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.network = gcp.compute.Network(
            f"{name}-vpc",
            name=name,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=list(args.depends_on))
            ),
        )
        self.subnetwork = gcp.compute.Subnetwork(
            f"{name}-subnet",
            name=name,
            network=self.network.id,
            region=args.region,
            ip_cidr_range=args.subnet_cidr,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=POD_RANGE, ip_cidr_range=args.pod_cidr
                ),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICE_RANGE, ip_cidr_range=args.service_cidr
                ),
            ],
            opts=child,
        )
        router = gcp.compute.Router(
            f"{name}-router", name=name, network=self.network.id, region=args.region, opts=child
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            name=name,
            router=router.name,
            region=args.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            opts=child,
        )
        self.register_outputs({"network": self.network.id, "subnetwork": self.subnetwork.id})

    def internal_address(self, role: str) -> gcp.compute.Address:
        """A reserved address in the subnet (e.g. for an internal load balancer)."""
        name = f"{self._name}-{role}"
        return gcp.compute.Address(
            name,
            name=name,
            address_type="INTERNAL",
            region=self._args.region,
            subnetwork=self.subnetwork.id,
            opts=pulumi.ResourceOptions(parent=self, provider=self._args.provider),
        )
