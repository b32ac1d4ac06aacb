"""The typed stack configuration: parsed and validated before any resource exists.

Every `meshstack:<key>` value of a stack file lands here. `load()` either returns a frozen
`StackConfig` or raises one `ConfigError` whose message names each offending key, the value
given and what is allowed. Nothing in this module touches Pulumi resources.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import versions
from components.alicloud.versions import MINIMUM_ASM_RELEASE, asm_release
from components.istio.topology import MeshMember, MeshTopology, TopologyError

PROJECT = "meshstack"


class ConfigError(ValueError):
    """A user mistake in the stack configuration. The message is meant to be shown as is."""


# --- value types --------------------------------------------------------------------------

# Each pattern with the words an error message uses for it.
PATTERN_HELP: dict[str, str] = {}


def _pattern(regex: str, help_text: str) -> StringConstraints:
    PATTERN_HELP[regex] = help_text
    return StringConstraints(pattern=regex)


SemVer = Annotated[
    str,
    _pattern(r"^\d+\.\d+\.\d+$", "an exact release such as 1.31.0 (no range, no 'latest')"),
]
DnsLabel = Annotated[
    str,
    _pattern(
        r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        "a DNS label: at most 63 lower-case letters, digits and '-', "
        "starting and ending with a letter or digit",
    ),
]
ImageRegistry = Annotated[
    str,
    _pattern(
        r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)*$",
        "an image registry such as docker.io/istio",
    ),
]
ImageTag = Annotated[
    str, _pattern(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", "an image tag such as 1.31.0")
]
ChartRepository = Annotated[
    str, _pattern(r"^(https|oci)://\S+$", "an https:// or oci:// chart repository URL")
]
Region = Annotated[str, _pattern(r"^[a-z]{2}(-[a-z0-9]+)+$", "a region id such as us-west-1")]
Zone = Annotated[
    str, _pattern(r"^[a-z]{2}(-[a-z0-9]+)+$", "a zone id such as us-west-1a or cn-hangzhou-h")
]
CloudZone = Annotated[
    str, _pattern(r"^[a-z]+(-[a-z0-9]+)+$", "a zone id such as us-west-1a or us-west1-b")
]
AckVersion = Annotated[
    str,
    _pattern(
        r"^1\.\d+(\.\d+-aliyun\.\d+)?$",
        "a Kubernetes minor version such as 1.36 (ACK's newest patch of it is used) "
        "or an exact ACK version such as 1.36.1-aliyun.1",
    ),
]


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        raise ValueError(f"not a network CIDR ({err})") from None
    if network.version != 4:
        raise ValueError("only IPv4 ranges are supported")
    return str(network)


Cidr = Annotated[str, AfterValidator(_cidr)]
InstanceType = Annotated[
    str, _pattern(r"^ecs\.[a-z0-9-]+\.[a-z0-9]+$", "an ECS instance type such as ecs.g7.xlarge")
]
AsmVersion = Annotated[
    str,
    _pattern(
        r"^(1\.\d+|v1\.\d+\.\d+\.\d+-[0-9A-Za-z.-]+)$",
        "an ASM minor version such as 1.26 (ASM's newest release of it is used) "
        "or an exact ASM version such as v1.26.3.110-g1a2b3c4d-aliyun",
    ),
]
PullPolicy = Literal["IfNotPresent", "Always", "Never"]
GcpRegion = Annotated[
    str, _pattern(r"^[a-z]+-[a-z]+[0-9]+$", "a Google Cloud region such as us-west1")
]
GcpZone = Annotated[
    str, _pattern(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$", "a Google Cloud zone such as us-west1-b")
]
GcpProject = Annotated[
    str,
    _pattern(
        r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        "a Google Cloud project id: 6-30 lower-case letters, digits and '-'",
    ),
]
GkeVersion = Annotated[
    str, _pattern(r"^1\.\d+(\.\d+(-gke\.\d+)?)?$", "a GKE version such as 1.35 or 1.35.2-gke.1200")
]
MachineType = Annotated[
    str, _pattern(r"^[a-z][a-z0-9]*-[a-z0-9-]+$", "a Compute Engine machine type such as e2-medium")
]
# "family/<name>" or "<project>/<family or image>" as gcloud and the provider accept it.
GceImage = Annotated[
    str, _pattern(r"^[a-z][a-z0-9-]*/[a-z][a-z0-9-]*$", "an image such as debian-cloud/debian-13")
]
# An Istio network name: empty means the single, flat network (seed 001).
# Compute Engine and GKE names: RFC 1035 labels (a letter first); GKE allows 40 characters.
GceName = Annotated[
    str,
    _pattern(
        r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
        "a Compute Engine name: a lower-case letter, then lower-case letters, digits and '-', "
        "at most 63, not ending in '-'",
    ),
]
GkeClusterName = Annotated[
    str,
    _pattern(
        r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$",
        "a GKE cluster name: a lower-case letter, then lower-case letters, digits and '-', "
        "at most 40, not ending in '-'",
    ),
]
IstioClusterName = Annotated[
    str,
    _pattern(
        r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        "a cluster name such as Kubernetes or cluster1 (letters, digits, '-', '_', '.')",
    ),
]
ImageReference = Annotated[
    str,
    _pattern(
        r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        "an image with a pinned tag such as gcr.io/tetratelabs/hello-world:1.0.0",
    ),
]
NetworkName = Annotated[
    str, _pattern(r"^([a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?)?$", "empty or a name such as network1")
]


class Model(BaseModel):
    """Strict base: unknown keys are errors, keys are camelCase as in the stack files."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, validate_by_name=False, frozen=True
    )


