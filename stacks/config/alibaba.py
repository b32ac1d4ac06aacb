"""Alibaba Cloud settings: the VPC, serverless and ACK clusters, ASM, retention."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, model_validator

from components import versions
from stacks.config.fields import (
    PROJECT,
    AckVersion,
    AppNamespace,
    AsmVersion,
    Cidr,
    DnsLabel,
    ImageRegistry,
    ImageTag,
    InstanceType,
    Model,
    Region,
    TimeZone,
    Zone,
)
from stacks.config.mesh import MtlsMode, ReviewsVersion


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
    kubernetes_version: AckVersion = versions.ALIBABA_KUBERNETES
    cluster_spec: Literal["ack.pro.small", "ack.standard"] = "ack.pro.small"
    service_cidr: Cidr = "172.21.0.0/20"
    api_server_public: bool = True
    timezone: TimeZone = "Asia/Shanghai"
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
    kubernetes_version: AckVersion = versions.ALIBABA_KUBERNETES
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
    version: AsmVersion = versions.ASM
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

    namespace: AppNamespace = "bookinfo"
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
