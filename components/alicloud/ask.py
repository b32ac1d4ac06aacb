"""An ACK Serverless (ASK) cluster and an explicit Kubernetes provider for it.

ASK is `cs.ManagedKubernetes(profile="Serverless")` in pulumi-alicloud 4.x (the older
`cs.ServerlessKubernetes` is deprecated). Its kubeconfig comes from the cluster-credential data
source (the cluster's own `kube_config` attribute is deprecated) and stays a secret throughout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud
import pulumi_kubernetes as k8s

from components.kube import kube_provider

EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+-aliyun\.\d+$")


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


def delete_options(delete_logs: bool) -> list[alicloud.cs.ManagedKubernetesDeleteOptionArgs]:
    """What happens to resources ACK created for the cluster when it is deleted."""
    logs = "delete" if delete_logs else "retain"
    modes = {
        # Load balancers of LoadBalancer Services (the ingress gateway): never orphaned.
        "SLB": "delete",
        "SLS_Data": logs,
        "SLS_ControlPlane": logs,
    }
    return [
        alicloud.cs.ManagedKubernetesDeleteOptionArgs(resource_type=kind, delete_mode=mode)
        for kind, mode in modes.items()
    ]


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
        self.kubernetes_version = resolve_version(args.kubernetes_version, invoke)

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
                parent=self, provider=args.provider, depends_on=args.internet
            ),
        )
        credential = alicloud.cs.get_cluster_credential_output(
            cluster_id=self.cluster.id, opts=invoke
        )
        self.kubeconfig = pulumi.Output.secret(credential.kube_config)
        self.provider = kube_provider(
            f"{name}-kubernetes", self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs(
            {
                "clusterId": self.cluster.id,
                "kubernetesVersion": self.kubernetes_version,
                "kubeconfig": self.kubeconfig,
            }
        )


def resolve_version(version: str, opts: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """An exact version as given; a minor resolved to ACK's newest Serverless patch of it.

    A newer patch later shows up in `pulumi preview` as an in-place upgrade of `version`;
    pin an exact version to hold it.
    """
    if EXACT_VERSION.match(version):
        return pulumi.Output.from_input(version)
    found = alicloud.cs.get_kubernetes_version_output(
        cluster_type="ManagedKubernetes",
        kubernetes_version=version,
        profile="Serverless",
        opts=opts,
    )

    def newest(metadata) -> str:
        if not metadata:
            raise ValueError(
                f"ACK offers no Serverless Kubernetes {version} in this region; set "
                "meshstack:cluster.kubernetesVersion to a minor it offers "
                "(aliyun cs GET /api/v1/metadata/versions?ClusterType=ManagedKubernetes"
                "&Profile=Serverless lists them)"
            )
        return max((m.version for m in metadata), key=_version_key)

    return found.metadatas.apply(newest)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))
