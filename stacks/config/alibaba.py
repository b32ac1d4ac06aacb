"""Alibaba Cloud settings: the VPC, serverless and ACK clusters, ASM, retention."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, model_validator

from meshstack import versions
from stacks.config.cluster import ClusterInMesh
from stacks.config.fields import (
    PROJECT,
    AckVersion,
    AppNamespace,
    AsmVersion,
    Cidr,
    DnsLabel,
    Flag,
    ImageRegistry,
    ImageTag,
    InstanceType,
    Model,
    Region,
    TimeZone,
    Zone,
)
from stacks.config.mesh import BookinfoAuthorizationConfig, MtlsMode, ReviewsVersion


class VSwitchConfig(Model):
    zone: Zone
    """A zone of the region."""
    cidr: Cidr
    """The vSwitch's range, inside the VPC."""


class AlicloudVpcConfig(Model):
    region: Region = "us-west-1"
    """The Alibaba Cloud region (us-west-1: Silicon Valley)."""
    vpc_cidr: Cidr = "192.168.0.0/16"
    """The VPC's range."""
    eip_bandwidth_mbps: int = Field(default=100, ge=1, le=500)
    """Peak bandwidth of the NAT gateway's EIP (pay-by-traffic: you pay for bytes, not this)."""


class AlicloudNetworkConfig(AlicloudVpcConfig):
    vswitches: list[VSwitchConfig] = Field(
        default_factory=lambda: [VSwitchConfig(zone="us-west-1a", cidr="192.168.0.0/19")],
        min_length=1,
    )
    """One vSwitch per zone; serverless pods spread over them."""


class ServerlessClusterConfig(Model):
    """The serverless cluster of seed 000 (values from the console walkthrough)."""

    name: DnsLabel = "hello-istio"
    """The cluster's name."""
    offering: Literal["acs", "ask"] = "acs"
    """acs: Container Compute Service, what a new account can create. ask: ACK Serverless, the
    walkthrough's, for accounts that created an ASK cluster before 2025-02-17."""
    kubernetes_version: AckVersion = versions.ALIBABA_KUBERNETES
    """A minor or an exact ACK version, in the Istio release's Kubernetes range (the
    walkthrough's 1.20 is long retired). A new cluster gets the newest patch of a minor; a
    running one keeps its version while this names it or its minor: raising it is the upgrade,
    and ACK does not go back."""
    cluster_spec: Literal["ack.pro.small", "ack.standard"] = "ack.pro.small"
    """ack.pro.small (Pro, the walkthrough's) or ack.standard."""
    service_cidr: Cidr = "172.21.0.0/20"
    """The cluster's Service range; must not overlap the VPC's vSwitches."""
    api_server_public: Flag = True
    """The API server on a public EIP; false needs `pulumi up` from inside the VPC."""
    timezone: TimeZone = "Asia/Shanghai"
    """The cluster's time zone."""
    log_project: Flag = True
    """A new Log Service project, as the walkthrough chooses (ACK names it
    k8s-log-<cluster id>). ASK only: the log addon on ACS is not one this package has checked."""
    delete_logs_on_destroy: Flag = False
    """ACK keeps the log project when the cluster is deleted unless told otherwise."""
    deletion_protection: Flag = True
    """ACK refuses to delete the cluster until this is false."""

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

    instance_types: list[InstanceType] = Field(
        default_factory=lambda: ["ecs.g7.xlarge", "ecs.g6.xlarge"], min_length=1
    )
    """Tried in order until one is in stock; 4 vCPU / 16 GiB fits Istio and Bookinfo twice over."""
    size: int = Field(default=2, ge=1, le=100)
    """How many nodes."""
    image_type: Literal["AliyunLinux3", "AliyunLinux3ContainerOptimized", "Ubuntu"] = "AliyunLinux3"
    """The nodes' operating system image."""
    system_disk_category: Literal["cloud_essd", "cloud_auto", "cloud_efficiency"] = "cloud_essd"
    """The nodes' system disk type."""
    system_disk_size_gb: int = Field(default=120, ge=40, le=2048)
    """The nodes' system disk size."""
    key_pair: str | None = Field(default=None, min_length=1)
    """An existing ECS key pair for the nodes' SSH login; without one the stack creates one (its
    private key is the secret output nodeLoginKeys). ACK requires a key or a password."""


