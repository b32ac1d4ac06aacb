"""`multi-cluster`: N clusters on ACK and/or GKE, any of Istio's models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from meshstack import versions
from meshstack.istio.topology import MeshMember, MeshTopology, TopologyError
from stacks.config.alibaba import AlicloudVpcConfig, NodePoolConfig, SharedBookinfoConfig
from stacks.config.checks import (
    Problems,
    inert_network_policies,
    mismatch,
    overlapping,
    policies_off_with_ack,
    unsupported_kubernetes,
    vswitch_outside,
)
from stacks.config.cluster import ClusterInMesh, MembershipConfig, rotation_refused
from stacks.config.fields import (
    PROJECT,
    AckVersion,
    AppNamespace,
    Cidr,
    DnsLabel,
    Flag,
    GcpZone,
    GkeClusterName,
    GkeVersion,
    ImageReference,
    Model,
)
from stacks.config.google import GcpConfig, GkeNodePoolConfig, gcp_zone_problems
from stacks.config.mesh import (
    ROUTING_NEEDS,
    HelloWorldConfig,
    IstioConfig,
    IstioProfile,
    ReviewsVersion,
    RoutingScenario,
    SecurityConfig,
    VerifyConfig,
    authorization_problems,
    routing_inexpressible,
)
from stacks.config.trust import TrustConfig, trust_problems

# Without bookinfo.reviewsVersions, cluster i runs REVIEWS_SPLIT[i % 3]: seed 002's split (v1
# in the first cluster, v2 in the second), so that routing needs the other cluster.
REVIEWS_SPLIT = ("v1", "v2", "v3")


# What a cluster runs without kubernetesVersion (meshstack/gcp/gke.py min_master_version;
# ack_version below).
DEFAULT_KUBERNETES = {"ack": versions.ALIBABA_KUBERNETES, "gke": versions.GKE_KUBERNETES}


class MeshClusterConfig(ClusterInMesh):
    """One cluster of a multi-cluster mesh, on Alibaba Cloud (ACK) or Google Cloud (GKE)."""

    cloud: Literal["ack", "gke"]
    """ack: an ACK managed cluster in alicloud.region; gke: a GKE cluster in gcp.region."""
    role: Literal["primary", "remote"] = "primary"
    """primary: runs istiod; remote: uses the istiod of `primary`."""
    primary: DnsLabel | None = None
    """For a remote: the primary whose istiod it uses."""
    network: DnsLabel = "network1"
    """Clusters on one network reach each other's pods; across networks, through gateways."""
    kubernetes_version: str | None = None
    """ACK: a minor (the newest patch for a new cluster; a running one keeps its own) or an
    exact version; GKE: a minor or exact version whose minor GKE holds. Unset: ACK
    meshstack.versions.ALIBABA_KUBERNETES, GKE GKE_KUBERNETES."""
    ack_node_pool: NodePoolConfig = NodePoolConfig()
    """ACK only: its worker nodes."""
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    """GKE only."""
    gke_node_pool: GkeNodePoolConfig = GkeNodePoolConfig()
    """GKE only: its nodes."""
    authorized_networks: list[Cidr] | None = None
    """GKE only: who may reach the public endpoint; include the egress addresses of any primary
    in another cloud that reads this cluster."""
    east_west_gateway: Flag | None = None
    """Unset: where the topology needs one (other networks, or remotes to serve)."""


class MeshIstioConfig(IstioConfig):
    """Istio's default profile on every primary; no egress gateway."""

    REVISIONS = True

    profile: IstioProfile = "default"
    """Istio's default profile on every primary (demo: the charts' demo profile)."""
    egress_gateway: Flag = False
    """No egress gateway."""


class OneRevisionIstioConfig(MeshIstioConfig):
    """The same settings where istio.revisions is not built yet (multi-mesh: each mesh
    would need its own tags; external-control-plane: the external istiod per revision)."""

    REVISIONS = False


