"""A VPC for one region: a subnet per cluster with its secondary ranges, and Cloud NAT.

Nothing in it has a public address: nodes and VMs reach the internet (image registries,
package mirrors) through Cloud NAT, and Google APIs through Private Google Access.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.naming import fixed_name

POD_RANGE = "pods"
SERVICE_RANGE = "services"


@dataclass(frozen=True)
class GcpSubnetSpec:
    cidr: str
    # VPC-native (alias IP) secondary ranges of one GKE cluster's pods and Services.
    pod_cidr: str
    service_cidr: str
    # The subnet is `<network>-<role>`; "" names a network's only subnet after the network.
    role: str = ""


@dataclass(frozen=True)
class GcpNetworkArgs:
    provider: gcp.Provider
    region: str
    subnets: Sequence[GcpSubnetSpec]
    # The Compute Engine API, enabled.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class GcpNetwork(pulumi.ComponentResource):
    network: gcp.compute.Network
    # By the subnet's role.
    subnetworks: dict[str, gcp.compute.Subnetwork]

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
            opts=fixed_name(
                pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=list(args.depends_on))
                )
            ),
        )
        self.subnetworks = {
            subnet.role: gcp.compute.Subnetwork(
                "-".join(filter(None, [name, subnet.role, "subnet"])),
                name="-".join(filter(None, [name, subnet.role])),
                network=self.network.id,
                region=args.region,
                ip_cidr_range=subnet.cidr,
                private_ip_google_access=True,
                secondary_ip_ranges=[
                    gcp.compute.SubnetworkSecondaryIpRangeArgs(
                        range_name=POD_RANGE, ip_cidr_range=subnet.pod_cidr
                    ),
                    gcp.compute.SubnetworkSecondaryIpRangeArgs(
                        range_name=SERVICE_RANGE, ip_cidr_range=subnet.service_cidr
                    ),
                ],
                opts=fixed_name(child),
            )
            for subnet in args.subnets
        }
        router = gcp.compute.Router(
            f"{name}-router",
            name=name,
            network=self.network.id,
            region=args.region,
            opts=fixed_name(child),
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            name=name,
            router=router.name,
            region=args.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            opts=fixed_name(child),
        )
        self.register_outputs(
            {
                "network": self.network.id,
                "subnetworks": {role: subnet.id for role, subnet in self.subnetworks.items()},
            }
        )

    def internal_address(self, role: str, subnet: str = "") -> gcp.compute.Address:
        """A reserved address in a subnet (e.g. for an internal load balancer)."""
        return self._address(role, "INTERNAL", self.subnetworks[subnet].id)

    def external_address(self, role: str) -> gcp.compute.Address:
        """A reserved regional public address (e.g. for an external load balancer)."""
        return self._address(role, "EXTERNAL", None)

    def _address(
        self, role: str, address_type: str, subnetwork: pulumi.Input[str] | None
    ) -> gcp.compute.Address:
        name = f"{self._name}-{role}"
        return gcp.compute.Address(
            name,
            name=name,
            address_type=address_type,
            region=self._args.region,
            subnetwork=subnetwork,
            opts=fixed_name(pulumi.ResourceOptions(parent=self, provider=self._args.provider)),
        )
