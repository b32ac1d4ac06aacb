"""One security group per cluster, each authorising the others (e.g. m1c1-sg and m1c2-sg).

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
import pulumi_alicloud as alicloud

# Alibaba Cloud's own service range: CLB health checks and forwarding reach nodes from it.
ALIBABA_SERVICES_CIDR = "100.64.0.0/10"


@dataclass(frozen=True)
class SecurityGroupMember:
    name: str
    pod_cidr: str


@dataclass(frozen=True)
class PeeredSecurityGroupsArgs:
    provider: alicloud.Provider
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    members: Sequence[SecurityGroupMember]
    tags: dict[str, str] = field(default_factory=dict)


class PeeredSecurityGroups(pulumi.ComponentResource):
    groups: dict[str, alicloud.ecs.SecurityGroup]

    def __init__(
        self, name: str, args: PeeredSecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:alicloud:PeeredSecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.groups = {
            member.name: alicloud.ecs.SecurityGroup(
                f"{name}-{member.name}",
                security_group_name=f"{member.name}-sg",
                description=f"Nodes of cluster {member.name} and the clusters it meshes with",
                vpc_id=args.vpc_id,
                security_group_type="normal",
                # Members of one group reach each other (ACK: "all from the group itself").
                inner_access_policy="Accept",
                tags=args.tags,
                opts=child,
            )
            for member in args.members
        }

        def allow(role: str, group: str, protocol: str, **source: pulumi.Input[str]) -> None:
            alicloud.ecs.SecurityGroupRule(
                f"{name}-{group}-{role}",
                security_group_id=self.groups[group].id,
                type="ingress",
                ip_protocol=protocol,
                port_range="-1/-1" if protocol in ("all", "icmp") else "1/65535",
                policy="accept",
                priority=1,
                nic_type="intranet",
                description=f"meshstack: {role}",
                **source,
                opts=child,
            )

        for member in args.members:
            allow("icmp", member.name, "icmp", cidr_ip=args.vpc_cidr)
            allow("pods", member.name, "all", cidr_ip=member.pod_cidr)
            allow("alibaba-services", member.name, "tcp", cidr_ip=ALIBABA_SERVICES_CIDR)
            for peer in args.members:
                if peer.name == member.name:
                    continue
                allow(
                    f"from-{peer.name}",
                    member.name,
                    "all",
                    source_security_group_id=self.groups[peer.name].id,
                )
                allow(f"from-{peer.name}-pods", member.name, "all", cidr_ip=peer.pod_cidr)

        self.register_outputs({"securityGroupIds": {k: g.id for k, g in self.groups.items()}})