class SampleAppConfig(HelloWorldConfig):
    """Istio's helloworld sample in every cluster, answering with its cluster's name: a call
    from any cluster is answered by all of them."""

    namespace: AppNamespace = "sample"
    """Its namespace in every cluster, labelled for injection."""
    image: ImageReference = versions.HELLOWORLD_SAMPLE_IMAGE
    """Istio's helloworld sample, answering GET /hello with its cluster's name (the verification
    counts which clusters answer; another image must answer the same way)."""


class MeshBookinfoConfig(SharedBookinfoConfig):
    """Istio's Bookinfo over the clusters (dataPlane ambient): every cluster runs details,
    ratings and productpage and its own reviews versions, every Service global; a waypoint
    per cluster routes between services (the routing scenario as HTTPRoutes, the same in
    every cluster); a Gateway API ingress in one cluster."""

    enabled: Flag = False
    """Deploy Bookinfo in every cluster (dataPlane ambient only)."""
    ingress_cluster: DnsLabel | None = None
    """The cluster whose Gateway API ingress gateway serves Bookinfo (unset: the first); the
    check runs there."""
    reviews_versions: dict[DnsLabel, list[ReviewsVersion]] | None = None
    """The reviews versions each cluster runs, by cluster name (a cluster not named runs
    none). Unset: the first cluster v1, the second v2, the third v3, then again."""
    routing: RoutingScenario = "jason-v2"
    """The routing scenario, in every cluster's waypoint: none, all-v1, jason-v2, reviews-80-20,
    reviews-50-v3 or reviews-v3 (faults have no HTTPRoute form)."""

    def reviews_of(self, clusters: list[str]) -> dict[str, tuple[str, ...]]:
        """Each cluster's reviews versions, in the clusters' order."""
        if self.reviews_versions is None:
            return {name: (REVIEWS_SPLIT[i % 3],) for i, name in enumerate(clusters)}
        return {name: tuple(self.reviews_versions.get(name, ())) for name in clusters}

    def gateway_cluster(self, clusters: list[str]) -> str:
        return self.ingress_cluster or clusters[0]


KUBERNETES_VERSION_PATTERNS = {"ack": AckVersion, "gke": GkeVersion}


OTHER_CLOUD_KEYS = {
    "ack": ("gke_node_pool", "release_channel", "authorized_networks"),
    "gke": ("ack_node_pool", "api_server_public"),
}


def topology_of(clusters: Sequence[MeshClusterConfig]) -> MeshTopology:
    return MeshTopology(tuple(MeshMember(c.name, c.network, c.role, c.primary) for c in clusters))


def clusters_problems(
    key: str, clusters: Sequence[MeshClusterConfig], alicloud: AlicloudVpcConfig
) -> list[str]:
    """What is wrong with the clusters of one mesh together (`key`: where they are): networks
    across clouds, overlapping ranges, the topology, gateways and API servers it needs."""
    problems: list[str] = []
    clouds_of: dict[str, set[str]] = {}
    for cluster in clusters:
        clouds_of.setdefault(cluster.network, set()).add(cluster.cloud)
    problems += [
        f"{PROJECT}:{key}: network {network!r} has clusters on both ACK and GKE, "
        "whose pods cannot reach each other directly; give each cloud its own network "
        "(traffic between them then goes through east-west gateways)"
        for network, clouds in sorted(clouds_of.items())
        if len(clouds) > 1
    ]
    named: list[tuple[str, str]] = []
    for i, cluster in enumerate(clusters):
        named += [
            (f"{key}[{i}].nodeCidr", cluster.node_cidr),
            (f"{key}[{i}].podCidr", cluster.pod_cidr),
            (f"{key}[{i}].serviceCidr", cluster.service_cidr),
        ]
    problems += overlapping(named)
    if any(c.cloud == "ack" for c in clusters):
        ack_ranges = [(k, cidr) for k, cidr in named if not k.endswith(".nodeCidr")]
        problems += overlapping([*ack_ranges, ("alicloud.vpcCidr", alicloud.vpc_cidr)])
    try:
        topology = topology_of(clusters)
    except TopologyError as err:
        return [*problems, f"{PROJECT}:{key}: {err}"]
    for i, cluster in enumerate(clusters):
        if cluster.east_west_gateway is False and topology.needs_eastwest_gateway(cluster.name):
            why = (
                "the mesh spans several networks"
                if topology.multi_network
                else "its remotes reach istiod through it"
            )
            problems.append(
                f"{PROJECT}:{key}[{i}].eastWestGateway is false, but {cluster.name!r} "
                f"needs one: {why}"
            )
    by_name = {c.name: c for c in clusters}
    for cluster_name, reader in topology.remote_secrets():
        read, reading = by_name[cluster_name], by_name[reader]
        if read.cloud == "ack" and reading.cloud != "ack" and not read.api_server_public:
            problems.append(
                f"{PROJECT}:{key}[{list(clusters).index(read)}].apiServerPublic is false, but "
                f"istiod in {reader!r} (another cloud) reads the API server of {read.name!r}"
            )
    return problems


