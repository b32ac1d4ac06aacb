"""A serverless Kubernetes cluster on Alibaba Cloud, and an explicit Kubernetes provider for it.

Two offerings run pods without nodes of the user's:
- ACS (Container Compute Service), `cs.ManagedKubernetes(profile="Acs")`: what a new account
  can create;
- ACK Serverless (ASK), `profile="Serverless"` (the deprecated `cs.ServerlessKubernetes`
  before pulumi-alicloud 4.x): the original serverless offering, closed to accounts that
  never created one
  ("Starting February 17, 2025, ACK Serverless disables cluster creation for new users",
  ACK Serverless overview; the notice points to ACS).
Neither runs DaemonSets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from meshstack.alicloud.cluster_common import (
    CREATE_ONLY_ARGUMENTS,
    ClusterAccess,
    delete_options,
)
from meshstack.alicloud.offerings import PROFILES
from meshstack.alicloud.sdk import alicloud
from meshstack.naming import fixed_name

ASK_CLUSTER_TYPE = "meshstack:alicloud:AskCluster"


@dataclass(frozen=True)
class ServerlessClusterArgs:
    provider: alicloud.Provider
    cluster_name: str
    offering: Literal["acs", "ask"]
    # An exact version ACK offers, such as "1.36.1-aliyun.1".
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


def serverless_addons(
    offering: str, log_project: bool
) -> list[alicloud.cs.ManagedKubernetesAddonArgs]:
    """ASK: the serverless addons, CoreDNS service discovery and a new Log Service project.
    Without a DNS addon, ASK pods resolve through the VPC's DNS and no Service name resolves:
    Istio (istiod.istio-system.svc) would not work. Managed CoreDNS is ACK's recommended one.
    `alibaba-log-controller` with no project named creates `k8s-log-<cluster id>`.
    ACS: none; its DNS is managed with the cluster (the provider's own ACS acceptance test,
    TestAccAliCloudCSManagedKubernetesForProfile, creates one without addons).
    """
    if offering == "acs":
        return []
    names = ["managed-coredns", *(["alibaba-log-controller"] if log_project else [])]
    return [alicloud.cs.ManagedKubernetesAddonArgs(name=n) for n in names]


class ServerlessCluster(pulumi.ComponentResource):
    cluster: alicloud.cs.ManagedKubernetes
    kubernetes_version: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self, name: str, args: ServerlessClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "meshstack:alicloud:ServerlessCluster",
            name,
            None,
            # Its children keep their state from when this was the ASK-only AskCluster.
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=ASK_CLUSTER_TYPE)])
            ),
        )
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=args.provider)
        profile = PROFILES[args.offering]
        self.kubernetes_version = pulumi.Output.from_input(args.kubernetes_version)

        self.cluster = alicloud.cs.ManagedKubernetes(
            f"{name}-cluster",
            name=args.cluster_name,
            profile=profile,
            cluster_spec=args.cluster_spec,
            version=self.kubernetes_version,
            vswitch_ids=args.vswitch_ids,
            service_cidr=args.service_cidr,
            # The stack brings its own NAT gateway (components/meshstack/alicloud/network.py).
            new_nat_gateway=False,
            # The API server exposed through an EIP.
            slb_internet_enabled=args.api_server_public,
            timezone=args.timezone,
            addons=serverless_addons(args.offering, args.log_project),
            delete_options=delete_options(args.delete_logs_on_destroy),
            deletion_protection=args.deletion_protection,
            tags=args.tags,
            # Cluster names are unique per account (ErrorClusterNameAlreadyExist).
            opts=fixed_name(
                pulumi.ResourceOptions(
                    parent=self,
                    provider=args.provider,
                    depends_on=args.internet,
                    ignore_changes=CREATE_ONLY_ARGUMENTS,
                )
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