# --- mesh -----------------------------------------------------------------------------------

MtlsMode = Literal["STRICT", "PERMISSIVE", "DISABLE"]
# Istio's default profile, or the demo profile of seed 000 (access log to stdout, 100 % trace
# sampling, small requests). Other chart profiles (remote, ambient) are set by the scenario.
IstioProfile = Literal["default", "demo"]


class IstioConfig(Model):
    """Istio control plane from Istio's Helm charts (seeds 000/004)."""

    version: SemVer = versions.ISTIO
    chart_repository: ChartRepository = versions.ISTIO_CHART_REPOSITORY
    hub: ImageRegistry = versions.ISTIO_HUB
    tag: ImageTag | None = None
    image_pull_policy: PullPolicy = "IfNotPresent"
    profile: IstioProfile = "demo"
    revision: DnsLabel | None = None
    # Mesh-wide PeerAuthentication; PERMISSIVE only while migrating plain-text clients.
    mtls: MtlsMode = "STRICT"
    outbound_traffic_policy: Literal["ALLOW_ANY", "REGISTRY_ONLY"] = "ALLOW_ANY"
    cni: bool = False
    ingress_service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "LoadBalancer"
    egress_gateway: bool = True

    @property
    def image_tag(self) -> str:
        return self.tag or self.version

    @field_validator("version")
    @classmethod
    def _known_minor(cls, version: str) -> str:
        minor = ".".join(version.split(".")[:2])
        if minor not in versions.ISTIO_SUPPORTS_KUBERNETES:
            known = ", ".join(f"{m}.x" for m in versions.ISTIO_SUPPORTS_KUBERNETES)
            raise ValueError(
                f"Istio {minor} is not one this package is tested with ({known}: its charts "
                "are rendered by the tests and its Kubernetes range is known)"
            )
        return version


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


class BookinfoConfig(Model):
    """The Bookinfo sample as typed resources (seed 000 / 003)."""

    enabled: bool = True
    namespace: DnsLabel = "bookinfo"
    image_hub: ImageRegistry = versions.BOOKINFO_HUB
    image_tag: ImageTag = versions.BOOKINFO_TAG
    reviews_versions: list[ReviewsVersion] = Field(default=["v1", "v2", "v3"], min_length=1)
    routing: RoutingScenario = "jason-v2"

    @model_validator(mode="after")
    def _routing_targets_deployed(self) -> BookinfoConfig:
        if len(set(self.reviews_versions)) != len(self.reviews_versions):
            raise ValueError(f"reviewsVersions lists a version twice: {self.reviews_versions}")
        missing = ROUTING_NEEDS[self.routing] - set(self.reviews_versions)
        if missing:
            raise ValueError(
                f"routing {self.routing!r} sends traffic to reviews {sorted(missing)}, "
                f"which reviewsVersions {self.reviews_versions} does not deploy"
            )
        return self


# --- addons ---------------------------------------------------------------------------------


class KialiConfig(Model):
    enabled: bool = True
    chart_version: SemVer = versions.KIALI.version
    repository: ChartRepository = versions.KIALI.repository


class PrometheusConfig(Model):
    enabled: bool = True
    chart_version: SemVer = versions.PROMETHEUS.version
    repository: ChartRepository = versions.PROMETHEUS.repository


class GrafanaConfig(Model):
    enabled: bool = True
    chart_version: SemVer = versions.GRAFANA.version
    repository: ChartRepository = versions.GRAFANA.repository


class JaegerConfig(Model):
    """Jaeger v2 all-in-one (in-memory), declared as typed objects like Istio's own addon."""

    enabled: bool = True
    image: ImageRegistry = versions.JAEGER_IMAGE
    tag: ImageTag = versions.JAEGER_TAG
    sampling_percentage: float = Field(default=100.0, ge=0.0, le=100.0)


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


# --- clusters -------------------------------------------------------------------------------


class KubeContextConfig(Model):
    """An existing cluster (the `local` scenario), reached as `kubectl` reaches it."""

    # None: what kubectl reads, $KUBECONFIG (a list of files) or ~/.kube/config.
    kubeconfig: str | None = Field(default=None, min_length=1)
    # None: the kubeconfig's current context.
    context: str | None = Field(default=None, min_length=1)
    # Virtual nodes only (no DaemonSets): Istio CNI is refused.
    serverless: bool = False


class LocalIstioConfig(IstioConfig):
    """kind and minikube give a LoadBalancer Service no address without an add-on, and Helm
    would wait for one until it rolls back: the gateway is a ClusterIP Service, reached with
    `kubectl port-forward`. Set LoadBalancer where the cluster has a load balancer (Docker
    Desktop, k3d, MetalLB, `minikube tunnel`, cloud-provider-kind)."""

    ingress_service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "ClusterIP"


class VSwitchConfig(Model):
    zone: Zone
    cidr: Cidr


class AlicloudVpcConfig(Model):
    region: Region = "us-west-1"
    vpc_cidr: Cidr = "192.168.0.0/16"
    # Peak bandwidth of the NAT gateway's EIP (pay-by-traffic: you pay for bytes, not this).
    eip_bandwidth_mbps: int = Field(default=100, ge=1, le=500)


