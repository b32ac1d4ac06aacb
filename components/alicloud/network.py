"""An Alibaba Cloud VPC with one vSwitch per zone and a NAT gateway that gives it the internet.

Serverless pods have no public address: images from public registries (docker.io, ghcr.io)
arrive through the NAT gateway's SNAT entries, one per vSwitch, behind one EIP.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_alicloud as alicloud

from components.naming import fixed_name


@dataclass(frozen=True)
class VSwitchSpec:
    zone: str
    cidr: str
    # What the vSwitch is for, in its name; the zone when there is one vSwitch per zone.
    role: str | None = None

    @property
    def name(self) -> str:
        return self.role or self.zone


@dataclass(frozen=True)
class NetworkArgs:
    provider: alicloud.Provider
    vpc_cidr: str
    vswitches: tuple[VSwitchSpec, ...]
    eip_bandwidth_mbps: int = 100
    tags: dict[str, str] | None = None


class AlicloudNetwork(pulumi.ComponentResource):
    vpc: alicloud.vpc.Network
    vswitches: list[alicloud.vpc.Switch]
    nat_gateway: alicloud.vpc.NatGateway
    eip: alicloud.ecs.EipAddress
    snat_entries: list[alicloud.vpc.SnatEntry]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:alicloud:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        tags = args.tags or {}

        self.vpc = alicloud.vpc.Network(
            f"{name}-vpc", vpc_name=name, cidr_block=args.vpc_cidr, tags=tags, opts=child
        )
        self.vswitches = [
            alicloud.vpc.Switch(
                f"{name}-vswitch-{spec.name}",
                vswitch_name=f"{name}-{spec.name}",
                vpc_id=self.vpc.id,
                cidr_block=spec.cidr,
                zone_id=spec.zone,
                tags=tags,
                # A new vSwitch could not take the old one's range while it exists.
                opts=fixed_name(child),
            )
            for spec in args.vswitches
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
            bandwidth=str(args.eip_bandwidth_mbps),
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
                f"{name}-snat-{spec.name}",
                snat_table_id=self.nat_gateway.snat_table_ids,
                source_vswitch_id=vswitch.id,
                snat_ip=self.eip.ip_address,
                snat_entry_name=f"{name}-{spec.name}",
                # One SNAT entry per vSwitch.
                opts=fixed_name(
                    pulumi.ResourceOptions.merge(
                        child, pulumi.ResourceOptions(depends_on=[association])
                    )
                ),
            )
            for spec, vswitch in zip(args.vswitches, self.vswitches, strict=True)
        ]

        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "vswitchIds": [v.id for v in self.vswitches],
                "natGatewayId": self.nat_gateway.id,
                "egressIp": self.eip.ip_address,
            }
        )

    @property
    def vswitch_ids(self) -> list[pulumi.Output[str]]:
        return [v.id for v in self.vswitches]