class MemberClusterConfig(ClusterInMesh):
    """One ACK Pro cluster of the two-cluster mesh (the walkthrough's m1c1 and m1c2); its
    security group is <name>-sg and its subset in routing is <name>."""

    zone: Zone
    """The zone of its vSwitch."""
    kubernetes_version: AckVersion = versions.ALIBABA_KUBERNETES
    """A minor or an exact ACK version: a new cluster gets the newest patch of a minor; a
    running one keeps its version while this names it or its minor (raising it upgrades)."""
    cluster_spec: Literal["ack.pro.small", "ack.standard"] = "ack.pro.small"
    """ack.pro.small (Pro) or ack.standard."""
    node_pool: NodePoolConfig = NodePoolConfig()
    """Its worker nodes."""
    reviews_versions: list[ReviewsVersion] = Field(default=["v1"], min_length=1)
    """The reviews versions this cluster runs (the walkthrough: v1 in m1c1, v2 in m1c2)."""
    ingress_gateway: Flag = False
    """The ingress gateway runs here (exactly one cluster; the walkthrough: m1c1)."""


class AsmConfig(Model):
    """The managed control plane: an Alibaba Cloud Service Mesh (ASM) instance."""

    version: AsmVersion = versions.ASM
    """A minor or an exact ASM release (cluster-local retention needs 1.15.3.101 or later): a
    new instance gets the newest release of a minor; a running one keeps its release while this
    names it or its minor (raising it upgrades; ASM does not go back)."""
    edition: Literal["Default", "Pro"] = "Pro"
    """ASM's edition (Pro: the commercially supported one)."""
    cluster_spec: Literal["standard", "enterprise", "ultimate"] = "enterprise"
    """The ASM instance's size."""
    api_server_public: Flag = True
    """The ASM API server (where Istio objects are applied) on a public EIP, so that `pulumi up`
    from outside the VPC reaches it."""
    outbound_traffic_policy: Literal["ALLOW_ANY", "REGISTRY_ONLY"] = "ALLOW_ANY"
    """Mesh settings ASM exposes through its API."""
    access_log: Flag = True
    """Envoy access logs on, mesh-wide."""
    locality_load_balancing: Flag = False
    """Prefer endpoints in the caller's zone/region (for services that are not retained)."""
    mtls: MtlsMode = "STRICT"
    """Mesh-wide PeerAuthentication, applied through the ASM API server."""
    deletion_protection: Flag = True
    """ASM has no deletion protection of its own: Pulumi's `protect` stands in for it."""


class SharedBookinfoConfig(BookinfoAuthorizationConfig):
    """Bookinfo deployed in every cluster (which reviews versions is per cluster)."""

    namespace: AppNamespace = "bookinfo"
    """Bookinfo's namespace in every cluster."""
    image_hub: ImageRegistry = versions.BOOKINFO_HUB
    """Where Bookinfo's images come from."""
    image_tag: ImageTag = versions.BOOKINFO_TAG
    """Bookinfo's image tag."""


# Bookinfo services called from inside the mesh. productpage is only reached from the
# ingress gateway, which runs in one cluster: retaining it would cut /productpage2 off.
RetentionTarget = Literal["*", "details", "reviews", "ratings"]


RETAINABLE_SERVICES: tuple[str, ...] = tuple(s for s in get_args(RetentionTarget) if s != "*")


class RetentionConfig(Model):
    """Cluster-local traffic retention (seed 002): calls to these services stay in the
    caller's cluster. "*" means every service called inside the mesh."""

    services: list[RetentionTarget] = Field(default=["reviews"])
    """The Bookinfo services whose calls stay in the caller's cluster; "*" for all."""

    @model_validator(mode="after")
    def _star_alone(self) -> RetentionConfig:
        problems = []
        if "*" in self.services and len(self.services) > 1:
            problems.append(f"services {self.services}: '*' already means every service")
        if len(set(self.services)) != len(self.services):
            problems.append(f"services lists a service twice: {self.services}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def hosts(self) -> tuple[str, ...]:
        """The Bookinfo services retained, "*" expanded."""
        if "*" in self.services:
            return RETAINABLE_SERVICES
        return tuple(s for s in RETAINABLE_SERVICES if s in self.services)
