"""A VPC for one region: a subnet per cluster with its secondary ranges, and Cloud NAT.

Nothing in it has a public address: nodes and VMs reach the internet (image registries,
package mirrors) through Cloud NAT, and Google APIs through Private Google Access.
"""

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi

from meshstack.gcp.sdk import gcp
from meshstack.naming import fixed_name
from meshstack.options import register_schema_outputs, renamed

POD_RANGE = "pods"
SERVICE_RANGE = "services"


class GcpSubnetSpec(TypedDict):
    """A subnet of the VPC with a GKE cluster's pod and Service ranges."""

    cidr: str
    """The nodes' (and VMs') range."""
    pod_cidr: str
    """VPC-native (alias IP) secondary range of one GKE cluster's pods."""
    service_cidr: str
    """VPC-native secondary range of that cluster's Services."""
    role: NotRequired[str]
    """The subnet is `<network>-<role>`; none names a network's only subnet after the network."""


class GcpNetworkArgs(TypedDict):
    region: str
    """The region of the subnets, router and Cloud NAT."""
    subnets: Sequence[GcpSubnetSpec]
    """A subnet per cluster (or VM group)."""


class GcpNetwork(pulumi.ComponentResource):
    """A VPC for one region: a subnet per cluster with its pod and Service ranges, Private
    Google Access, and Cloud NAT (nothing in it has a public address). The Google provider comes
    through `opts`; `depends_on` there should hold the enabled Compute Engine API."""

    network: gcp.compute.Network
    """The VPC."""
    subnetworks: dict[str, gcp.compute.Subnetwork]
    """The subnets, by role."""
    network_id: pulumi.Output[str]
    """The VPC's id."""
    subnetwork_ids: dict[str, pulumi.Output[str]]
    """The subnets' ids, by role (a network's only subnet: the empty role)."""

    def __init__(
        self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "meshstack:index:GcpNetwork", name, None, renamed(opts, "meshstack:gcp:Network")
        )
        self._name, self._region = name, args["region"]
        child = pulumi.ResourceOptions(parent=self)
        self.network = gcp.compute.Network(
            f"{name}-vpc",
            name=name,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=fixed_name(child),
        )
        self.subnetworks = {
            subnet.get("role", ""): gcp.compute.Subnetwork(
                "-".join(filter(None, [name, subnet.get("role"), "subnet"])),
                name="-".join(filter(None, [name, subnet.get("role")])),
                network=self.network.id,
                region=self._region,
                ip_cidr_range=subnet["cidr"],
                private_ip_google_access=True,
                secondary_ip_ranges=[
                    gcp.compute.SubnetworkSecondaryIpRangeArgs(
                        range_name=POD_RANGE, ip_cidr_range=subnet["pod_cidr"]
                    ),
                    gcp.compute.SubnetworkSecondaryIpRangeArgs(
                        range_name=SERVICE_RANGE, ip_cidr_range=subnet["service_cidr"]
                    ),
                ],
                opts=fixed_name(child),
            )
            for subnet in args["subnets"]
        }
        self.network_id = self.network.id
        self.subnetwork_ids = {role: subnet.id for role, subnet in self.subnetworks.items()}
        router = gcp.compute.Router(
            f"{name}-router",
            name=name,
            network=self.network.id,
            region=self._region,
            opts=fixed_name(child),
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            name=name,
            router=router.name,
            region=self._region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            opts=fixed_name(child),
        )
        register_schema_outputs(self)

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
            region=self._region,
            subnetwork=subnetwork,
            opts=fixed_name(pulumi.ResourceOptions(parent=self)),
        )