class AlicloudNetworkConfig(AlicloudVpcConfig):
    # One vSwitch per zone; serverless pods spread over them.
    vswitches: list[VSwitchConfig] = Field(
        default_factory=lambda: [VSwitchConfig(zone="us-west-1a", cidr="192.168.0.0/19")],
        min_length=1,
    )


class ServerlessClusterConfig(Model):
    """The serverless cluster of seed 000 (values from the console walkthrough)."""

    name: DnsLabel = "hello-istio"
    # acs: Container Compute Service, what a new account can create. ask: ACK Serverless, the
    # seed's, for accounts that created an ASK cluster before 2025-02-17.
    offering: Literal["acs", "ask"] = "acs"
    # Seed: 1.20.11-aliyun.1, long retired. Istio 1.31 supports Kubernetes 1.32-1.36.
    kubernetes_version: AckVersion = "1.36"
    cluster_spec: Literal["ack.pro.small", "ack.standard"] = "ack.pro.small"
    service_cidr: Cidr = "172.21.0.0/20"
    api_server_public: bool = True
    timezone: str = "Asia/Shanghai"
    # Seed: "use Log Service: create a new project" (ACK names it k8s-log-<cluster id>).
    # ASK only: the log addon on ACS is not one this package has checked.
    log_project: bool = True
    # ACK keeps the log project when the cluster is deleted unless told otherwise.
    delete_logs_on_destroy: bool = False
    deletion_protection: bool = True

    @model_validator(mode="after")
    def _log_project_is_asks(self) -> ServerlessClusterConfig:
        if self.offering == "acs" and self.log_project and "log_project" in self.model_fields_set:
            raise ValueError(
                f"{PROJECT}:cluster.logProject applies to offering ask only (the Log Service "
                "addon on ACS is not one this package has checked); remove it or set "
                "cluster.offering to ask"
            )
        return self


class NodePoolConfig(Model):
    """The worker nodes of one ACK cluster (pay-as-you-go ECS instances)."""

    # Tried in order until one is in stock; 4 vCPU / 16 GiB fits Istio and Bookinfo twice over.
    instance_types: list[InstanceType] = Field(
        default_factory=lambda: ["ecs.g7.xlarge", "ecs.g6.xlarge"], min_length=1
    )
    size: int = Field(default=2, ge=1, le=100)
    image_type: Literal["AliyunLinux3", "AliyunLinux3ContainerOptimized", "Ubuntu"] = "AliyunLinux3"
    system_disk_category: Literal["cloud_essd", "cloud_auto", "cloud_efficiency"] = "cloud_essd"
    system_disk_size_gb: int = Field(default=120, ge=40, le=2048)
    # An existing ECS key pair for the nodes' SSH login; without one the stack creates one
    # (its private key is the secret output nodeLoginKeys). ACK requires a key or a password.
    key_pair: str | None = Field(default=None, min_length=1)


class MemberClusterConfig(Model):
    """One ACK Pro cluster of a multi-cluster mesh (seed 002: m1c1, m1c2)."""

    name: DnsLabel
    zone: Zone
    # The cluster's vSwitch (its nodes); must lie in the VPC.
    vswitch_cidr: Cidr
    # Flannel pod range and Service range: outside the VPC and disjoint across clusters.
    pod_cidr: Cidr
    service_cidr: Cidr
    kubernetes_version: AckVersion = "1.36"
    cluster_spec: Literal["ack.pro.small", "ack.standard"] = "ack.pro.small"
    api_server_public: bool = True
    deletion_protection: bool = True
    node_pool: NodePoolConfig = NodePoolConfig()
    # Seed 002: m1c1 runs reviews v1 only, m1c2 reviews v2 only.
    reviews_versions: list[ReviewsVersion] = Field(default=["v1"], min_length=1)
    # Seed 002: the ingress gateway runs in m1c1 only.
    ingress_gateway: bool = False


class AsmConfig(Model):
    """The managed control plane: an Alibaba Cloud Service Mesh (ASM) instance."""

    # Cluster-local retention needs ASM 1.15.3.101 or later.
    version: AsmVersion = "1.26"
    edition: Literal["Default", "Pro"] = "Pro"
    cluster_spec: Literal["standard", "enterprise", "ultimate"] = "enterprise"
    # The ASM API server (where Istio objects are applied) on a public EIP, so that
    # `pulumi up` from outside the VPC reaches it.
    api_server_public: bool = True
    # Mesh settings ASM exposes through its API.
    outbound_traffic_policy: Literal["ALLOW_ANY", "REGISTRY_ONLY"] = "ALLOW_ANY"
    access_log: bool = True
    # Prefer endpoints in the caller's zone/region (for services that are not retained).
    locality_load_balancing: bool = False
    # Mesh-wide PeerAuthentication, applied through the ASM API server.
    mtls: MtlsMode = "STRICT"
    # ASM has no deletion protection of its own: Pulumi's `protect` stands in for it.
    deletion_protection: bool = True


class SharedBookinfoConfig(Model):
    """Bookinfo deployed in every cluster (which reviews versions is per cluster)."""

    namespace: DnsLabel = "bookinfo"
    image_hub: ImageRegistry = versions.BOOKINFO_HUB
    image_tag: ImageTag = versions.BOOKINFO_TAG


