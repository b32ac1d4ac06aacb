"""What every mesh shares: Istio, Bookinfo, the addons, the sample app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from meshstack import versions
from stacks.config.fields import (
    PROJECT,
    AppNamespace,
    ChartRepository,
    Flag,
    ImageDigest,
    ImageReference,
    ImageRegistry,
    ImageTag,
    Manifest,
    Model,
    PullPolicy,
    Revision,
    SemVer,
    local_chart_problems,
)
from stacks.config.revisions import (
    DEFAULT_TAG,
    AmbientConfig,
    RevisionConfig,
    known_minor,
    newest,
    revision_problems,
)

MtlsMode = Literal["STRICT", "PERMISSIVE", "DISABLE"]


# Istio's default profile, or the demo profile of seed 000 (access log to stdout, 100 % trace
# sampling, small requests). Other chart profiles (remote, ambient) are set by the scenario.
IstioProfile = Literal["default", "demo"]


class IstioConfig(Model):
    """Istio control plane from Istio's Helm charts (seeds 000/004)."""

    # Whether the scenario builds istio.revisions (all but `single-cluster` so far).
    REVISIONS: ClassVar[bool] = False
    # Whether it builds them in ambient too (istio-cni and ztunnel on istio.ambient.revision).
    AMBIENT_REVISIONS: ClassVar[bool] = False

    version: SemVer = versions.ISTIO
    """The Istio release: the charts' version and the images' default tag."""
    chart_repository: ChartRepository = versions.ISTIO_CHART_REPOSITORY
    """Where the Istio charts come from (the same charts from Istio's OCI registry:
    oci://ghcr.io/istio/release/charts; file:///<dir> for the charts `make charts` pulled)."""
    gateway_api_crds: Manifest = versions.GATEWAY_API_CRDS
    """The Gateway API CRDs the gateway-api ingress and ambient need (the pinned release's
    standard-install.yaml): its URL, or the path of a local copy on a machine without
    internet."""
    hub: ImageRegistry = versions.ISTIO_HUB
    """Where Istio's images come from (e.g. a mirror in the cluster's region)."""
    tag: ImageTag | None = None
    """The images' tag; unset: the version."""
    image_pull_policy: PullPolicy = "Always"
    """When nodes ask the registry for Istio's images: Always (at each container start, pulling
    only when the tag names another digest), IfNotPresent or Never."""
    profile: IstioProfile = "demo"
    """demo: the charts' demo profile (access log on, 100 % tracing, small requests); default:
    Istio's default settings."""
    revision: Revision | None = None
    """A revisioned control plane (istiod-<revision>); injected namespaces are labelled
    istio.io/rev=<revision>. Unset: the default revision."""
    revisions: list[RevisionConfig] | None = Field(default=None, min_length=1)
    """Control planes side by side for canary upgrades (every scenario but `single-cluster`
    so far; two-cluster-retention with controlPlane istio), each {name, version} (and
    chartRepository if not istio.chartRepository): one istiod per revision in every primary
    cluster, never renamed; declared once for the whole mesh. Unset: the one of
    istio.version and istio.revision. Needs istio.tags (docs/day-2.md)."""
    tags: dict[Revision, Revision] | None = None
    """Revision tags with istio.revisions, tag → revision: `default` (required) injects the
    gateways and namespaces labelled istio-injection=enabled and validates Istio's objects;
    another tag serves namespaces labelled istio.io/rev=<tag>. Moving a tag is an in-place
    update of its release."""
    ambient: AmbientConfig | None = None
    """With dataPlane ambient and istio.revisions: {revision}, the revision istio-cni and
    ztunnel run (one of each per cluster, upgraded in place after that revision's istiod:
    docs/day-2.md). Required there, refused elsewhere."""
    tag_charts: str = Field(default=versions.TAG_CHARTS, min_length=1)
    """The directory of the revision-tag charts `make charts` derives from each version's
    istiod chart (<dir>/<version>/revision-tags; no repository publishes one): relative to
    the project, or absolute."""
    mtls: MtlsMode = "STRICT"
    """Mesh-wide PeerAuthentication; PERMISSIVE only while migrating plain-text clients."""
    outbound_traffic_policy: Literal["ALLOW_ANY", "REGISTRY_ONLY"] = "ALLOW_ANY"
    """ALLOW_ANY lets workloads call anything outside the mesh; REGISTRY_ONLY only what a
    ServiceEntry declares."""
    cni: Flag | None = None
    """Istio's CNI node agent (a DaemonSet) instead of an init container with NET_ADMIN and
    NET_RAW in every application pod. Unset: on wherever nodes run DaemonSets, off on a
    serverless cluster (virtual nodes run none; there the init container stays)."""
    ingress_service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "LoadBalancer"
    """The ingress gateway's Service: LoadBalancer (an address from the cloud), NodePort or
    ClusterIP (reach it with kubectl port-forward)."""
    egress_gateway: Flag = True
    """An egress gateway (the demo profile has one)."""
    data_plane: Literal["sidecar", "ambient"] = "sidecar"
    """sidecar: an Envoy proxy injected into every pod; ambient: ztunnel on every node (mTLS,
    L4) and a waypoint per namespace for L7 routing, no proxy in the pods (istio-cni and
    ztunnel run as DaemonSets; the charts' ambient profile replaces `profile`)."""
    ingress_api: Literal["istio", "gateway-api"] | None = None
    """How ingress is declared: istio (a gateway chart release with Istio's Gateway and
    VirtualService) or gateway-api (a Kubernetes Gateway of class istio with HTTPRoutes; the
    Gateway API CRDs are installed first). Unset: istio with sidecars, gateway-api in ambient."""
    platform: Literal["gke", "k3d", "k3s", "microk8s", "minikube"] | None = None
    """The charts' platform profile, where istio-cni and ztunnel need their host paths set
    (k3d, k3s, microk8s, minikube with the docker driver; GKE stacks set gke themselves).
    OpenShift is not offered: its profile expects istio-cni and ztunnel in kube-system."""

    @property
    def ingress(self) -> str:
        return self.ingress_api or ("gateway-api" if self.data_plane == "ambient" else "istio")

    @property
    def routes(self) -> str:
        """How routing between services is declared: HTTPRoutes (Gateway API's mesh routes,
        which ambient's waypoints implement) unless sidecars with Istio's ingress."""
        return "gateway-api" if self.data_plane == "ambient" else self.ingress

    @model_validator(mode="after")
    def _local_charts(self) -> IstioConfig:
        problems = local_chart_problems(
            "istio.chartRepository", self.chart_repository, versions.ISTIO_CHARTS
        )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _revisions(self) -> IstioConfig:
        problems = revision_problems(
            self.revisions, self.tags, self.model_fields_set, self.data_plane, self.ambient
        )
        if self.tagged and not self.REVISIONS:
            problems.append(
                f"{PROJECT}:istio.revisions is not built by this package for this scenario "
                "yet (only `local`, `multi-cluster`, `two-cluster-retention` and `vm`); use "
                "istio.version and istio.revision"
            )
        elif self.tagged and self.data_plane == "ambient" and not self.AMBIENT_REVISIONS:
            problems.append(
                f"{PROJECT}:istio.revisions with dataPlane ambient is built by this package for "
                "the `local` scenario only so far (one istio-cni and ztunnel per cluster on "
                "istio.ambient.revision); use istio.version here"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def tagged(self) -> bool:
        """Revisions side by side, chosen by tags (istio.revisions)."""
        return self.revisions is not None

    def declared_revisions(self) -> list[RevisionConfig]:
        """Every istiod's revision and version; the one of istio.version untagged."""
        if self.revisions is not None:
            return list(self.revisions)
        return [RevisionConfig(name=self.revision or DEFAULT_TAG, version=self.version)]

    def version_keys(self) -> list[tuple[str, str]]:
        """Each Istio version the mesh runs and the key that sets it (istio.version, or each
        revision's): what a rule about Istio releases judges."""
        if self.revisions is None:
            return [("istio.version", self.version)]
        return [(f"istio.revisions[{i}].version", r.version) for i, r in enumerate(self.revisions)]

    @property
    def default_revision(self) -> RevisionConfig:
        """The revision the `default` tag names (without istio.revisions: the one istiod):
        it injects the gateways and istio-injection=enabled namespaces, and a VM dials it."""
        if self.tags is None:
            return self.declared_revisions()[0]
        return next(r for r in self.declared_revisions() if r.name == self.tags[DEFAULT_TAG])

    @property
    def tagged_default(self) -> str | None:
        """With istio.revisions, the `default` tag's revision, which the package's own
        workloads name in a pod annotation, so that a move of the tag restarts them."""
        return self.default_revision.name if self.tagged else None

    @property
    def newest_revision(self) -> RevisionConfig:
        """The revision of the newest version: base, the CNI and the gateways are its."""
        return newest(self.declared_revisions())

    @property
    def mesh_version(self) -> str:
        return self.newest_revision.version if self.tagged else self.version

    @model_validator(mode="after")
    def _ambient_settings(self) -> IstioConfig:
        if self.data_plane != "ambient":
            return self
        problems = []
        if "profile" in self.model_fields_set:
            problems.append(
                f"{PROJECT}:istio.profile {self.profile!r} does not apply with dataPlane "
                "ambient: the charts' ambient profile is used; remove istio.profile"
            )
        if self.revision:
            problems.append(
                f"{PROJECT}:istio.revision {self.revision!r} is not supported with dataPlane "
                "ambient by this package (one ztunnel serves every revision); remove it, or "
                "use istio.revisions with istio.ambient.revision"
            )
        if self.ingress_api == "istio":
            problems.append(
                f"{PROJECT}:istio.ingressApi 'istio' is not supported with dataPlane ambient by "
                "this package: its routes are HTTPRoutes; use gateway-api (the default)"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def cni_enabled(self, serverless: bool) -> bool:
        return self.cni if self.cni is not None else not serverless

    @property
    def image_tag(self) -> str:
        return self.tag or self.version

    @field_validator("version")
    @classmethod
    def _known_minor(cls, version: str) -> str:
        return known_minor(version)


ReviewsVersion = Literal["v1", "v2", "v3"]


RoutingScenario = Literal[
    "none",
    "all-v1",
    "jason-v2",
    "reviews-80-20",
    "reviews-50-v3",
    "reviews-v3",
    "ratings-delay",
    "ratings-abort",
]


# Which reviews versions each routing scenario sends traffic to (it must be deployed).
ROUTING_NEEDS: Mapping[str, frozenset[str]] = {
    "none": frozenset(),
    "all-v1": frozenset({"v1"}),
    "jason-v2": frozenset({"v1", "v2"}),
    "reviews-80-20": frozenset({"v1", "v2"}),
    "reviews-50-v3": frozenset({"v1", "v3"}),
    "reviews-v3": frozenset({"v3"}),
    "ratings-delay": frozenset({"v1", "v2"}),
    "ratings-abort": frozenset({"v1", "v2"}),
}


# Bookinfo's own AuthorizationPolicies (components/meshstack/apps/bookinfo_authz.py).
BookinfoAuthorization = Literal["default-deny", "none"]


class BookinfoAuthorizationConfig(Model):
    """What every stack's Bookinfo shares: who may call its services."""

    authorization: BookinfoAuthorization | None = None
    """Bookinfo's own authorization policies: default-deny (an allow-nothing policy for its
    namespace, and each service admits exactly its callers by service account: productpage
    the ingress gateway, details and reviews productpage, ratings reviews) or none. Unset: the
    stack's last `pulumi up` decides: a new stack gets default-deny, a running stack keeps what
    it had, and a running stack that never had it gets none (an `up` never starts denying a
    running Bookinfo by surprise: set default-deny to turn it on; docs/security.md)."""


class BookinfoConfig(BookinfoAuthorizationConfig):
    """The Bookinfo sample as typed resources (seed 000 / 003)."""

    enabled: Flag = True
    """Deploy Istio's Bookinfo sample and its routing."""
    namespace: AppNamespace = "bookinfo"
    """Bookinfo's namespace, labelled for sidecar injection."""
    image_hub: ImageRegistry = versions.BOOKINFO_HUB
    """Where Bookinfo's images come from."""
    image_tag: ImageTag = versions.BOOKINFO_TAG
    """Bookinfo's image tag."""
    reviews_versions: list[ReviewsVersion] = Field(default=["v1", "v2", "v3"], min_length=1)
    """The reviews versions that run (v1: no stars, v2: black, v3: red)."""
    routing: RoutingScenario = "jason-v2"
    """The traffic-management scenario of Istio's tasks: none, all-v1, jason-v2 (jason sees v2),
    reviews-80-20, reviews-50-v3, reviews-v3, ratings-delay or ratings-abort (jason meets the
    fault)."""

    @model_validator(mode="after")
    def _routing_targets_deployed(self) -> BookinfoConfig:
        problems = []
        if len(set(self.reviews_versions)) != len(self.reviews_versions):
            problems.append(f"reviewsVersions lists a version twice: {self.reviews_versions}")
        missing = ROUTING_NEEDS[self.routing] - set(self.reviews_versions)
        if missing:
            problems.append(
                f"routing {self.routing!r} sends traffic to reviews {sorted(missing)}, "
                f"which reviewsVersions {self.reviews_versions} does not deploy"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


class ChartAddonConfig(Model):
    """An addon installed from its chart (`chart` of `versions`), from its repository."""

    PIN: ClassVar[versions.ChartPin]
    KEY: ClassVar[str]
    enabled: Flag
    repository: str

    @model_validator(mode="after")
    def _local_chart(self) -> ChartAddonConfig:
        key = f"addons.{self.KEY}.repository"
        problems = local_chart_problems(key, self.repository, [self.PIN.chart])
        if self.enabled and problems:
            raise ValueError("\n".join(problems))
        return self


class KialiConfig(ChartAddonConfig):
    PIN = versions.KIALI
    KEY = "kiali"
    enabled: Flag = True
    """Kiali, the mesh's graph console."""
    chart_version: SemVer = versions.KIALI.version
    """The kiali-server chart's version."""
    repository: ChartRepository = versions.KIALI.repository
    """Where the chart comes from."""


class PrometheusConfig(ChartAddonConfig):
    PIN = versions.PROMETHEUS
    KEY = "prometheus"
    enabled: Flag = True
    """Prometheus, the metrics Kiali and Grafana read."""
    chart_version: SemVer = versions.PROMETHEUS.version
    """The prometheus chart's version."""
    repository: ChartRepository = versions.PROMETHEUS.repository
    """Where the chart comes from."""


class GrafanaConfig(ChartAddonConfig):
    PIN = versions.GRAFANA
    KEY = "grafana"
    enabled: Flag = True
    """Grafana with Istio's dashboards."""
    chart_version: SemVer = versions.GRAFANA.version
    """The grafana chart's version."""
    repository: ChartRepository = versions.GRAFANA.repository
    """Where the chart comes from."""


class JaegerConfig(Model):
    """Jaeger v2 all-in-one (in-memory), declared as typed objects like Istio's own addon."""

    enabled: Flag = True
    """Jaeger v2 (in-memory) receiving Istio's traces."""
    image: ImageRegistry = versions.JAEGER_IMAGE
    """Jaeger's image."""
    tag: ImageTag = versions.JAEGER_TAG
    """Jaeger's image tag."""
    sampling_percentage: float = Field(default=100.0, ge=0.0, le=100.0)
    """The share of requests traced."""


class AddonsConfig(Model):
    """Seed 004's observability addons, each switchable, wired so Kiali finds the others."""

    kiali: KialiConfig = KialiConfig()
    prometheus: PrometheusConfig = PrometheusConfig()
    grafana: GrafanaConfig = GrafanaConfig()
    jaeger: JaegerConfig = JaegerConfig()

    @model_validator(mode="after")
    def _prometheus_feeds_the_dashboards(self) -> AddonsConfig:
        if not self.prometheus.enabled:
            needing = [n for n in ("kiali", "grafana") if getattr(self, n).enabled]
            if needing:
                keys = " and ".join(f"{PROJECT}:addons.{n}.enabled" for n in needing)
                verb = "are" if len(needing) > 1 else "is"
                raise ValueError(
                    f"{PROJECT}:addons.prometheus.enabled is false, but {keys} {verb} true: "
                    "their graphs and dashboards read Prometheus; enable Prometheus or "
                    "disable them too"
                )
        return self


class HelloWorldConfig(Model):
    """Seed 001's in-cluster service the VM calls (http://hello-world.default)."""

    enabled: Flag = True
    """Deploy the hello-world service the VM calls."""
    namespace: AppNamespace = "default"
    """Its namespace (default is labelled for injection, never created or deleted)."""
    image: ImageReference = versions.HELLO_WORLD_IMAGE
    """Its image, with a pinned tag."""


class VerifyConfig(Model):
    """The checks `pulumi up` runs in the clusters before it reports success (the seeds'
    verification steps: routes, mTLS, the VM, every cluster answering)."""

    enabled: Flag = True
    """Run the in-cluster checks `pulumi up` waits for."""
    samples: int = Field(default=20, ge=5, le=200)
    """Requests per round of each check (weighted routing takes at least 100)."""
    deadline_seconds: int = Field(default=420, ge=60, le=1800)
    """How long a check may retry before it fails the update (a VM's first boot included)."""


# Routing scenarios Gateway API's HTTPRoute cannot express (it has no fault injection).
FAULT_SCENARIOS = frozenset({"ratings-delay", "ratings-abort"})


class SecurityConfig(Model):
    """Hardening beyond the defaults every workload gets (docs/security.md)."""

    network_policies: Flag = True
    """NetworkPolicies: each of Bookinfo's and hello-world's services admits its own port and
    the data plane's; Prometheus, Grafana, Kiali and Jaeger's query API only their namespace's
    pods (Jaeger's receivers admit every proxy); Istio's charts add theirs
    (global.networkPolicy.enabled). `kubectl port-forward` is not affected. Enforced by GKE's
    Dataplane V2 (which GKE clusters then run) and by a local context's CNI (kind's since
    v0.24); false by default with Alibaba Cloud clusters, which would not enforce them (ACK:
    Flannel; ACS, ASK: no policy add-on), and true is refused there."""
    image_digests: dict[ImageReference, ImageDigest] = Field(default_factory=dict)
    """Pull these images by digest: image as the package names it (e.g.
    docker.io/istio/examples-bookinfo-details-v1:1.20.3) → its digest (`crane digest <image>`
    or `docker buildx imagetools inspect <image>`). Covers Bookinfo, hello-world and Jaeger."""


class MeshStack(Model):
    """What every scenario that runs Istio and Bookinfo shares."""

    istio: IstioConfig = IstioConfig()
    bookinfo: BookinfoConfig = BookinfoConfig()
    addons: AddonsConfig = AddonsConfig()
    verify: VerifyConfig = VerifyConfig()
    security: SecurityConfig = SecurityConfig()

    @property
    def serverless(self) -> bool:
        """Whether the cluster has virtual nodes only (no DaemonSets)."""
        return False

    @model_validator(mode="after")
    def _routing_expressible(self) -> MeshStack:
        problems = authorization_problems(self) if self.bookinfo.enabled else []
        if self.istio.routes == "gateway-api":
            problems += routing_inexpressible(self.bookinfo.routing)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def mesh_mtls(stack: Any) -> str:
    """The mesh-wide mTLS mode the stack applies (ASM's own with ASM)."""
    if getattr(stack, "control_plane", "istio") == "asm":
        return stack.asm.mtls
    return stack.istio.mtls


def authorization_problems(stack: Any) -> list[str]:
    """Bookinfo's default-deny admits callers by their mTLS identity: with mTLS disabled no
    call has one, so every call would be denied."""
    mtls = mesh_mtls(stack)
    if stack.bookinfo.authorization != "default-deny" or mtls != "DISABLE":
        return []
    key = "asm.mtls" if getattr(stack, "control_plane", "istio") == "asm" else "istio.mtls"
    return [
        f"{PROJECT}:bookinfo.authorization is default-deny, which admits callers by their mTLS "
        f"identity, but {PROJECT}:{key} is DISABLE: no call has one, so every call to Bookinfo "
        f"would be denied; set {key} to STRICT or PERMISSIVE, or bookinfo.authorization to none"
    ]


def routing_inexpressible(routing: str) -> list[str]:
    """A routing scenario that Bookinfo's HTTPRoutes cannot express (a fault)."""
    if routing not in FAULT_SCENARIOS:
        return []
    return [
        f"{PROJECT}:bookinfo.routing {routing!r} injects a fault, which Gateway API's "
        "HTTPRoute cannot express (routes are HTTPRoutes with dataPlane ambient or "
        "istio.ingressApi gateway-api); choose none, all-v1, jason-v2, reviews-80-20, "
        "reviews-50-v3 or reviews-v3, or dataPlane sidecar with istio.ingressApi istio"
    ]
