"""`two-cluster-retention`: ACK clusters in one VPC, one mesh (ASM or Istio), retention."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from stacks.config.alibaba import (
    AlicloudVpcConfig,
    AsmConfig,
    MemberClusterConfig,
    RetentionConfig,
    SharedBookinfoConfig,
)
from stacks.config.checks import (
    Problems,
    ambient_unsupported,
    asm_without_retention,
    inert_network_policies,
    overlapping,
    policies_off_unless_set,
    unsupported_kubernetes,
    vswitch_outside,
)
from stacks.config.cluster import MembershipConfig, rotation_refused
from stacks.config.fields import (
    PROJECT,
    DnsLabel,
    Model,
)
from stacks.config.mesh import (
    IstioConfig,
    SecurityConfig,
    VerifyConfig,
    authorization_problems,
)
from stacks.config.trust import TrustConfig, trust_problems

# Seed 002's clusters; the seed lets the console pick the ranges, these are disjoint ones.
SEED_002_CLUSTERS: tuple[dict[str, Any], ...] = (
    {
        "name": "m1c1",
        "zone": "us-west-1a",
        "nodeCidr": "192.168.0.0/20",
        "podCidr": "10.10.0.0/16",
        "serviceCidr": "172.16.0.0/20",
        "reviewsVersions": ["v1"],
        "ingressGateway": True,
    },
    {
        "name": "m1c2",
        "zone": "us-west-1a",
        "nodeCidr": "192.168.16.0/20",
        "podCidr": "10.11.0.0/16",
        "serviceCidr": "172.16.16.0/20",
        "reviewsVersions": ["v2"],
    },
)


class TwoClusterIstioConfig(IstioConfig):
    """Istio's control plane in every cluster (controlPlane istio)."""

    REVISIONS = True


class TwoClusterStack(Model):
    """Seed 002: ACK clusters in one VPC, one mesh, Bookinfo split, cluster-local traffic."""

    scenario: Literal["two-cluster-retention"]
    control_plane: Literal["asm", "istio"] = "asm"
    """asm: the managed ASM control plane (seed 002); istio: istiod in every cluster,
    multi-primary on one network with a shared root of trust."""
    mesh_id: DnsLabel = "mesh1"
    """Names the ASM instance (seed: mesh1), or Istio's meshID when controlPlane is istio."""
    network: AlicloudVpcConfig = AlicloudVpcConfig()
    clusters: list[MemberClusterConfig] = Field(
        default_factory=lambda: [
            MemberClusterConfig.model_validate(cluster) for cluster in SEED_002_CLUSTERS
        ],
        min_length=2,
    )
    asm: AsmConfig = AsmConfig()
    istio: TwoClusterIstioConfig = TwoClusterIstioConfig()
    """Used when controlPlane is istio."""
    membership: MembershipConfig = MembershipConfig()
    """Used when controlPlane is istio (ASM manages its own access to the clusters)."""
    bookinfo: SharedBookinfoConfig = SharedBookinfoConfig()
    retention: RetentionConfig = RetentionConfig()
    verify: VerifyConfig = VerifyConfig()
    security: SecurityConfig = SecurityConfig()
    trust: TrustConfig = TrustConfig()
    """Used when controlPlane is istio."""

    @model_validator(mode="before")
    @classmethod
    def _policies_off(cls, data: Any) -> Any:
        return policies_off_unless_set(data)

    @model_validator(mode="after")
    def _checks(self) -> TwoClusterStack:
        problems = Problems()
        problems.add(
            inert_network_policies(
                self.security.network_policies, {c.name: "ack" for c in self.clusters}
            )
        )
        problems.add(authorization_problems(self))
        names = [c.name for c in self.clusters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.add(
                f"{PROJECT}:clusters repeats the name(s) {duplicates}; cluster names must be "
                "unique (they name the clusters, their security groups and their subsets)"
            )
        gateways = [c.name for c in self.clusters if c.ingress_gateway]
        if len(gateways) != 1:
            problems.add(
                f"{PROJECT}:clusters: exactly one cluster sets ingressGateway: true "
                f"(it receives the ingress gateway); found {gateways or 'none'}"
            )
        problems.add(
            ambient_unsupported(
                self.istio,
                "cluster-local retention is built on sidecars here (ambient runs on the local "
                "and multi-cluster scenarios)",
            )
        )
        if self.control_plane == "istio":
            for istio_key, version in self.istio.version_keys():
                problems.add(rotation_refused(self.membership, version, istio_key))
                for i, cluster in enumerate(self.clusters):
                    problems.add(
                        unsupported_kubernetes(
                            version,
                            cluster.kubernetes_version,
                            f"clusters[{i}].kubernetesVersion",
                            istio_key,
                        )
                    )
        else:
            if self.istio.tagged:
                problems.add(
                    f"{PROJECT}:istio.revisions does not apply with controlPlane asm: ASM "
                    "runs and upgrades its own control plane; remove istio.revisions and "
                    "istio.tags"
                )
            if "membership" in self.model_fields_set:
                problems.add(
                    f"{PROJECT}:membership does not apply with controlPlane asm: ASM reads "
                    "the member clusters with its own credentials; remove it"
                )
            if self.asm.version.startswith("v"):
                problems.add(asm_without_retention(self.asm.version))
        named: list[tuple[str, str]] = [("network.vpcCidr", self.network.vpc_cidr)]
        for i, cluster in enumerate(self.clusters):
            key = f"clusters[{i}]"
            problems.add(
                vswitch_outside(
                    self.network,
                    f"{key}.nodeCidr",
                    cluster.node_cidr,
                    f"{key}.zone",
                    cluster.zone,
                )
            )
            named += [
                (f"{key}.podCidr", cluster.pod_cidr),
                (f"{key}.serviceCidr", cluster.service_cidr),
            ]
        if self.control_plane == "istio":
            problems.add(trust_problems(self.trust, self.istio, names))
        # vSwitches lie inside the VPC by design: compare them with each other only.
        problems.add(
            overlapping(named),
            overlapping(
                [(f"clusters[{i}].nodeCidr", c.node_cidr) for i, c in enumerate(self.clusters)]
            ),
        )
        problems.raise_any()
        return self

    @property
    def gateway_cluster(self) -> MemberClusterConfig:
        return next(c for c in self.clusters if c.ingress_gateway)
