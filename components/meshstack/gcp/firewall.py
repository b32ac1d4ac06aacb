"""Ingress firewall rules of a VPC, each one named source → named target, TCP ports only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from meshstack.gcp.sdk import gcp
from meshstack.naming import fixed_name


@dataclass(frozen=True)
class FirewallRule:
    name: str
    description: str
    # The instances it admits to: by network tag, or by service account (exactly one).
    target_tags: Sequence[str] = field(default_factory=tuple)
    target_service_accounts: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    # Empty: every TCP port.
    tcp_ports: Sequence[int] = field(default_factory=tuple)
    source_ranges: Sequence[str] = field(default_factory=tuple)
    source_tags: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not (self.source_ranges or self.source_tags):
            # A rule without sources allows 0.0.0.0/0: never by omission.
            raise ValueError(f"firewall rule {self.name}: no source")
        if bool(self.target_tags) == bool(self.target_service_accounts):
            # No target: every instance of the network.
            raise ValueError(f"firewall rule {self.name}: target tags or service accounts")
        if self.target_service_accounts and self.source_tags:
            # pulumi-gcp compute.Firewall: "targetServiceAccounts cannot be used at the same
            # time as targetTags or sourceTags".
            raise ValueError(f"firewall rule {self.name}: source tags with service accounts")


@dataclass(frozen=True)
class FirewallArgs:
    provider: gcp.Provider
    network: pulumi.Input[str]
    rules: Sequence[FirewallRule]


class Firewall(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:gcp:Firewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        rules = {
            rule.name: gcp.compute.Firewall(
                f"{name}-{rule.name}",
                name=f"{name}-{rule.name}",
                description=rule.description,
                network=args.network,
                direction="INGRESS",
                allows=[
                    gcp.compute.FirewallAllowArgs(
                        protocol="tcp", ports=[str(p) for p in rule.tcp_ports] or None
                    )
                ],
                source_ranges=list(rule.source_ranges) or None,
                source_tags=list(rule.source_tags) or None,
                target_tags=list(rule.target_tags) or None,
                target_service_accounts=list(rule.target_service_accounts) or None,
                opts=fixed_name(child),
            )
            for rule in args.rules
        }
        self.register_outputs({"rules": sorted(rules)})