# Bookinfo services called from inside the mesh. productpage is only reached from the
# ingress gateway, which runs in one cluster: retaining it would cut /productpage2 off.
RetentionTarget = Literal["*", "details", "reviews", "ratings"]
RETAINABLE_SERVICES: tuple[str, ...] = tuple(s for s in get_args(RetentionTarget) if s != "*")


class RetentionConfig(Model):
    """Cluster-local traffic retention (seed 002): calls to these services stay in the
    caller's cluster. "*" means every service called inside the mesh."""

    services: list[RetentionTarget] = Field(default=["reviews"])

    @model_validator(mode="after")
    def _star_alone(self) -> RetentionConfig:
        if "*" in self.services and len(self.services) > 1:
            raise ValueError(f"services {self.services}: '*' already means every service")
        if len(set(self.services)) != len(self.services):
            raise ValueError(f"services lists a service twice: {self.services}")
        return self

    @property
    def hosts(self) -> tuple[str, ...]:
        """The Bookinfo services retained, "*" expanded."""
        if "*" in self.services:
            return RETAINABLE_SERVICES
        return tuple(s for s in RETAINABLE_SERVICES if s in self.services)


# --- Google Cloud: the VM lab (seed 001) --------------------------------------------------


class GcpConfig(Model):
    # None: the provider's own default (GOOGLE_PROJECT, or gcloud's configured project).
    project: GcpProject | None = None
    region: GcpRegion = "us-west1"
    # Seed 001 uses us-west1-b for the cluster and the VM.
    zone: GcpZone = "us-west1-b"


class GcpNetworkConfig(Model):
    # The subnet's primary range: GKE nodes, the VM and the east-west gateway's internal address.
    subnet_cidr: Cidr = "10.10.0.0/20"
    # VPC-native (alias IP) secondary ranges of the cluster's pods and Services.
    pod_cidr: Cidr = "10.20.0.0/14"
    service_cidr: Cidr = "10.24.0.0/20"


class GkeNodePoolConfig(Model):
    # 4 vCPU / 16 GiB: istiod, two gateways and the sample apps with room to spare.
    machine_type: MachineType = "e2-standard-4"
    node_count: int = Field(default=2, ge=1, le=100)
    disk_size_gb: int = Field(default=50, ge=10, le=2048)
    disk_type: Literal["pd-balanced", "pd-standard", "pd-ssd"] = "pd-balanced"
    spot: bool = False


class GkeClusterConfig(Model):
    """A zonal GKE Standard cluster with its own node pool (no default pool)."""

    name: GkeClusterName = "istio-vm-lab"
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    # None: the channel's default. Otherwise a minimum the channel upgrades from.
    kubernetes_version: GkeVersion | None = None
    deletion_protection: bool = True
    node_pool: GkeNodePoolConfig = GkeNodePoolConfig()
    # Who may reach the control plane's public endpoint (besides the nodes); None: any
    # address (every request is still authenticated).
    authorized_networks: list[Cidr] | None = None


class MeshIdentityConfig(Model):
    """Seed 001's IstioOperator values: mesh ID, cluster name, network."""

    mesh_id: DnsLabel = "mesh1"
    # Istio's name for this cluster (seed: "Kubernetes"); the VM's cluster.env carries it.
    cluster_name: IstioClusterName = "Kubernetes"
    # Seed: "" (one flat network). A name makes the east-west gateway a network gateway.
    network: NetworkName = ""


class VmIstioConfig(IstioConfig):
    """Seed 001 installs Istio's default profile (no egress gateway). Its ingress gateway
    serves nothing in this lab: it stays, without a public load balancer."""

    profile: IstioProfile = "default"
    egress_gateway: bool = False
    ingress_service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "ClusterIP"


class GceVmConfig(Model):
    """The Compute Engine VM and the mesh identity of its workload (seed 001's values)."""

    name: GceName = "hello-vm-1"
    machine_type: MachineType = "e2-medium"
    # Seed: Debian 10 (buster), retired. The istio-sidecar package installs on current Debian.
    image: GceImage = "debian-cloud/debian-13"
    disk_size_gb: int = Field(default=20, ge=10, le=2048)
    # Who may reach port 22; nobody by default. Google's IAP TCP forwarding uses 35.235.240.0/20.
    ssh_source_ranges: list[Cidr] = Field(default_factory=list)
    deletion_protection: bool = False
    namespace: DnsLabel = "vm-namespace"
    service_account: DnsLabel = "vm-sa"
    # The WorkloadGroup, Service, WorkloadEntry and ServiceEntry name, and the `app` label.
    app: DnsLabel = "hello-vm"
    instance_id: DnsLabel = "vm1"
    # The port the VM's HTTP server listens on (seed: python3 -m http.server 80).
    port: int = Field(default=80, ge=1, le=65535)
    # The VM's Istio network; empty when it shares the cluster's (seed).
    network: NetworkName = ""
    # How long each bootstrap token (audience istio-ca) is valid; renewed four times per
    # lifetime by a CronJob, re-read by the VM every 15 minutes. At least 8 hours, so that a
    # renewal is never more than half a token's life away.
    token_lifetime_hours: int = Field(default=24, ge=8, le=168)


class HelloWorldConfig(Model):
    """Seed 001's in-cluster service the VM calls (http://hello-world.default)."""

    enabled: bool = True
    namespace: DnsLabel = "default"
    image: ImageReference = versions.HELLO_WORLD_IMAGE


