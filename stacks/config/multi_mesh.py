"""`multi-mesh`: two meshes, each with its own root and trust domain, federated through a
gateway (issue #33 item 2; docs/stacks/multi-mesh.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from stacks.config.alibaba import AlicloudVpcConfig
from stacks.config.checks import Problems, inert_network_policies, policies_off_with_ack
from stacks.config.cluster import MembershipConfig, rotation_refused
from stacks.config.fields import PROJECT, DnsLabel, Model, TrustDomain
from stacks.config.google import GcpConfig
from stacks.config.mesh import SecurityConfig, VerifyConfig
from stacks.config.multi_cluster import (
    MeshClusterConfig,
    OneRevisionIstioConfig,
    SampleAppConfig,
    cluster_problems,
    clusters_problems,
)

# The importing mesh's caller whose proxy is told not to take the imported roots (its
# PROXY_CONFIG_XDS_AGENT off): the check that the call fails without them.
UNROOTED_ACCOUNT = "unrooted-caller"
# Ports Istio's proxies use themselves (istio.io/latest/docs/ops/deployment/application-
# requirements/#ports-used-by-istio): a gateway cannot listen there.
ISTIO_PORTS = frozenset({15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090})


class FederatedMeshConfig(Model):
    """One mesh: its own root CA, trust domain and istiods, on one or more clusters."""

    name: DnsLabel
    """Istio's mesh ID, and the prefix of what is made for the mesh (its root CA, networks)."""
    trust_domain: TrustDomain
    """The mesh's SPIFFE trust domain (meshConfig.trustDomain): its workloads are
    spiffe://<trustDomain>/ns/<namespace>/sa/<account>. Each mesh needs its own (the other
    mesh trusts this mesh's root for this trust domain only)."""
    clusters: list[MeshClusterConfig] = Field(min_length=1)
    """Its clusters (ACK or GKE, as in multi-cluster: primaries, remotes, networks); a mesh of
    several is one multi-cluster mesh under its own root."""

    @property
    def mesh_id(self) -> str:
        return self.name


class FederationConfig(Model):
    """What one mesh exposes to the other, and whom it admits."""

    exporter: DnsLabel | None = None
    """The mesh that exposes its helloworld through its federation gateway; the other mesh
    calls it. Unset: the second mesh."""
    allowed_account: DnsLabel = "federated-caller"
    """The importing mesh's service account (in helloWorld.namespace) that the exporting mesh
    admits, by its foreign principal <trustDomain>/ns/<namespace>/sa/<account>; the check Job
    running as it must get 200."""
    other_account: DnsLabel = "other-caller"
    """Another service account of the importing mesh; its check Job must get 403."""
    gateway_port: int = Field(default=15443, ge=1024, le=65535)
    """The federation gateway's port (mutual TLS with the importing mesh's workload
    certificates)."""


