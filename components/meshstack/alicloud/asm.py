"""Alibaba Cloud Service Mesh (ASM): a managed Istio control plane for several clusters.

`AsmMesh` is the instance, its member clusters (one AsmMember each: adding or reordering
clusters never detaches another, which the provider's `cluster_ids` list would), and a
Kubernetes provider for its API server, where Istio objects are applied, built from the
kubeconfig for where `pulumi up` runs (public, unless the API server has no EIP).
`AsmIngressGateway` is ASM's way to run an ingress gateway in a member cluster: an
`IstioGateway` object (istio.alibabacloud.com/v1beta1) that ASM turns into a Deployment and a
LoadBalancer Service there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from meshstack.alicloud.asm_resources import AsmKubeconfig, AsmMember
from meshstack.alicloud.sdk import alicloud
from meshstack.kube import kube_provider
from meshstack.naming import fixed_name

ASM_GATEWAY_API = "istio.alibabacloud.com/v1beta1"
# ASM gateways must live here (they read their configuration from it).
GATEWAY_NAMESPACE = "istio-system"


@dataclass(frozen=True)
class AsmMeshSettings:
    outbound_traffic_policy: str = "ALLOW_ANY"
    access_log: bool = True
    locality_load_balancing: bool = False

    def mesh_config(self) -> alicloud.servicemesh.ServiceMeshMeshConfigArgs:
        return alicloud.servicemesh.ServiceMeshMeshConfigArgs(
            outbound_traffic_policy=self.outbound_traffic_policy,
            access_log=alicloud.servicemesh.ServiceMeshMeshConfigAccessLogArgs(
                enabled=self.access_log
            ),
            enable_locality_lb=self.locality_load_balancing,
        )


@dataclass(frozen=True)
class AsmMemberCluster:
    cluster_id: pulumi.Input[str]
    # ASM installs its agents into the cluster: it needs nodes first.
    ready: pulumi.Resource


@dataclass(frozen=True)
class AsmMeshArgs:
    provider: alicloud.Provider
    mesh_name: str
    # An exact release ASM offers, such as "v1.26.3.110-g…-aliyun" (the config resolves a
    # minor to its newest: stacks/config/lookups.py).
    version: str
    edition: str
    cluster_spec: str
    vpc_id: pulumi.Input[str]
    vswitch_id: pulumi.Input[str]
    # The member clusters by a stable key (their name), so that each keeps its resource.
    members: Mapping[str, AsmMemberCluster]
    # The region, for ASM's API (the provider's is not readable from the program).
    region: str
    # The API server on an EIP: its kubeconfig works outside the VPC.
    api_server_public: bool = True
    # Pulumi's `protect` on the instance: ASM itself has no deletion protection.
    deletion_protection: bool = True
    settings: AsmMeshSettings = field(default_factory=AsmMeshSettings)
    tags: dict[str, str] = field(default_factory=dict)


class AsmMesh(pulumi.ComponentResource):
    mesh: alicloud.servicemesh.ServiceMesh
    # By the key of `members`: what a member cluster's workloads wait for.
    members: dict[str, AsmMember]
    version: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self, name: str, args: AsmMeshArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:alicloud:ServiceMesh", name, None, opts)
        self.version = pulumi.Output.from_input(args.version)
        self.mesh = alicloud.servicemesh.ServiceMesh(
            f"{name}-mesh",
            service_mesh_name=args.mesh_name,
            edition=args.edition,
            cluster_spec=args.cluster_spec,
            version=self.version,
            network=alicloud.servicemesh.ServiceMeshNetworkArgs(
                vpc_id=args.vpc_id, vswitche_list=args.vswitch_id
            ),
            load_balancer=alicloud.servicemesh.ServiceMeshLoadBalancerArgs(
                api_server_public_eip=args.api_server_public
            ),
            mesh_config=args.settings.mesh_config(),
            tags=args.tags,
            # Instance names are unique, and CreateServiceMesh retries on NameAlreadyExist
            # until its timeout (terraform-provider-alicloud
            # resource_alicloud_service_mesh_service_mesh.go, Create): a replacement (edition,
            # network, load_balancer's public EIPs, mesh_config.enable_locality_lb and
            # proxy.cluster_domain are ForceNew there) deletes the old instance first. The
            # engine then deletes first what would be replaced with it (pulumi/pulumi
            # pkg/resource/deploy/step_generator.go, calculateDependentReplacements): each
            # AsmMember, whose mesh_id flows from the instance, leaves before the old instance
            # goes and joins the new one after.
            opts=fixed_name(
                pulumi.ResourceOptions(
                    parent=self,
                    provider=args.provider,
                    protect=args.deletion_protection,
                    # The provider does not mark the mesh's (VPC-private) kubeconfig secret.
                    additional_secret_outputs=["kubeconfig"],
                    # Members are AsmMember resources. Ignored, the list never reaches the
                    # provider's Update (pulumi-terraform-bridge drops ignored keys from the
                    # diff), so a mesh created with cluster_ids by an earlier version keeps them.
                    ignore_changes=["clusterIds"],
                )
            ),
        )
        self.members = {
            key: AsmMember(
                f"{name}-member-{key}",
                self.mesh.id,
                member.cluster_id,
                args.region,
                pulumi.ResourceOptions(parent=self, depends_on=[member.ready]),
            )
            for key, member in args.members.items()
        }
        access = AsmKubeconfig(
            f"{name}-kubeconfig",
            self.mesh.id,
            private=not args.api_server_public,
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.kubeconfig = pulumi.Output.secret(access.kubeconfig)
        self.provider = kube_provider(
            f"{name}-kubernetes", self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs(
            {"meshId": self.mesh.id, "version": self.version, "kubeconfig": self.kubeconfig}
        )


@dataclass(frozen=True)
class AsmIngressGatewayArgs:
    cloud: alicloud.Provider
    # The ASM API server's provider (built from the mesh's kubeconfig, so it waits for the
    # mesh): IstioGateway objects are applied there.
    mesh_provider: k8s.Provider
    # Selector label `istio: <gateway_name>`; the Service becomes istio-<gateway_name>.
    gateway_name: str
    cluster_ids: Sequence[pulumi.Input[str]]
    # Those clusters' memberships: ASM runs the gateway only in a member.
    members: Sequence[pulumi.Resource]
    ports: Sequence[tuple[str, int]] = (("http2", 80), ("https", 443))
    replicas: int = 1
    tags: dict[str, str] = field(default_factory=dict)


class AsmIngressGateway(pulumi.ComponentResource):
    """An ASM ingress gateway behind a load balancer the stack owns.

    The gateway's Service is created by ASM, later than `pulumi up` could wait for it; the
    stack instead creates the CLB and has the Service reuse it, so the address is known
    from the CLB resource and the CLB's life follows the stack.
    """

    load_balancer: alicloud.slb.ApplicationLoadBalancer
    gateway: k8s.apiextensions.CustomResource
    address: pulumi.Output[str]

    def __init__(
        self, name: str, args: AsmIngressGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:alicloud:AsmIngressGateway", name, None, opts)
        self.load_balancer = alicloud.slb.ApplicationLoadBalancer(
            f"{name}-clb",
            load_balancer_name=f"{name}-{args.gateway_name}",
            address_type="internet",
            payment_type="PayAsYouGo",
            instance_charge_type="PayByCLCU",
            internet_charge_type="PayByTraffic",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, provider=args.cloud),
        )
        self.gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version=ASM_GATEWAY_API,
            kind="IstioGateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.gateway_name,
                namespace=GATEWAY_NAMESPACE,
                labels={"asm-gateway-type": "ingress"},
            ),
            spec=pulumi.Output.all(self.load_balancer.id, *args.cluster_ids).apply(
                lambda ids: ingress_gateway_spec(ids[0], ids[1:], args.ports, args.replicas)
            ),
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.mesh_provider, depends_on=list(args.members)
            ),
        )
        self.address = self.load_balancer.address
        self.register_outputs({"address": self.address, "gateway": args.gateway_name})


def ingress_gateway_spec(
    load_balancer_id: str,
    cluster_ids: list[str],
    ports: Sequence[tuple[str, int]],
    replicas: int,
) -> dict:
    """The IstioGateway spec (help.aliyun.com "CRD fields for an ASM gateway")."""
    return {
        "gatewayType": "ingress",
        "clusterIds": cluster_ids,
        "serviceType": "LoadBalancer",
        "serviceAnnotations": {
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id": load_balancer_id,
            # Let the cloud controller create the listeners on the reused CLB.
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners": (
                "true"
            ),
        },
        "ports": [
            {"name": port_name, "port": port, "targetPort": port} for port_name, port in ports
        ],
        "replicaCount": replicas,
    }