# --- scenarios ------------------------------------------------------------------------------


class MeshStack(Model):
    """What every scenario that runs Istio and Bookinfo shares."""

    istio: IstioConfig = IstioConfig()
    bookinfo: BookinfoConfig = BookinfoConfig()
    addons: AddonsConfig = AddonsConfig()


class LocalStack(MeshStack):
    scenario: Literal["local"]
    kubernetes: KubeContextConfig = KubeContextConfig()
    # Frozen models: narrowing the field's type in a subclass is safe.
    istio: LocalIstioConfig = LocalIstioConfig()  # pyright: ignore[reportIncompatibleVariableOverride]

    @model_validator(mode="after")
    def _cni_needs_daemonsets(self) -> LocalStack:
        _refuse_cni_on_serverless(self.istio, self.kubernetes.serverless)
        return self


class SingleClusterStack(MeshStack):
    scenario: Literal["single-cluster"]
    network: AlicloudNetworkConfig = AlicloudNetworkConfig()
    cluster: ServerlessClusterConfig = ServerlessClusterConfig()

    @model_validator(mode="after")
    def _checks(self) -> SingleClusterStack:
        _refuse_cni_on_serverless(self.istio, serverless=True)
        _refuse_unsupported_kubernetes(self.istio.version, self.cluster.kubernetes_version)
        named = []
        for i, vswitch in enumerate(self.network.vswitches):
            key = f"network.vswitches[{i}]"
            _refuse_vswitch_outside(
                self.network, f"{key}.cidr", vswitch.cidr, f"{key}.zone", vswitch.zone
            )
            named.append((f"{key}.cidr", vswitch.cidr))
        named.append(("cluster.serviceCidr", self.cluster.service_cidr))
        assert_disjoint(named)
        return self


# Seed 002's clusters; the seed lets the console pick the ranges, these are disjoint ones.
SEED_002_CLUSTERS: tuple[dict[str, Any], ...] = (
    {
        "name": "m1c1",
        "zone": "us-west-1a",
        "vswitchCidr": "192.168.0.0/20",
        "podCidr": "10.10.0.0/16",
        "serviceCidr": "172.16.0.0/20",
        "reviewsVersions": ["v1"],
        "ingressGateway": True,
    },
    {
        "name": "m1c2",
        "zone": "us-west-1a",
        "vswitchCidr": "192.168.16.0/20",
        "podCidr": "10.11.0.0/16",
        "serviceCidr": "172.16.16.0/20",
        "reviewsVersions": ["v2"],
    },
)


class TwoClusterStack(Model):
    """Seed 002: ACK clusters in one VPC, one mesh, Bookinfo split, cluster-local traffic."""

    scenario: Literal["two-cluster-retention"]
    # asm: the managed ASM control plane (seed 002); istio: istiod in every cluster,
    # multi-primary on one network with a shared root of trust.
    control_plane: Literal["asm", "istio"] = "asm"
    # Names the ASM instance (seed: mesh1), or Istio's meshID when controlPlane is istio.
    mesh_id: DnsLabel = "mesh1"
    network: AlicloudVpcConfig = AlicloudVpcConfig()
    clusters: list[MemberClusterConfig] = Field(
        default_factory=lambda: [
            MemberClusterConfig.model_validate(cluster) for cluster in SEED_002_CLUSTERS
        ],
        min_length=2,
    )
    asm: AsmConfig = AsmConfig()
    # Used when controlPlane is istio.
    istio: IstioConfig = IstioConfig()
    bookinfo: SharedBookinfoConfig = SharedBookinfoConfig()
    retention: RetentionConfig = RetentionConfig()

    @model_validator(mode="after")
    def _checks(self) -> TwoClusterStack:
        names = [c.name for c in self.clusters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"{PROJECT}:clusters repeats the name(s) {duplicates}; cluster names must be "
                "unique (they name the clusters, their security groups and their subsets)"
            )
        gateways = [c.name for c in self.clusters if c.ingress_gateway]
        if len(gateways) != 1:
            raise ValueError(
                f"{PROJECT}:clusters: exactly one cluster sets ingressGateway: true "
                f"(it receives the ingress gateway); found {gateways or 'none'}"
            )
        if self.control_plane == "istio":
            for i, cluster in enumerate(self.clusters):
                _refuse_unsupported_kubernetes(
                    self.istio.version,
                    cluster.kubernetes_version,
                    f"clusters[{i}].kubernetesVersion",
                )
        elif self.asm.version.startswith("v"):
            _refuse_asm_without_retention(self.asm.version)
        named: list[tuple[str, str]] = [("network.vpcCidr", self.network.vpc_cidr)]
        for i, cluster in enumerate(self.clusters):
            key = f"clusters[{i}]"
            _refuse_vswitch_outside(
                self.network,
                f"{key}.vswitchCidr",
                cluster.vswitch_cidr,
                f"{key}.zone",
                cluster.zone,
            )
            named += [
                (f"{key}.podCidr", cluster.pod_cidr),
                (f"{key}.serviceCidr", cluster.service_cidr),
            ]
        # vSwitches lie inside the VPC by design: compare them with each other only.
        assert_disjoint(named)
        assert_disjoint(
            [(f"clusters[{i}].vswitchCidr", c.vswitch_cidr) for i, c in enumerate(self.clusters)]
        )
        return self

    @property
    def gateway_cluster(self) -> MemberClusterConfig:
        return next(c for c in self.clusters if c.ingress_gateway)


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

    @model_validator(mode="after")
    def _checks(self) -> VmStack:
        gcp = self.gcp
        if not gcp.zone.startswith(f"{gcp.region}-"):
            raise ValueError(
                f"{PROJECT}:gcp.zone {gcp.zone!r} is not in {PROJECT}:gcp.region {gcp.region!r}"
            )
        if self.cluster.kubernetes_version:
            _refuse_unsupported_kubernetes(self.istio.version, self.cluster.kubernetes_version)
        assert_disjoint(
            [
                ("network.subnetCidr", self.network.subnet_cidr),
                ("network.podCidr", self.network.pod_cidr),
                ("network.serviceCidr", self.network.service_cidr),
            ]
        )
        for i, cidr in enumerate(self.vm.ssh_source_ranges):
            if ipaddress.IPv4Network(cidr).prefixlen == 0:
                raise ValueError(
                    f"{PROJECT}:vm.sshSourceRanges[{i}] {cidr} opens SSH to the whole internet; "
                    "name the ranges you connect from (e.g. 35.235.240.0/20 for IAP TCP forwarding)"
                )
        if bool(self.mesh.network) != bool(self.vm.network):
            raise ValueError(
                f"{PROJECT}:mesh.network is {self.mesh.network!r} and {PROJECT}:vm.network is "
                f"{self.vm.network!r}: name both networks (a multi-network mesh, traffic through "
                "the east-west gateway) or neither (one flat network, as in seed 001)"
            )
        return self


