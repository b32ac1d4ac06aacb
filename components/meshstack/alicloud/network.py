"""An Alibaba Cloud VPC with one vSwitch per zone and a NAT gateway that gives it the internet.

Serverless pods have no public address: images from public registries (docker.io, ghcr.io)
arrive through the NAT gateway's SNAT entries, one per vSwitch, behind one EIP.
"""

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi

from meshstack.alicloud.sdk import alicloud
from meshstack.naming import fixed_name
from meshstack.options import register_schema_outputs, renamed


class VSwitchSpec(TypedDict):
    """A vSwitch of the VPC."""

    zone: str
    """The zone of the vSwitch."""
    cidr: str
    """Its range, within the VPC's."""
    role: NotRequired[str]
    """What the vSwitch is for, in its name; by default the zone (one vSwitch per zone)."""


def vswitch_name(spec: VSwitchSpec) -> str:
    return spec.get("role") or spec["zone"]


class NetworkArgs(TypedDict):
    vpc_cidr: str
    """The VPC's range."""
    vswitches: Sequence[VSwitchSpec]
    """The vSwitches; the NAT gateway sits in the first."""
    eip_bandwidth_mbps: NotRequired[int]
    """The NAT gateway's EIP bandwidth in Mbit/s (default 100, billed by traffic)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags of every resource."""


class AlicloudNetwork(pulumi.ComponentResource):
    """An Alibaba Cloud VPC with a vSwitch per zone (or cluster) and an Enhanced NAT gateway
    whose SNAT entries, one per vSwitch behind one EIP, give nodes and serverless pods the
    internet. The Alibaba Cloud provider comes through `opts`."""

    vpc: alicloud.vpc.Network
    """The VPC."""
    vswitches: list[alicloud.vpc.Switch]
    """The vSwitches, in the order given."""
    nat_gateway: alicloud.vpc.NatGateway
    """The NAT gateway."""
    eip: alicloud.ecs.EipAddress
    """The NAT gateway's public address."""
    snat_entries: list[alicloud.vpc.SnatEntry]
    """A SNAT entry per vSwitch: what its nodes wait for before pulling images."""
    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    vswitch_ids: list[pulumi.Output[str]]
    """The vSwitches' ids, in the order given."""
    egress_ip: pulumi.Output[str]
    """The public address the VPC's traffic leaves from."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "meshstack:index:AlicloudNetwork",
            name,
            None,
            renamed(opts, "meshstack:alicloud:Network"),
        )
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.get("tags") or {})
        vswitches = args["vswitches"]

        self.vpc = alicloud.vpc.Network(
            f"{name}-vpc", vpc_name=name, cidr_block=args["vpc_cidr"], tags=tags, opts=child
        )
        self.vswitches = [
            alicloud.vpc.Switch(
                f"{name}-vswitch-{vswitch_name(spec)}",
                vswitch_name=f"{name}-{vswitch_name(spec)}",
                vpc_id=self.vpc.id,
                cidr_block=spec["cidr"],
                zone_id=spec["zone"],
                tags=tags,
                # A new vSwitch could not take the old one's range while it exists.
                opts=fixed_name(child),
            )
            for spec in vswitches
        ]
        self.nat_gateway = alicloud.vpc.NatGateway(
            f"{name}-nat",
            nat_gateway_name=name,
            vpc_id=self.vpc.id,
            vswitch_id=self.vswitches[0].id,
            nat_type="Enhanced",
            network_type="internet",
            payment_type="PayAsYouGo",
            internet_charge_type="PayByLcu",
            tags=tags,
            opts=child,
        )
        self.eip = alicloud.ecs.EipAddress(
            f"{name}-eip",
            address_name=f"{name}-nat",
            payment_type="PayAsYouGo",
            internet_charge_type="PayByTraffic",
            bandwidth=str(args.get("eip_bandwidth_mbps", 100)),
            isp="BGP",
            tags=tags,
            opts=child,
        )
        association = alicloud.ecs.EipAssociation(
            f"{name}-eip-nat",
            allocation_id=self.eip.id,
            instance_id=self.nat_gateway.id,
            instance_type="Nat",
            opts=child,
        )
        # An SNAT entry may only use an EIP already bound to its NAT gateway; the entry's
        # inputs (the EIP's address) do not carry that ordering, so it is stated.
        self.snat_entries = [
            alicloud.vpc.SnatEntry(
                f"{name}-snat-{vswitch_name(spec)}",
                snat_table_id=self.nat_gateway.snat_table_ids,
                source_vswitch_id=vswitch.id,
                snat_ip=self.eip.ip_address,
                snat_entry_name=f"{name}-{vswitch_name(spec)}",
                # One SNAT entry per vSwitch.
                opts=fixed_name(
                    pulumi.ResourceOptions.merge(
                        child, pulumi.ResourceOptions(depends_on=[association])
                    )
                ),
            )
            for spec, vswitch in zip(vswitches, self.vswitches, strict=True)
        ]

        self.vpc_id = self.vpc.id
        self.vswitch_ids = [v.id for v in self.vswitches]
        self.egress_ip = self.eip.ip_address
        register_schema_outputs(self)
