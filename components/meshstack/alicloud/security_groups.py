"""Security groups for the nodes of a mesh's ACK clusters.

PeeredSecurityGroups: one group per cluster, each authorising the others (e.g. m1c1-sg and
m1c2-sg), for a few clusters. SharedSecurityGroup: one group for all, whose rules grow
linearly with the clusters, for a mesh of many.

The stack hands its own groups to ACK, and ACK adds no rules to a group it did not create,
so each group carries the rules ACK recommends for Flannel clusters
(help.aliyun.com "Configure and manage security groups for an ACK cluster"): traffic within
the group, from the cluster's pod range, and ICMP. Peering adds, for every other member,
its group (by security-group id) and its pod range: with Flannel, pod-to-pod traffic
between clusters carries pod addresses that no group membership covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from meshstack.alicloud.sdk import alicloud

# Alibaba Cloud's own service range: CLB health checks and forwarding reach nodes from it.
ALIBABA_SERVICES_CIDR = "100.64.0.0/10"


@dataclass(frozen=True)
class SecurityGroupMember:
    name: str
    pod_cidr: str


@dataclass(frozen=True)
class SecurityGroupsArgs:
    provider: alicloud.Provider
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    members: Sequence[SecurityGroupMember]
    tags: dict[str, str] = field(default_factory=dict)


def _group(
    resource_name: str, group_name: str, description: str, args: SecurityGroupsArgs, opts
) -> alicloud.ecs.SecurityGroup:
    return alicloud.ecs.SecurityGroup(
        resource_name,
        security_group_name=group_name,
        description=description,
        vpc_id=args.vpc_id,
        security_group_type="normal",
        # Members of one group reach each other (ACK: "all from the group itself").
        inner_access_policy="Accept",
        tags=args.tags,
        opts=opts,
    )


def _allow(
    resource_name: str,
    group: alicloud.ecs.SecurityGroup,
    role: str,
    protocol: str,
    opts: pulumi.ResourceOptions,
    **source: pulumi.Input[str],
) -> None:
    alicloud.ecs.SecurityGroupRule(
        resource_name,
        security_group_id=group.id,
        type="ingress",
        ip_protocol=protocol,
        port_range="-1/-1" if protocol in ("all", "icmp") else "1/65535",
        policy="accept",
        priority=1,
        nic_type="intranet",
        description=f"meshstack: {role}",
        **source,
        opts=opts,
    )


def _baseline(name: str, group: alicloud.ecs.SecurityGroup, args, opts) -> None:
    """What every node group needs whatever its peers: ICMP in the VPC, Alibaba's services."""
    _allow(f"{name}-icmp", group, "icmp", "icmp", opts, cidr_ip=args.vpc_cidr)
    _allow(
        f"{name}-alibaba-services",
        group,
        "alibaba-services",
        "tcp",
        opts,
        cidr_ip=ALIBABA_SERVICES_CIDR,
    )


class PeeredSecurityGroups(pulumi.ComponentResource):
    """A group per member, named `<member>-sg`, each authorising every other member's group
    and pod range: 2·(N−1) rules per group, for the few clusters of one application."""

    groups: dict[str, alicloud.ecs.SecurityGroup]

    def __init__(
        self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:alicloud:PeeredSecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.groups = {
            member.name: _group(
                f"{name}-{member.name}",
                f"{member.name}-sg",
                f"Nodes of cluster {member.name} and the clusters it meshes with",
                args,
                child,
            )
            for member in args.members
        }
        for member in args.members:
            group = self.groups[member.name]
            prefix = f"{name}-{member.name}"
            _baseline(prefix, group, args, child)
            _allow(f"{prefix}-pods", group, "pods", "all", child, cidr_ip=member.pod_cidr)
            for peer in args.members:
                if peer.name == member.name:
                    continue
                _allow(
                    f"{prefix}-from-{peer.name}",
                    group,
                    f"from-{peer.name}",
                    "all",
                    child,
                    source_security_group_id=self.groups[peer.name].id,
                )
                _allow(
                    f"{prefix}-from-{peer.name}-pods",
                    group,
                    f"from-{peer.name}-pods",
                    "all",
                    child,
                    cidr_ip=peer.pod_cidr,
                )
        self.register_outputs({"securityGroupIds": {k: g.id for k, g in self.groups.items()}})


class SharedSecurityGroup(pulumi.ComponentResource):
    """One group for the nodes of every member (`<name>-sg`): members reach each other as
    members of one group, and each member's pod range is allowed once. N + 2 rules for N
    clusters, where a group per cluster needs N·(2N + 1)."""

    group: alicloud.ecs.SecurityGroup

    def __init__(
        self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:alicloud:SharedSecurityGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.group = _group(
            f"{name}-group", f"{name}-sg", "Nodes of every cluster of the mesh", args, child
        )
        _baseline(name, self.group, args, child)
        for member in args.members:
            _allow(
                f"{name}-{member.name}-pods",
                self.group,
                f"{member.name}-pods",
                "all",
                child,
                cidr_ip=member.pod_cidr,
            )
        self.register_outputs({"securityGroupId": self.group.id})