class MultiMeshStack(Model):
    """Two meshes with their own roots and trust domains; one exposes a service to the other
    through a federation gateway and admits one of its service accounts."""

    scenario: Literal["multi-mesh"]
    alicloud: AlicloudVpcConfig = AlicloudVpcConfig()
    gcp: GcpConfig = GcpConfig()
    meshes: list[FederatedMeshConfig] = Field(min_length=2, max_length=2)
    istio: OneRevisionIstioConfig = OneRevisionIstioConfig()
    hello_world: SampleAppConfig = SampleAppConfig()
    federation: FederationConfig = FederationConfig()
    membership: MembershipConfig = MembershipConfig()
    """How each mesh's istiods read the API servers of that mesh's other clusters (meshes of
    several clusters); a rotation is judged against the last `up` as in multi-cluster."""
    verify: VerifyConfig = VerifyConfig()
    security: SecurityConfig = SecurityConfig()

    @model_validator(mode="before")
    @classmethod
    def _policies_off_with_ack(cls, data: Any) -> Any:
        meshes = data.get("meshes") if isinstance(data, dict) else None
        clusters = [
            c
            for m in (meshes if isinstance(meshes, list) else [])
            if isinstance(m, dict) and isinstance(m.get("clusters"), list)
            for c in m["clusters"]
        ]
        return policies_off_with_ack(data, clusters)

    @property
    def exporter(self) -> FederatedMeshConfig:
        """The mesh that exposes the service."""
        wanted = self.federation.exporter
        return next((m for m in self.meshes if m.name == wanted), self.meshes[-1])

    @property
    def importer(self) -> FederatedMeshConfig:
        """The mesh that calls it."""
        return next(m for m in self.meshes if m is not self.exporter)

    @model_validator(mode="after")
    def _checks(self) -> MultiMeshStack:
        problems = Problems()
        every = [c for m in self.meshes for c in m.clusters]
        problems.add(
            inert_network_policies(
                self.security.network_policies, {c.name: "ack" for c in every if c.cloud == "ack"}
            )
        )
        for m, mesh in enumerate(self.meshes):
            key = f"meshes[{m}].clusters"
            for i, cluster in enumerate(mesh.clusters):
                problems.add(
                    cluster_problems(f"{key}[{i}]", cluster, self.istio, self.alicloud, self.gcp)
                )
            problems.add(clusters_problems(key, mesh.clusters, self.alicloud))
        problems.add(rotation_refused(self.membership, self.istio.version))
        problems.add(self._apart())
        problems.add(self._federation())
        problems.raise_any()
        return self

    def _apart(self) -> list[str]:
        """Two meshes: their own names, clusters, trust domains and clouds."""
        first, second = self.meshes
        problems = []
        if first.name == second.name:
            problems.append(
                f"{PROJECT}:meshes[1].name {second.name!r} is also meshes[0]'s: each mesh "
                "has its own mesh ID; rename one"
            )
        seen: dict[str, int] = {}
        for m, mesh in enumerate(self.meshes):
            for i, cluster in enumerate(mesh.clusters):
                if cluster.name in seen:
                    problems.append(
                        f"{PROJECT}:meshes[{m}].clusters[{i}].name {cluster.name!r} is also "
                        f"a cluster of meshes[{seen[cluster.name]}]: every cluster has a "
                        "name of its own"
                    )
                seen.setdefault(cluster.name, m)
        problems += [
            f"{PROJECT}:meshes[{m}].name {mesh.name!r} is also a cluster's name: the mesh's "
            "root CA and networks are named after it, a cluster's CA and gateways after the "
            "cluster; rename one"
            for m, mesh in enumerate(self.meshes)
            if mesh.name in seen
        ]
        if first.trust_domain == second.trust_domain:
            problems.append(
                f"{PROJECT}:meshes[1].trustDomain {second.trust_domain!r} is also meshes[0]'s: "
                "each mesh trusts the other's root for the other's trust domain only, so two "
                "meshes in one trust domain cannot tell their workloads apart; give each its "
                "own (e.g. mesh-a.example and mesh-b.example)"
            )
        shared = sorted({c.cloud for c in first.clusters} & {c.cloud for c in second.clusters})
        problems += [
            f"{PROJECT}:meshes: both meshes have clusters on {cloud.upper()}: this stack builds "
            "each cloud's network, project services and provider for one mesh; put each mesh "
            "on its own cloud (ACK for one, GKE for the other)"
            for cloud in shared
        ]
        return problems

    def _federation(self) -> list[str]:
        federation, names = self.federation, [m.name for m in self.meshes]
        problems = []
        if federation.exporter is not None and federation.exporter not in names:
            problems.append(
                f"{PROJECT}:federation.exporter {federation.exporter!r} is not a mesh of the "
                f"stack ({', '.join(names)})"
            )
        accounts = [federation.allowed_account, federation.other_account, UNROOTED_ACCOUNT]
        if len(set(accounts)) < len(accounts):
            problems.append(
                f"{PROJECT}:federation.allowedAccount {federation.allowed_account!r} and "
                f"federation.otherAccount {federation.other_account!r} must differ from each "
                f"other and from {UNROOTED_ACCOUNT!r} (the check without the imported root): "
                "the checks prove that one account is admitted and the others are not"
            )
        if federation.gateway_port in ISTIO_PORTS:
            problems.append(
                f"{PROJECT}:federation.gatewayPort {federation.gateway_port} is a port Istio's "
                f"proxies use themselves ({', '.join(map(str, sorted(ISTIO_PORTS)))}); "
                "choose another, e.g. 15443"
            )
        if not self.hello_world.enabled:
            problems.append(
                f"{PROJECT}:helloWorld.enabled is false, but the federated service is the "
                "helloworld sample (the exporter's, called from the importer); set it to true"
            )
        if self.istio.data_plane == "ambient":
            # ztunnel takes no pushed bundle (stacks/config/trust.py: it learns roots only
            # with each workload certificate), so an imported root never reaches it.
            problems.append(
                f"{PROJECT}:istio.dataPlane is ambient, but meshConfig.caCertificates reaches "
                "only sidecars and gateways (their agents take the pushed bundle; ztunnel "
                "does not): federation here needs dataPlane sidecar"
            )
        return problems