class MeshClusterConfig(Model):
    """One cluster of a multi-cluster mesh, on Alibaba Cloud (ACK) or Google Cloud (GKE)."""

    name: DnsLabel
    cloud: Literal["ack", "gke"]
    # primary: runs istiod; remote: uses the istiod of `primary`.
    role: Literal["primary", "remote"] = "primary"
    primary: DnsLabel | None = None
    # Clusters on one network reach each other's pods; across networks, through gateways.
    network: DnsLabel = "network1"
    # Checked against the cloud's own zone shape and region.
    zone: CloudZone
    # The nodes' range: the ACK cluster's vSwitch (inside alicloud.vpcCidr) or the GKE subnet.
    node_cidr: Cidr
    pod_cidr: Cidr
    service_cidr: Cidr
    # ACK: a minor (its newest patch) or an exact version; GKE: None is the channel's default.
    kubernetes_version: str | None = None
    deletion_protection: bool = True
    # ACK only: the API server on a public endpoint (a primary in another cloud reads it).
    api_server_public: bool = True
    ack_node_pool: NodePoolConfig = NodePoolConfig()
    # GKE only.
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    gke_node_pool: GkeNodePoolConfig = GkeNodePoolConfig()
    # GKE only: who may reach the public endpoint; include the egress addresses of any
    # primary in another cloud that reads this cluster.
    authorized_networks: list[Cidr] | None = None
    # None: where the topology needs one (other networks, or remotes to serve).
    east_west_gateway: bool | None = None


class MeshIstioConfig(IstioConfig):
    """Istio's default profile on every primary; no egress gateway."""

    profile: IstioProfile = "default"
    egress_gateway: bool = False


class SampleAppConfig(HelloWorldConfig):
    """hello-world in every cluster: a call from any cluster is answered by any of them."""

    namespace: DnsLabel = "sample"


KUBERNETES_VERSION_PATTERNS = {"ack": AckVersion, "gke": GkeVersion}
OTHER_CLOUD_KEYS = {
    "ack": ("gke_node_pool", "release_channel", "authorized_networks"),
    "gke": ("ack_node_pool", "api_server_public"),
}


