"""An ACK Serverless (ASK) cluster and an explicit Kubernetes provider for it.

ASK is `cs.ManagedKubernetes(profile="Serverless")` in pulumi-alicloud 4.x (the older
`cs.ServerlessKubernetes` is deprecated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from components.alicloud.cluster_common import (
    CREATE_ONLY_ARGUMENTS,
    ClusterAccess,
    delete_options,
    resolve_version,
)


@dataclass(frozen=True)
class AskClusterArgs:
    provider: alicloud.Provider
    cluster_name: str
    # "1.36" (ACK's newest patch of that minor) or an exact "1.36.1-aliyun.1".
    kubernetes_version: str
    vswitch_ids: Sequence[pulumi.Input[str]]
    service_cidr: str
    cluster_spec: str = "ack.pro.small"
    api_server_public: bool = True
    timezone: str = "Asia/Shanghai"
    log_project: bool = True
    delete_logs_on_destroy: bool = False
    deletion_protection: bool = True
    tags: dict[str, str] = field(default_factory=dict)
    # What the cluster's workloads need before they can start (the NAT's SNAT entries).
    internet: list[pulumi.Resource] = field(default_factory=list)


def ask_addons(log_project: bool) -> list[alicloud.cs.ManagedKubernetesAddonArgs]:
    """Cluster addons of seed 000: CoreDNS service discovery, and a new Log Service project.

    Without a DNS addon, ASK pods resolve through the VPC's DNS and no Service name resolves:
    Istio (istiod.istio-system.svc) would not work. Managed CoreDNS is ACK's recommended one.
    `alibaba-log-controller` with no project named creates `k8s-log-<cluster id>`.
    """
    names = ["managed-coredns", *(["alibaba-log-controller"] if log_project else [])]
    return [alicloud.cs.ManagedKubernetesAddonArgs(name=n) for n in names]


class AskCluster(pulumi.ComponentResource):
    cluster: alicloud.cs.ManagedKubernetes
    kubernetes_version: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self, name: str, args: AskClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:alicloud:AskCluster", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=args.provider)
        self.kubernetes_version = resolve_version(
            args.kubernetes_version, "Serverless", invoke, "cluster.kubernetesVersion"
        )

        self.cluster = alicloud.cs.ManagedKubernetes(
            f"{name}-cluster",
            name=args.cluster_name,
            profile="Serverless",
            cluster_spec=args.cluster_spec,
            version=self.kubernetes_version,
            vswitch_ids=args.vswitch_ids,
            service_cidr=args.service_cidr,
            # The stack brings its own NAT gateway (components/alicloud/network.py).
            new_nat_gateway=False,
            # Seed: "expose the API server through an EIP".
            slb_internet_enabled=args.api_server_public,
            timezone=args.timezone,
            addons=ask_addons(args.log_project),
            delete_options=delete_options(args.delete_logs_on_destroy),
            deletion_protection=args.deletion_protection,
            tags=args.tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=args.internet,
                ignore_changes=CREATE_ONLY_ARGUMENTS,
            ),
        )
        access = ClusterAccess(name, self.cluster, invoke, parent=self)
        self.kubeconfig = access.kubeconfig
        self.provider = access.provider
        self.register_outputs(
            {
                "clusterId": self.cluster.id,
                "kubernetesVersion": self.kubernetes_version,
                "kubeconfig": self.kubeconfig,
            }
        )
