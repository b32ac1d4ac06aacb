"""An ACK managed (Pro) cluster with one node pool, and an explicit Kubernetes provider for it.

ACK is `cs.ManagedKubernetes(profile="Default")`. Pods use Flannel with the cluster's own pod
range, so that ranges of several clusters in one VPC can be kept disjoint. The
cluster and its nodes use a security group the stack manages (see security_groups.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components.alicloud.cluster_common import (
    CREATE_ONLY_ARGUMENTS,
    ClusterAccess,
    delete_options,
)
from components.alicloud.offerings import ACK_PROFILE
from components.naming import fixed_name


@dataclass(frozen=True)
class NodePoolSpec:
    instance_types: tuple[str, ...]
    size: int
    image_type: str = "AliyunLinux3"
    system_disk_category: str = "cloud_essd"
    system_disk_size_gb: int = 120
    # An existing ECS key pair by name; None: the stack creates one (RSA: ECS ImportKeyPair
    # takes rsa, dsa and ecdsa keys, not ed25519) and its private key is a secret output.
    key_pair: str | None = None


@dataclass(frozen=True)
class AckClusterArgs:
    provider: alicloud.Provider
    cluster_name: str
    # An exact version ACK offers, such as "1.36.1-aliyun.1".
    kubernetes_version: str
    vswitch_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    pod_cidr: str
    service_cidr: str
    node_pool: NodePoolSpec
    cluster_spec: str = "ack.pro.small"
    api_server_public: bool = True
    deletion_protection: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    # What the nodes need before they can pull images (the NAT's SNAT entries).
    internet: Sequence[pulumi.Resource] = ()


class AckCluster(pulumi.ComponentResource):
    cluster: alicloud.cs.ManagedKubernetes
    node_pool: alicloud.cs.NodePool
    kubernetes_version: pulumi.Output[str]
    # The API server as the VPC sees it (https://<ip>:6443), and from the internet ("" when
    # api_server_public is false).
    intranet_endpoint: pulumi.Output[str]
    public_endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    access: ClusterAccess
    provider: k8s.Provider
    # The nodes' SSH private key (OpenSSH PEM, secret) when the stack made the key pair.
    login_key: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: AckClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:alicloud:AckCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=args.provider)
        self.kubernetes_version = pulumi.Output.from_input(args.kubernetes_version)
        self.cluster = alicloud.cs.ManagedKubernetes(
            f"{name}-cluster",
            name=args.cluster_name,
            profile=ACK_PROFILE,
            cluster_spec=args.cluster_spec,
            version=self.kubernetes_version,
            vswitch_ids=[args.vswitch_id],
            pod_cidr=args.pod_cidr,
            service_cidr=args.service_cidr,
            security_group_id=args.security_group_id,
            # The stack brings its own NAT gateway (components/alicloud/network.py).
            new_nat_gateway=False,
            slb_internet_enabled=args.api_server_public,
            addons=[alicloud.cs.ManagedKubernetesAddonArgs(name="flannel")],
            delete_options=delete_options(delete_logs=False),
            deletion_protection=args.deletion_protection,
            tags=args.tags,
            opts=fixed_name(
                pulumi.ResourceOptions.merge(
                    child,
                    pulumi.ResourceOptions(
                        depends_on=list(args.internet), ignore_changes=CREATE_ONLY_ARGUMENTS
                    ),
                )
            ),
        )
        pool = args.node_pool
        # ACK needs a login for the nodes: "You have to specify one of password and key_name"
        # (cs.NodePool); a key pair, never a password in state.
        key_name, self.login_key = pool.key_pair, None
        if key_name is None:
            key = tls.PrivateKey(f"{name}-node-key", algorithm="RSA", rsa_bits=4096, opts=child)
            key_name = alicloud.ecs.EcsKeyPair(
                f"{name}-node-key-pair",
                key_pair_name=f"{args.cluster_name}-nodes",
                public_key=key.public_key_openssh,
                tags=args.tags,
                # Key pair names are unique per region (ImportKeyPair).
                opts=fixed_name(child),
            ).key_pair_name
            self.login_key = pulumi.Output.secret(key.private_key_openssh)
        self.node_pool = alicloud.cs.NodePool(
            f"{name}-node-pool",
            node_pool_name=f"{args.cluster_name}-workers",
            cluster_id=self.cluster.id,
            vswitch_ids=[args.vswitch_id],
            security_group_ids=[args.security_group_id],
            instance_types=list(pool.instance_types),
            instance_charge_type="PostPaid",
            # The provider types this count as a string.
            desired_size=str(pool.size),
            image_type=pool.image_type,
            system_disk_category=pool.system_disk_category,
            system_disk_size=pool.system_disk_size_gb,
            key_name=key_name,
            tags=args.tags,
            opts=fixed_name(child),
        )
        self.intranet_endpoint = self.cluster.connections.apply(_intranet_endpoint)
        self.public_endpoint = self.cluster.connections.apply(
            lambda connections: (connections[0].api_server_internet or "") if connections else ""
        )
        # Objects that run no pods need no nodes: what runs pods waits for `node_pool`.
        self.access = ClusterAccess(name, self.cluster, invoke, parent=self)
        self.kubeconfig = self.access.kubeconfig
        self.provider = self.access.provider
        self.register_outputs(
            {
                "clusterId": self.cluster.id,
                "kubernetesVersion": self.kubernetes_version,
                "nodePoolId": self.node_pool.id,
                "kubeconfig": self.kubeconfig,
            }
        )


def _intranet_endpoint(connections) -> str:
    endpoint = connections[0].api_server_intranet if connections else None
    if not endpoint:
        raise ValueError("ACK reported no intranet API server endpoint for the cluster")
    return endpoint