def cluster_problems(
    key: str,
    cluster: MeshClusterConfig,
    istio: IstioConfig,
    alicloud: AlicloudVpcConfig,
    gcp: GcpConfig,
) -> list[str]:
    """What is wrong with one ACK or GKE cluster of a mesh on its own (`key`: where it is);
    its Kubernetes version is judged against every Istio version the mesh runs."""
    problems = [
        f"{PROJECT}:{key}.{to_camel(field_name)} does not apply to {cluster.cloud.upper()} clusters"
        for field_name in OTHER_CLOUD_KEYS[cluster.cloud]
        if field_name in cluster.model_fields_set
    ]
    given = cluster.kubernetes_version
    # Unset, the cluster gets the package's default, which must suit every Istio version too.
    version = given or DEFAULT_KUBERNETES[cluster.cloud]
    where = f"{key}.kubernetesVersion" + ("" if given else " (unset: the default)")
    shape = mismatch(where, version, KUBERNETES_VERSION_PATTERNS[cluster.cloud]) if given else []
    problems += shape or [
        problem
        for istio_key, istio_version in istio.version_keys()
        for problem in unsupported_kubernetes(istio_version, version, where, istio_key)
    ]
    if cluster.cloud == "ack":
        problems += vswitch_outside(
            alicloud,
            f"{key}.nodeCidr",
            cluster.node_cidr,
            f"{key}.zone",
            cluster.zone,
            network_key="alicloud",
        )
    else:
        problems += mismatch(f"{key}.name", cluster.name, GkeClusterName)
        problems += mismatch(f"{key}.zone", cluster.zone, GcpZone) or gcp_zone_problems(
            gcp.region, cluster.zone, f"{key}.zone"
        )
    return problems


