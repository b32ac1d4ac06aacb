"""Cross-field checks the scenario models share.

Each check returns its problems (sentences naming their keys, `meshstack:<key> …`) instead of
stopping at the first: a scenario's validator collects every one with `Problems` and raises
them together, and the loader shows each as a line of its own.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any, get_args

from meshstack import versions
from meshstack.alicloud.versions import MINIMUM_ASM_RELEASE, asm_release
from stacks.config.alibaba import AlicloudVpcConfig
from stacks.config.fields import PATTERN_HELP, PROJECT
from stacks.config.mesh import IstioConfig


class Problems:
    """Every problem a validator finds; `raise_any` ends it with all of them at once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *found: str | Iterable[str]) -> None:
        for item in found:
            self.lines += [item] if isinstance(item, str) else list(item)

    def raise_any(self) -> None:
        if self.lines:
            raise ValueError("\n".join(self.lines))


def ambient_unsupported(istio: IstioConfig, why: str) -> list[str]:
    """dataPlane ambient where this scenario cannot run it, `why` in a user's words."""
    if istio.data_plane == "ambient":
        return [f"{PROJECT}:istio.dataPlane 'ambient' is not available here: {why}; use sidecar"]
    return []


def cni_on_serverless(istio: IstioConfig, serverless: bool) -> list[str]:
    if istio.cni and serverless:
        return [
            f"{PROJECT}:istio.cni is true, but this cluster is serverless (virtual nodes run "
            "no DaemonSet, and Istio CNI is a DaemonSet); set istio.cni to false: sidecars then "
            "use an init container with NET_ADMIN and NET_RAW"
        ]
    return []


def unsupported_kubernetes(
    istio_version: str,
    kubernetes_version: str,
    key: str = "cluster.kubernetesVersion",
    istio_key: str = "istio.version",
) -> list[str]:
    istio_minor = ".".join(istio_version.split(".")[:2])
    supported = versions.ISTIO_SUPPORTS_KUBERNETES.get(istio_minor)
    kubernetes_minor = int(kubernetes_version.split(".")[1])
    if supported and not supported[0] <= kubernetes_minor <= supported[1]:
        low, high = supported
        return [
            f"{PROJECT}:{key} {kubernetes_version!r} is outside what Istio "
            f"{istio_minor} supports (Kubernetes 1.{low} to 1.{high}); choose one of those or "
            f"another {PROJECT}:{istio_key}"
        ]
    return []


def asm_without_retention(version: str) -> list[str]:
    if asm_release(version) < MINIMUM_ASM_RELEASE:
        minimum = ".".join(map(str, MINIMUM_ASM_RELEASE))
        return [
            f"{PROJECT}:asm.version {version!r} predates cluster-local retention "
            f"(ASM {minimum}); choose a later release"
        ]
    return []


def vswitch_outside(
    network: AlicloudVpcConfig,
    cidr_key: str,
    cidr: str,
    zone_key: str,
    zone: str,
    *,
    network_key: str = "network",
) -> list[str]:
    """A vSwitch lies in the VPC's range and in a zone of the VPC's region."""
    problems = []
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    if not ipaddress.IPv4Network(cidr).subnet_of(vpc):
        problems.append(
            f"{PROJECT}:{cidr_key} {cidr} is not inside {PROJECT}:{network_key}.vpcCidr {vpc}"
        )
    if not zone.startswith(network.region):
        problems.append(
            f"{PROJECT}:{zone_key} {zone!r} is not in "
            f"{PROJECT}:{network_key}.region {network.region!r}"
        )
    return problems


def mismatch(key: str, value: str, kind: Any) -> list[str]:
    """A value checked against one of the pattern types of `fields`, where the type depends
    on another field (e.g. a cluster's cloud)."""
    pattern = get_args(kind)[1].pattern
    if not re.match(pattern, value):
        return [f"{PROJECT}:{key} = {value!r}: expected {PATTERN_HELP[pattern]}"]
    return []


def overlapping(named_cidrs: list[tuple[str, str]]) -> list[str]:
    """Every pair of overlapping ranges, naming both keys and both ranges."""
    networks = [(key, ipaddress.ip_network(cidr)) for key, cidr in named_cidrs]
    return [
        f"{PROJECT}:{key_a} {net_a} overlaps {PROJECT}:{key_b} {net_b}"
        for i, (key_a, net_a) in enumerate(networks)
        for key_b, net_b in networks[i + 1 :]
        if net_a.overlaps(net_b)
    ]


# Why an Alibaba Cloud cluster of this package would not enforce NetworkPolicies. ACK: "network
# policies are implemented by Terway" (ACK's "Use network policies"); its clusters here run
# Flannel. ASK: by the Poseidon add-on (ACK Serverless "Use network policies"), not installed
# here. ACS: Alibaba documents no NetworkPolicy enforcement (only its own TrafficPolicy).
UNENFORCED = {
    "ack": "ACK clusters here run Flannel, which ignores them (ACK enforces them only with Terway)",
    "ask": "ASK enforces them only with Alibaba's Poseidon add-on, which this package does not "
    "install",
    "acs": "ACS documents no NetworkPolicy enforcement",
}


def policies_off_unless_set(data: Any) -> Any:
    """Raw stack config with security.networkPolicies false unless it is given: for stacks
    whose clusters would not enforce NetworkPolicies (a `mode="before"` validator)."""
    if not isinstance(data, Mapping):
        return data
    security = data.get("security", {})
    if not isinstance(security, Mapping) or "networkPolicies" in security:
        return data
    return {**data, "security": {**security, "networkPolicies": False}}


def policies_off_with_ack(data: Any, clusters: Any) -> Any:
    """policies_off_unless_set when any of the raw `clusters` is on ACK (which does not
    enforce NetworkPolicies)."""
    if isinstance(clusters, list) and any(
        isinstance(c, dict) and c.get("cloud") == "ack" for c in clusters
    ):
        return policies_off_unless_set(data)
    return data


def inert_network_policies(enabled: bool, clusters: Mapping[str, str]) -> list[str]:
    """security.networkPolicies true where clusters (name -> offering: ack, acs, ask) would not
    enforce them: the policies would be declared and have no effect."""
    if not (enabled and clusters):
        return []
    offerings = sorted(set(clusters.values()))
    names = ", ".join(repr(name) for name in clusters)
    why = "; ".join(UNENFORCED[offering] for offering in offerings)
    return [
        f"{PROJECT}:security.networkPolicies is true, but cluster(s) {names} would not enforce "
        f"NetworkPolicies ({why}): they would be declared and have no effect; leave "
        "security.networkPolicies unset (false here) or set it to false"
    ]
