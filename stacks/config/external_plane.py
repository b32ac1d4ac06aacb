"""`external-control-plane`: istiod in an external GKE cluster; the mesh's clusters are its
remotes, the first of them the config cluster (components/meshstack/istio/external.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from stacks.config.checks import (
    Problems,
    ambient_unsupported,
    mismatch,
    overlapping,
    unsupported_kubernetes,
)
from stacks.config.cluster import ClusterInMesh, MembershipConfig, rotation_refused
from stacks.config.fields import (
    PROJECT,
    RESERVED_NAMESPACES,
    Cidr,
    DnsLabel,
    GcpZone,
    GkeClusterName,
    GkeVersion,
    HostName,
    Model,
)
from stacks.config.google import GcpConfig, GkeNodePoolConfig, gcp_zone_problems
from stacks.config.mesh import SecurityConfig, VerifyConfig
from stacks.config.multi_cluster import OneRevisionIstioConfig, SampleAppConfig


class ExternalPlaneCluster(ClusterInMesh):
    """A GKE cluster of the external control plane's stack."""

    role: Literal["external", "config", "remote"]
    """external: runs the mesh's istiod (and nothing of the mesh); config: the first remote,
    where the mesh's Istio objects are written; remote: a further remote."""
    network: DnsLabel = "network1"
    """The Istio network (all clusters on one)."""
    kubernetes_version: str | None = None
    """A minor or exact version whose minor GKE holds. Unset: meshstack.versions.GKE_KUBERNETES."""
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    """GKE's release channel."""
    gke_node_pool: GkeNodePoolConfig = GkeNodePoolConfig()
    """Its nodes."""
    authorized_networks: list[Cidr] | None = None
    """Who may reach the public endpoint; the external cluster's egress reads the remotes'."""


class ExternalIstiodConfig(Model):
    """The external istiod and how the remotes reach it."""

    host: HostName
    """The DNS name the remotes' webhooks and proxies call (TLS for it on 15012 and 15017):
    it must resolve to the output `externalIstiodAddress`, the external cluster's ingress
    gateway (see dnsZone)."""
    dns_zone: str | None = Field(default=None, min_length=1)
    """A Cloud DNS managed zone of the stack's project that holds `host`: the stack writes
    its A record. Unset: create the record yourself before the checks run."""
    namespace: DnsLabel = "external-istiod"
    """The external istiod's namespace, and every remote's system namespace (the same
    name on both sides)."""
    replicas: int = Field(default=2, ge=2, le=10)
    """Instances of the external istiod (at least two: one leads each remote, another takes
    over within the 30 s lease)."""


class ExternalControlPlaneStack(Model):
    """Istio's external control plane model on GKE."""

    scenario: Literal["external-control-plane"]
    mesh_id: DnsLabel = "mesh1"
    """Istio's mesh ID, and the prefix of the shared network."""
    gcp: GcpConfig = GcpConfig()
    clusters: list[ExternalPlaneCluster] = Field(min_length=2)
    external_istiod: ExternalIstiodConfig
    istio: OneRevisionIstioConfig = OneRevisionIstioConfig()
    membership: MembershipConfig = MembershipConfig()
    hello_world: SampleAppConfig = SampleAppConfig()
    verify: VerifyConfig = VerifyConfig()
    security: SecurityConfig = SecurityConfig()

    @property
    def external(self) -> ExternalPlaneCluster:
        return next(c for c in self.clusters if c.role == "external")

    @property
    def remotes(self) -> list[ExternalPlaneCluster]:
        """The config cluster first, then the further remotes in the config's order."""
        return sorted(
            (c for c in self.clusters if c.role != "external"), key=lambda c: c.role != "config"
        )

    @model_validator(mode="after")
    def _checks(self) -> ExternalControlPlaneStack:
        problems = Problems()
        roles = [c.role for c in self.clusters]
        for role, why in (
            ("external", "the cluster that runs istiod for the mesh"),
            ("config", "the remote whose API server holds the mesh's configuration"),
        ):
            if roles.count(role) != 1:
                problems.add(
                    f"{PROJECT}:clusters has {roles.count(role)} clusters of role {role}; "
                    f"exactly one is allowed: {why}"
                )
        names = [c.name for c in self.clusters]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            problems.add(f"{PROJECT}:clusters: names must be unique; repeated: {repeated}")
        networks = sorted({c.network for c in self.clusters})
        if len(networks) > 1:
            problems.add(
                f"{PROJECT}:clusters are on networks {networks}: this stack builds one "
                "network (the remotes reach each other's pods directly); give every cluster "
                "the same network"
            )
        if self.external_istiod.namespace in RESERVED_NAMESPACES:
            problems.add(
                f"{PROJECT}:externalIstiod.namespace = {self.external_istiod.namespace!r} "
                "is taken: istio-system of the external cluster runs the control plane of its "
                "own gateway; allowed: another DNS label, such as external-istiod"
            )
        problems.add(
            ambient_unsupported(
                self.istio, "the external control plane serves sidecars (Istio's guide)"
            )
        )
        if self.istio.cni:
            problems.add(
                f"{PROJECT}:istio.cni is true, but the remotes install no istio-cni here; "
                "leave istio.cni unset"
            )
        for i, cluster in enumerate(self.clusters):
            key = f"clusters[{i}]"
            if "api_server_public" in cluster.model_fields_set:
                problems.add(f"{PROJECT}:{key}.apiServerPublic does not apply to GKE clusters")
            problems.add(mismatch(f"{key}.name", cluster.name, GkeClusterName))
            problems.add(
                mismatch(f"{key}.zone", cluster.zone, GcpZone)
                or gcp_zone_problems(self.gcp.region, cluster.zone, f"{key}.zone")
            )
            version = cluster.kubernetes_version
            if version is not None:
                problems.add(
                    mismatch(f"{key}.kubernetesVersion", version, GkeVersion)
                    or unsupported_kubernetes(
                        self.istio.version, version, f"{key}.kubernetesVersion"
                    )
                )
        problems.add(
            overlapping(
                [
                    (f"clusters[{i}].{key}", cidr)
                    for i, c in enumerate(self.clusters)
                    for key, cidr in (
                        ("nodeCidr", c.node_cidr),
                        ("podCidr", c.pod_cidr),
                        ("serviceCidr", c.service_cidr),
                    )
                ]
            )
        )
        problems.add(rotation_refused(self.membership, self.istio.version))
        problems.raise_any()
        return self
