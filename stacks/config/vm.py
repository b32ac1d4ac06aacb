"""`vm`: GKE, Istio and a Compute Engine VM that joins the mesh."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import model_validator

from stacks.config.checks import (
    Problems,
    ambient_unsupported,
    overlapping,
    unsupported_kubernetes,
)
from stacks.config.fields import (
    PROJECT,
    DnsLabel,
    Flag,
    IstioClusterName,
    Model,
    NetworkName,
)
from stacks.config.google import (
    GceVmConfig,
    GcpConfig,
    GcpNetworkConfig,
    GkeClusterConfig,
    gcp_zone_problems,
)
from stacks.config.mesh import (
    HelloWorldConfig,
    IstioConfig,
    IstioProfile,
    SecurityConfig,
    VerifyConfig,
)
from stacks.config.trust import TrustConfig, trust_problems


class MeshIdentityConfig(Model):
    """Seed 001's IstioOperator values: mesh ID, cluster name, network."""

    mesh_id: DnsLabel = "mesh1"
    """Istio's mesh ID."""
    cluster_name: IstioClusterName = "Kubernetes"
    """Istio's name for this cluster (seed: "Kubernetes"); the VM's cluster.env carries it."""
    network: NetworkName = ""
    """Istio's network name; empty (the walkthrough's) is one flat network. A name makes the
    east-west gateway a network gateway."""


class VmIstioConfig(IstioConfig):
    """Seed 001 installs Istio's default profile (no egress gateway). Its ingress gateway
    serves nothing in this lab: it stays, without a public load balancer."""

    REVISIONS = True

    profile: IstioProfile = "default"
    """Istio's default profile, as in the walkthrough (demo: the charts' demo profile)."""
    egress_gateway: Flag = False
    """No egress gateway (the default profile has none)."""
    ingress_service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "ClusterIP"
    """The ingress gateway serves nothing in this lab: a ClusterIP Service."""


class VmStack(Model):
    """Seed 001: GKE + Istio + an east-west gateway + a GCE VM that joins the mesh by itself."""

    scenario: Literal["vm"]
    gcp: GcpConfig = GcpConfig()
    network: GcpNetworkConfig = GcpNetworkConfig()
    cluster: GkeClusterConfig = GkeClusterConfig()
    istio: VmIstioConfig = VmIstioConfig()
    mesh: MeshIdentityConfig = MeshIdentityConfig()
    vm: GceVmConfig = GceVmConfig()
    hello_world: HelloWorldConfig = HelloWorldConfig()
    verify: VerifyConfig = VerifyConfig()
    security: SecurityConfig = SecurityConfig()
    trust: TrustConfig = TrustConfig()

    @model_validator(mode="after")
    def _checks(self) -> VmStack:
        problems = Problems()
        problems.add(gcp_zone_problems(self.gcp.region, self.gcp.zone, "gcp.zone"))
        problems.add(
            ambient_unsupported(
                self.istio, "the VM joins the mesh with a sidecar (Istio has no ambient VMs)"
            )
        )
        for istio_key, version in self.istio.version_keys():
            problems.add(
                unsupported_kubernetes(
                    version, self.cluster.kubernetes_version, istio_key=istio_key
                )
            )
        problems.add(
            overlapping(
                [
                    ("network.subnetCidr", self.network.subnet_cidr),
                    ("network.podCidr", self.network.pod_cidr),
                    ("network.serviceCidr", self.network.service_cidr),
                ]
            )
        )
        for i, cidr in enumerate(self.vm.ssh_source_ranges):
            if ipaddress.IPv4Network(cidr).prefixlen == 0:
                problems.add(
                    f"{PROJECT}:vm.sshSourceRanges[{i}] {cidr} opens SSH to the whole internet; "
                    "name the ranges you connect from (e.g. 35.235.240.0/20 for IAP TCP forwarding)"
                )
        if bool(self.mesh.network) != bool(self.vm.network):
            problems.add(
                f"{PROJECT}:mesh.network is {self.mesh.network!r} and {PROJECT}:vm.network is "
                f"{self.vm.network!r}: name both networks (a multi-network mesh, traffic through "
                "the east-west gateway) or neither (one flat network, as in seed 001)"
            )
        problems.add(trust_problems(self.trust, self.istio, [self.mesh.cluster_name]))
        problems.raise_any()
        return self