class MultiClusterStack(Model):
    """Seed 001, section 1: N clusters on ACK and/or GKE, any control-plane and network model."""

    scenario: Literal["multi-cluster"]
    mesh_id: DnsLabel = "mesh1"
    alicloud: AlicloudVpcConfig = AlicloudVpcConfig()
    gcp: GcpConfig = GcpConfig()
    clusters: list[MeshClusterConfig] = Field(min_length=2)
    istio: MeshIstioConfig = MeshIstioConfig()
    hello_world: SampleAppConfig = SampleAppConfig()

    @model_validator(mode="after")
    def _checks(self) -> MultiClusterStack:
        for i, cluster in enumerate(self.clusters):
            self._check_cluster(f"clusters[{i}]", cluster)
        try:
            topology = self.topology
        except TopologyError as err:
            raise ValueError(f"{PROJECT}:clusters: {err}") from None
        clouds_of: dict[str, set[str]] = {}
        for cluster in self.clusters:
            clouds_of.setdefault(cluster.network, set()).add(cluster.cloud)
        shared = sorted(n for n, clouds in clouds_of.items() if len(clouds) > 1)
        if shared:
            raise ValueError(
                f"{PROJECT}:clusters: network {shared[0]!r} has clusters on both ACK and GKE, "
                "whose pods cannot reach each other directly; give each cloud its own network "
                "(traffic between them then goes through east-west gateways)"
            )
        for i, cluster in enumerate(self.clusters):
            if cluster.east_west_gateway is False and topology.needs_eastwest_gateway(cluster.name):
                why = (
                    "the mesh spans several networks"
                    if topology.multi_network
                    else "its remotes reach istiod through it"
                )
                raise ValueError(
                    f"{PROJECT}:clusters[{i}].eastWestGateway is false, but {cluster.name!r} "
                    f"needs one: {why}"
                )
        for cluster_name, reader in topology.remote_secrets():
            read, reading = self._cluster(cluster_name), self._cluster(reader)
            if read.cloud == "ack" and reading.cloud != "ack" and not read.api_server_public:
                i = self.clusters.index(read)
                raise ValueError(
                    f"{PROJECT}:clusters[{i}].apiServerPublic is false, but istiod in "
                    f"{reader!r} (another cloud) reads the API server of {read.name!r}"
                )
        named: list[tuple[str, str]] = []
        for i, cluster in enumerate(self.clusters):
            named += [
                (f"clusters[{i}].nodeCidr", cluster.node_cidr),
                (f"clusters[{i}].podCidr", cluster.pod_cidr),
                (f"clusters[{i}].serviceCidr", cluster.service_cidr),
            ]
        assert_disjoint(named)
        if any(c.cloud == "ack" for c in self.clusters):
            ack_ranges = [(key, cidr) for key, cidr in named if not key.endswith(".nodeCidr")] + [
                ("alicloud.vpcCidr", self.alicloud.vpc_cidr)
            ]
            assert_disjoint(ack_ranges)
        return self

    def _check_cluster(self, key: str, cluster: MeshClusterConfig) -> None:
        for field_name in OTHER_CLOUD_KEYS[cluster.cloud]:
            if field_name in cluster.model_fields_set:
                raise ValueError(
                    f"{PROJECT}:{key}.{to_camel(field_name)} does not apply to "
                    f"{cluster.cloud.upper()} clusters"
                )
        version = cluster.kubernetes_version
        if version is not None:
            _refuse_mismatch(
                f"{key}.kubernetesVersion", version, KUBERNETES_VERSION_PATTERNS[cluster.cloud]
            )
            _refuse_unsupported_kubernetes(self.istio.version, version, f"{key}.kubernetesVersion")
        if cluster.cloud == "ack":
            _refuse_vswitch_outside(
                self.alicloud,
                f"{key}.nodeCidr",
                cluster.node_cidr,
                f"{key}.zone",
                cluster.zone,
                network_key="alicloud",
            )
        else:
            _refuse_mismatch(f"{key}.name", cluster.name, GkeClusterName)
            _refuse_mismatch(f"{key}.zone", cluster.zone, GcpZone)
            if not cluster.zone.startswith(f"{self.gcp.region}-"):
                raise ValueError(
                    f"{PROJECT}:{key}.zone {cluster.zone!r} is not in "
                    f"{PROJECT}:gcp.region {self.gcp.region!r}"
                )

    @staticmethod
    def ack_version(cluster: MeshClusterConfig) -> str:
        return cluster.kubernetes_version or "1.36"

    def _cluster(self, name: str) -> MeshClusterConfig:
        return next(c for c in self.clusters if c.name == name)

    @property
    def topology(self) -> MeshTopology:
        return MeshTopology(
            tuple(MeshMember(c.name, c.network, c.role, c.primary) for c in self.clusters)
        )


AnyStack = LocalStack | SingleClusterStack | TwoClusterStack | VmStack | MultiClusterStack
StackConfig = Annotated[AnyStack, Field(discriminator="scenario")]
_STACK_ADAPTER: TypeAdapter[AnyStack] = TypeAdapter(StackConfig)
SCENARIO_MODELS: Mapping[str, type[Model]] = {
    "local": LocalStack,
    "single-cluster": SingleClusterStack,
    "two-cluster-retention": TwoClusterStack,
    "vm": VmStack,
    "multi-cluster": MultiClusterStack,
}
SCENARIOS = tuple(SCENARIO_MODELS)


# --- cross-field helpers ----------------------------------------------------------------------


def _refuse_cni_on_serverless(istio: IstioConfig, serverless: bool) -> None:
    if istio.cni and serverless:
        raise ValueError(
            f"{PROJECT}:istio.cni is true, but this cluster is serverless (virtual nodes run "
            "no DaemonSet, and Istio CNI is a DaemonSet); set istio.cni to false: sidecars then "
            "use an init "
            "container with NET_ADMIN and NET_RAW"
        )


def _refuse_unsupported_kubernetes(
    istio_version: str, kubernetes_version: str, key: str = "cluster.kubernetesVersion"
) -> None:
    istio_minor = ".".join(istio_version.split(".")[:2])
    supported = versions.ISTIO_SUPPORTS_KUBERNETES.get(istio_minor)
    kubernetes_minor = int(kubernetes_version.split(".")[1])
    if supported and not supported[0] <= kubernetes_minor <= supported[1]:
        low, high = supported
        raise ValueError(
            f"{PROJECT}:{key} {kubernetes_version!r} is outside what Istio "
            f"{istio_minor} supports (Kubernetes 1.{low} to 1.{high}); choose one of those or "
            f"another {PROJECT}:istio.version"
        )


def _refuse_asm_without_retention(version: str) -> None:
    if asm_release(version) < MINIMUM_ASM_RELEASE:
        minimum = ".".join(map(str, MINIMUM_ASM_RELEASE))
        raise ValueError(
            f"{PROJECT}:asm.version {version!r} predates cluster-local retention "
            f"(ASM {minimum}); choose a later release"
        )