class MultiClusterStack(Model):
    """Seed 001, section 1: N clusters on ACK and/or GKE, any control-plane and network model."""

    scenario: Literal["multi-cluster"]
    mesh_id: DnsLabel = "mesh1"
    """Istio's mesh ID, and the prefix of the shared networks and groups."""
    alicloud: AlicloudVpcConfig = AlicloudVpcConfig()
    gcp: GcpConfig = GcpConfig()
    clusters: list[MeshClusterConfig] = Field(min_length=2)
    istio: MeshIstioConfig = MeshIstioConfig()
    membership: MembershipConfig = MembershipConfig()
    hello_world: SampleAppConfig = SampleAppConfig()
    bookinfo: MeshBookinfoConfig = MeshBookinfoConfig()
    verify: VerifyConfig = VerifyConfig()
    security: SecurityConfig = SecurityConfig()
    trust: TrustConfig = TrustConfig()

    @model_validator(mode="before")
    @classmethod
    def _policies_off_with_ack(cls, data: Any) -> Any:
        return policies_off_with_ack(data, data.get("clusters") if isinstance(data, dict) else None)

    @model_validator(mode="after")
    def _checks(self) -> MultiClusterStack:
        problems = Problems()
        problems.add(
            inert_network_policies(
                self.security.network_policies,
                {c.name: "ack" for c in self.clusters if c.cloud == "ack"},
            )
        )
        if self.istio.data_plane == "ambient" and len({c.network for c in self.clusters}) < 2:
            problems.add(
                f"{PROJECT}:clusters are all on one network, but istio.dataPlane is ambient: "
                "Istio's ambient multi-cluster supports multi-network meshes only (istiod "
                "builds the cross-cluster index only with AMBIENT_ENABLE_MULTI_NETWORK); give "
                "the clusters their own networks, or use dataPlane sidecar"
            )
        if self.istio.data_plane == "ambient":
            problems.add(
                f"{PROJECT}:clusters[{i}].role is remote, but istio.dataPlane is ambient: "
                "Istio's ambient multi-cluster model (Beta) is multi-primary; make every "
                "cluster a primary, or use dataPlane sidecar"
                for i, cluster in enumerate(self.clusters)
                if cluster.role == "remote"
            )
        for i, cluster in enumerate(self.clusters):
            problems.add(self._check_cluster(f"clusters[{i}]", cluster))
        problems.add(
            problem
            for key, version in self.istio.version_keys()
            for problem in rotation_refused(self.membership, version, key)
        )
        primaries = [c.name for c in self.clusters if c.role == "primary"]
        problems.add(trust_problems(self.trust, self.istio, primaries))
        if self.bookinfo.enabled:
            problems.add(self._check_bookinfo())
        problems.add(clusters_problems("clusters", self.clusters, self.alicloud))
        problems.raise_any()
        return self

    def _check_cluster(self, key: str, cluster: MeshClusterConfig) -> list[str]:
        return cluster_problems(key, cluster, self.istio, self.alicloud, self.gcp)

    def _check_bookinfo(self) -> list[str]:
        bookinfo, names = self.bookinfo, [c.name for c in self.clusters]
        if self.istio.data_plane != "ambient":
            return [
                f"{PROJECT}:bookinfo.enabled is true, but istio.dataPlane is sidecar: Bookinfo "
                "over a multi-cluster mesh is built here in ambient (waypoints and Gateway API "
                "routes); set istio.dataPlane to ambient, or see two-cluster-retention for "
                "Bookinfo over sidecars"
            ]
        problems = routing_inexpressible(bookinfo.routing) + authorization_problems(self)
        if bookinfo.ingress_cluster is not None and bookinfo.ingress_cluster not in names:
            problems.append(
                f"{PROJECT}:bookinfo.ingressCluster {bookinfo.ingress_cluster!r} is not a "
                f"cluster of the mesh ({', '.join(names)})"
            )
        problems += [
            f"{PROJECT}:bookinfo.reviewsVersions names {name!r}, which is not a cluster of "
            f"the mesh ({', '.join(names)})"
            for name in bookinfo.reviews_versions or {}
            if name not in names
        ]
        problems += [
            f"{PROJECT}:bookinfo.reviewsVersions.{name} lists a version twice: {listed}"
            for name, listed in (bookinfo.reviews_versions or {}).items()
            if len(set(listed)) != len(listed)
        ]
        deployed = {v for versions in bookinfo.reviews_of(names).values() for v in versions}
        if not deployed:
            problems.append(
                f"{PROJECT}:bookinfo.reviewsVersions runs reviews in no cluster: productpage "
                "would show no reviews; give at least one cluster a version"
            )
        missing = ROUTING_NEEDS[bookinfo.routing] - deployed
        if missing:
            problems.append(
                f"{PROJECT}:bookinfo.routing {bookinfo.routing!r} sends traffic to reviews "
                f"{sorted(missing)}, which no cluster runs (bookinfo.reviewsVersions)"
            )
        return problems

    @staticmethod
    def ack_version(cluster: MeshClusterConfig) -> str:
        return cluster.kubernetes_version or versions.ALIBABA_KUBERNETES

    @property
    def topology(self) -> MeshTopology:
        return topology_of(self.clusters)
