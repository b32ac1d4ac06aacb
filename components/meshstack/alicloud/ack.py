"""An ACK managed (Pro) cluster with one node pool, and an explicit Kubernetes provider for it.

ACK is `cs.ManagedKubernetes(profile="Default")`. Pods use Flannel with the cluster's own pod
range, so that ranges of several clusters in one VPC can be kept disjoint. The
cluster and its nodes use a security group the stack manages (see security_groups.py).
"""

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from meshstack.alicloud.cluster_common import (
    CREATE_ONLY_ARGUMENTS,
    ClusterAccess,
    delete_options,
)
from meshstack.alicloud.offerings import ACK_PROFILE
from meshstack.alicloud.sdk import alicloud
from meshstack.naming import fixed_name
from meshstack.options import register_schema_outputs, renamed


class NodePoolSpec(TypedDict):
    """The ACK cluster's node pool."""

    instance_types: Sequence[str]
    """ECS instance types the pool may use, in order of preference."""
    size: int
    """How many nodes."""
    image_type: NotRequired[str]
    """The nodes' OS image (default AliyunLinux3)."""
    system_disk_category: NotRequired[str]
    """The system disk's category (default cloud_essd)."""
    system_disk_size_gb: NotRequired[int]
    """The system disk's size in GB (default 120)."""
    key_pair: NotRequired[str | None]
    """An existing ECS key pair by name; none: one is created (RSA: ECS ImportKeyPair takes no
    ed25519) and its private key is the secret output loginKey."""


class AckClusterArgs(TypedDict):
    cluster_name: str
    """The cluster's name."""
    kubernetes_version: str
    """An exact version ACK offers, such as 1.36.1-aliyun.1."""
    vswitch_id: pulumi.Input[str]
    """The vSwitch of the control plane's endpoint and the nodes."""
    security_group_id: pulumi.Input[str]
    """The security group of the cluster and its nodes."""
    pod_cidr: str
    """The pods' range (Flannel), disjoint from the VPC and other clusters' ranges."""
    service_cidr: str
    """The Services' range."""
    node_pool: NodePoolSpec
    """The cluster's node pool."""
    cluster_spec: NotRequired[str]
    """ACK Pro's size (default ack.pro.small)."""
    api_server_public: NotRequired[bool]
    """The API server on an EIP, reachable from the internet (default true)."""
    deletion_protection: NotRequired[bool]
    """ACK refuses to delete the cluster while set (default true)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags of every resource."""


class AckCluster(pulumi.ComponentResource):
    """An ACK managed (Pro) cluster with Flannel and one node pool, and a Kubernetes provider
    for it. The Alibaba Cloud provider comes through `opts`; `depends_on` there should hold
    what the nodes need to pull images (the vSwitch's SNAT entry)."""

    cluster: alicloud.cs.ManagedKubernetes
    """The cluster."""
    node_pool: alicloud.cs.NodePool
    """Its node pool: what workloads that run pods wait for."""
    kubernetes_version: pulumi.Output[str]
    """The cluster's Kubernetes version."""
    intranet_endpoint: pulumi.Output[str]
    """The API server as the VPC sees it, https://<ip>:6443."""
    public_endpoint: pulumi.Output[str]
    """The API server from the internet (empty when apiServerPublic is false)."""
    certificate_authority: pulumi.Output[str]
    """The API server's CA (base64 PEM)."""
    kubeconfig: pulumi.Output[str]
    """The cluster's kubeconfig; secret."""
    provider: k8s.Provider
    """A Kubernetes provider for the cluster; it does not wait for the nodes."""
    login_key: pulumi.Output[str] | None
    """The nodes' SSH private key (OpenSSH PEM) when the key pair was created here; secret."""

    def __init__(
        self, name: str, args: AckClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "meshstack:index:AckCluster", name, None, renamed(opts, "meshstack:alicloud:AckCluster")
        )
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        cluster_name, tags = args["cluster_name"], dict(args.get("tags") or {})
        self.kubernetes_version = pulumi.Output.from_input(args["kubernetes_version"])
        self.cluster = alicloud.cs.ManagedKubernetes(
            f"{name}-cluster",
            name=cluster_name,
            profile=ACK_PROFILE,
            cluster_spec=args.get("cluster_spec", "ack.pro.small"),
            version=self.kubernetes_version,
            vswitch_ids=[args["vswitch_id"]],
            pod_cidr=args["pod_cidr"],
            service_cidr=args["service_cidr"],
            security_group_id=args["security_group_id"],
            # The stack brings its own NAT gateway (components/meshstack/alicloud/network.py).
            new_nat_gateway=False,
            slb_internet_enabled=args.get("api_server_public", True),
            addons=[alicloud.cs.ManagedKubernetesAddonArgs(name="flannel")],
            delete_options=delete_options(delete_logs=False),
            deletion_protection=args.get("deletion_protection", True),
            tags=tags,
            opts=fixed_name(
                pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(ignore_changes=CREATE_ONLY_ARGUMENTS)
                )
            ),
        )
        pool = args["node_pool"]
        # ACK needs a login for the nodes: "You have to specify one of password and key_name"
        # (cs.NodePool); a key pair, never a password in state.
        key_name, self.login_key = pool.get("key_pair"), None
        if key_name is None:
            key = tls.PrivateKey(f"{name}-node-key", algorithm="RSA", rsa_bits=4096, opts=child)
            key_name = alicloud.ecs.EcsKeyPair(
                f"{name}-node-key-pair",
                key_pair_name=f"{cluster_name}-nodes",
                public_key=key.public_key_openssh,
                tags=tags,
                # Key pair names are unique per region (ImportKeyPair).
                opts=fixed_name(child),
            ).key_pair_name
            self.login_key = pulumi.Output.secret(key.private_key_openssh)
        self.node_pool = alicloud.cs.NodePool(
            f"{name}-node-pool",
            node_pool_name=f"{cluster_name}-workers",
            cluster_id=self.cluster.id,
            vswitch_ids=[args["vswitch_id"]],
            security_group_ids=[args["security_group_id"]],
            instance_types=list(pool["instance_types"]),
            instance_charge_type="PostPaid",
            # The provider types this count as a string.
            desired_size=str(pool["size"]),
            image_type=pool.get("image_type", "AliyunLinux3"),
            system_disk_category=pool.get("system_disk_category", "cloud_essd"),
            system_disk_size=pool.get("system_disk_size_gb", 120),
            key_name=key_name,
            tags=tags,
            opts=fixed_name(child),
        )
        self.intranet_endpoint = self.cluster.connections.apply(_intranet_endpoint)
        self.public_endpoint = self.cluster.connections.apply(
            lambda connections: (connections[0].api_server_internet or "") if connections else ""
        )
        # Objects that run no pods need no nodes: what runs pods waits for `node_pool`.
        access = ClusterAccess(name, self.cluster, invoke, parent=self)
        self.kubeconfig, self.provider = access.kubeconfig, access.provider
        self.certificate_authority = access.certificate_authority
        register_schema_outputs(self)


def _intranet_endpoint(connections) -> str:
    endpoint = connections[0].api_server_intranet if connections else None
    if not endpoint:
        raise ValueError("ACK reported no intranet API server endpoint for the cluster")
    return endpoint