def _refuse_vswitch_outside(
    network: AlicloudVpcConfig,
    cidr_key: str,
    cidr: str,
    zone_key: str,
    zone: str,
    *,
    network_key: str = "network",
) -> None:
    """A vSwitch lies in the VPC's range and in a zone of the VPC's region."""
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    if not ipaddress.IPv4Network(cidr).subnet_of(vpc):
        raise ValueError(
            f"{PROJECT}:{cidr_key} {cidr} is not inside {PROJECT}:{network_key}.vpcCidr {vpc}"
        )
    if not zone.startswith(network.region):
        raise ValueError(
            f"{PROJECT}:{zone_key} {zone!r} is not in "
            f"{PROJECT}:{network_key}.region {network.region!r}"
        )


def _refuse_mismatch(key: str, value: str, kind: Any) -> None:
    """A value checked against one of the pattern types above, where the type depends on
    another field (e.g. a cluster's cloud)."""
    pattern = get_args(kind)[1].pattern
    if not re.match(pattern, value):
        raise ValueError(f"{PROJECT}:{key} = {value!r}: expected {PATTERN_HELP[pattern]}")


def assert_disjoint(named_cidrs: list[tuple[str, str]]) -> None:
    """Refuse the first pair of overlapping ranges, naming both keys and both ranges."""
    networks = [(key, ipaddress.ip_network(cidr)) for key, cidr in named_cidrs]
    for i, (key_a, net_a) in enumerate(networks):
        for key_b, net_b in networks[i + 1 :]:
            if net_a.overlaps(net_b):
                raise ValueError(f"{PROJECT}:{key_a} {net_a} overlaps {PROJECT}:{key_b} {net_b}")


# --- loading --------------------------------------------------------------------------------


def parse_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn Pulumi's `meshstack:<key>` strings into Python values.

    Pulumi hands object values over as JSON text and scalars as plain strings; other
    namespaces (provider settings such as `kubernetes:context`) are not ours and are skipped.
    """
    prefix = f"{PROJECT}:"
    values: dict[str, Any] = {}
    for full_key, value in raw.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                values[key] = json.loads(value)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{full_key}: value is not valid JSON ({err.msg})") from None
        else:
            values[key] = value
    return values


def load(raw: Mapping[str, Any]) -> AnyStack:
    """Validate a stack's configuration; raise one ConfigError listing every mistake."""
    values = parse_raw(raw)
    try:
        stack = _STACK_ADAPTER.validate_python(values)
    except ValidationError as err:
        raise ConfigError(_describe(err, values)) from None
    return stack


def _describe(err: ValidationError, values: Mapping[str, Any]) -> str:
    lines = [_describe_one(e, values) for e in err.errors(include_url=False)]
    header = "Invalid stack configuration" + (
        " (1 problem):" if len(lines) == 1 else f" ({len(lines)} problems):"
    )
    return "\n".join([header, *(f"  - {line}" for line in lines)])


def _describe_one(error: Any, values: Mapping[str, Any]) -> str:
    loc = [
        part
        for part in error["loc"]
        if not isinstance(part, str) or not part.startswith("function-")
    ]
    # The discriminated union puts the scenario tag first; it is not a key the user wrote.
    if loc and loc[0] in SCENARIOS:
        loc = loc[1:]
    key = _key_name(loc)
    kind = error["type"]
    given = error.get("input")
    if kind == "union_tag_not_found" and not loc:
        return f"{PROJECT}:scenario is required; allowed: {', '.join(SCENARIOS)}"
    if kind == "union_tag_invalid":
        return (
            f"{PROJECT}:scenario = {values.get('scenario')!r} is not a scenario; "
            f"allowed: {', '.join(SCENARIOS)}"
        )
    if kind == "missing":
        return f"{key} is required"
    if kind == "extra_forbidden":
        return f"{key} is not a known setting here; allowed: {_allowed_keys(loc, values)}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        if not loc or message.startswith(f"{PROJECT}:"):  # it names its keys itself
            return message
        if isinstance(given, (str, int, float, bool)):
            return f"{key} = {given!r}: {message}"
        return f"{key}: {message}"
    expected = _expected(error)
    return f"{key} = {given!r}: {expected}"


def _key_name(loc: list[Any]) -> str:
    text = PROJECT + ":"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if i else "") + str(part)
    return text


def _expected(error: Any) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] == "literal_error":
        return f"expected one of {ctx.get('expected')}"
    if error["type"] == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return f"expected {PATTERN_HELP.get(pattern, 'a value matching ' + pattern)}"
    if error["type"] in ("dict_type", "model_type", "model_attributes_type"):
        return "expected an object (a YAML mapping)"
    return str(error["msg"]).removeprefix("Value error, ")


def _allowed_keys(loc: list[Any], values: Mapping[str, Any]) -> str:
    """The camelCase keys the model accepts at `loc` (the parent of the unknown key)."""
    model: Any = SCENARIO_MODELS.get(str(values.get("scenario")))
    if model is None:
        return "(unknown)"
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return "(unknown)"
        model = _model_of(field.annotation)
        if model is None:
            return "(unknown)"
    return ", ".join(sorted(f.alias for f in model.model_fields.values() if f.alias))


def _model_of(annotation: Any) -> type[Model] | None:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
