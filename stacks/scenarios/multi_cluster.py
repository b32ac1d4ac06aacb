"""`multi-cluster` (seed 001, section 1): one mesh over a list of ACK and GKE clusters.

Each cluster's config says its cloud, its role (primary: runs istiod; remote: uses its
primary's) and its network. The cloud floors are built side by side (one VPC per cloud, a
vSwitch or subnet per cluster); the topology (components/meshstack/istio/topology.py) then decides
who runs istiod, who reads whose API server and where east-west gateways go. One root CA
signs an intermediate per primary, so mTLS holds across clusters and clouds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.hello_world import (
    SAMPLE_HEALTH_PATH,
    SAMPLE_PORT,
    HelloWorld,
    HelloWorldArgs,
    namespace_moved_from,
    responders_check,
)
from meshstack.apps.namespace import injected_namespace, revision_annotation
from meshstack.hardening import pinned
from meshstack.istio.control_plane import IstioControlPlane
from meshstack.istio.eastwest import EastWestGateway
from meshstack.istio.membership import MeshMembership
from meshstack.istio.topology import MeshTopology
from meshstack.verify.mesh_check import MeshCheck
from stacks.config import (
    GcpConfig,
    IstioConfig,
    MeshClusterConfig,
    MultiClusterStack,
    SecurityConfig,
)
from stacks.config.alibaba import AlicloudVpcConfig
from stacks.config.multi_cluster import SampleAppConfig
from stacks.scenarios.assembly import (
    MeshCluster,
    assemble_mesh,
    has_eastwest_gateway,
    trust_outputs,
)
from stacks.scenarios.google import gke_floor
from stacks.scenarios.multi_cluster_bookinfo import bookinfo_across_clusters
from stacks.scenarios.tags import gcp_labels, stack_tags
from stacks.scenarios.verification import mesh_check, verified_output

# A load balancer reachable inside its VPC only, per cloud.
INTERNAL_LOAD_BALANCER = {
    "gke": {"networking.gke.io/load-balancer-type": "Internal"},
    "ack": {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet"},
}


@dataclass(frozen=True)
class BuiltCluster:
    """What the mesh needs of a cluster, whichever cloud built it."""

    cloud: str
    provider: k8s.Provider
    server: pulumi.Input[str]
    public_server: pulumi.Input[str] | None
    certificate_authority: pulumi.Input[str]
    kubeconfig: pulumi.Output[str]
    # ACK: the nodes' SSH key when the stack made it (secret).
    login_key: pulumi.Output[str] | None = None
    # The east-west gateway's address, reserved before the cluster exists (GKE).
    gateway_address: pulumi.Input[str] | None = None
    # What pods need to be scheduled.
    nodes: tuple[pulumi.Resource, ...] = ()


@dataclass(frozen=True)
class CloudFloor:
    """What the clusters of one mesh are built from: the clusters, their clouds' settings,
    the mesh's topology (who runs istiod, who needs an east-west gateway)."""

    mesh_id: str
    clusters: Sequence[MeshClusterConfig]
    topology: MeshTopology
    alicloud: AlicloudVpcConfig
    gcp: GcpConfig
    security: SecurityConfig


def built_clusters(floor: CloudFloor, tags: dict[str, str]) -> dict[str, BuiltCluster]:
    """Each cluster on its cloud's floor (a VPC per cloud), in the config's order; across
    clouds, the east-west gateways are public."""
    spans_clouds = len({c.cloud for c in floor.clusters}) > 1
    clusters: dict[str, BuiltCluster] = {
        **_ack_clusters(floor, tags),
        **_gke_clusters(floor, gcp_labels(tags), public_gateways=spans_clouds),
    }
    return {c.name: clusters[c.name] for c in floor.clusters}


def deploy(config: MultiClusterStack) -> dict[str, pulumi.Input[Any]]:
    topology = config.topology
    ambient = config.istio.data_plane == "ambient"
    node_agents = ambient or config.istio.cni_enabled(serverless=False)
    spans_clouds = len({c.cloud for c in config.clusters}) > 1
    clusters = built_clusters(
        CloudFloor(
            config.mesh_id,
            config.clusters,
            topology,
            config.alicloud,
            config.gcp,
            config.security,
        ),
        stack_tags(),
    )
    mesh = assemble_mesh(
        topology,
        {
            c.name: mesh_cluster(
                c, clusters[c.name], spans_clouds=spans_clouds, node_agents=node_agents
            )
            for c in config.clusters
        },
        config.istio,
        config.mesh_id,
        config.security,
        reader_tokens=config.membership.tokens,
        gate=config.verify.enabled,
        trust_config=config.trust,
    )
    assert mesh.membership is not None  # a multi-cluster mesh has at least two clusters
    control_planes, gateways, membership = mesh.control_planes, mesh.gateways, mesh.membership
    checks = _hello_world_everywhere(config, clusters, control_planes, gateways, membership)
    bookinfo_checks, bookinfo_outputs = bookinfo_across_clusters(
        config,
        {name: built.provider for name, built in clusters.items()},
        control_planes,
        [*gateways.values(), *membership.remote_secrets.values()],
    )
    return {
        "model": topology.model(),
        "clusters": {
            c.name: {
                "cloud": c.cloud,
                "role": c.role,
                "network": c.network,
                "controlPlane": topology.control_plane_of(c.name),
            }
            for c in config.clusters
        },
        "eastWestGatewayAddresses": {name: gw.address for name, gw in gateways.items()},
        # Which istiod reads which API server (a remote secret each).
        "istiodReads": sorted(f"{h} reads {c}" for c, h in topology.remote_secrets()),
        **trust_outputs(mesh),
        "kubeconfigs": pulumi.Output.secret(
            {name: built.kubeconfig for name, built in clusters.items()}
        ),
        **_node_login_keys(clusters),
        **bookinfo_outputs,
        **verified_output(
            [*checks, *bookinfo_checks, *membership.synced.values(), *mesh.trust_checks]
        ),
    }


def mesh_cluster(
    c: MeshClusterConfig,
    built: BuiltCluster,
    *,
    spans_clouds: bool,
    node_agents: bool,
    **mesh_settings: Any,
) -> MeshCluster:
    """A built cluster as its mesh needs it; `mesh_settings`: more MeshSettings fields."""
    return MeshCluster(
        provider=built.provider,
        nodes=built.nodes,
        server=built.server,
        certificate_authority=built.certificate_authority,
        site=c.cloud,
        public_server=built.public_server,
        # Across clouds, the gateways are public; within one, inside the VPC.
        gateway_annotations={} if spans_clouds else INTERNAL_LOAD_BALANCER[c.cloud],
        gateway_address=built.gateway_address,
        eastwest_gateway=c.east_west_gateway,
        # istio-cni's and ztunnel's host paths on GKE (the charts' gke platform).
        mesh_settings={
            **({"platform": "gke"} if c.cloud == "gke" and node_agents else {}),
            **mesh_settings,
        },
    )


def hello_world_in(
    name: str,
    provider: k8s.Provider,
    *,
    sample: SampleAppConfig,
    istio: IstioConfig,
    security: SecurityConfig,
    ready: Sequence[pulumi.Resource],
) -> HelloWorld:
    """Istio's helloworld in cluster `name`, answering with that name, in its injected
    namespace; `ready`: what injection needs."""
    ambient = istio.data_plane == "ambient"
    return HelloWorld(
        f"{name}-hello-world",
        HelloWorldArgs(
            namespace=injected_namespace(
                f"{name}-hello-world-namespace",
                sample.namespace,
                istio.revision,
                pulumi.ResourceOptions(
                    provider=provider, aliases=[namespace_moved_from(f"{name}-hello-world")]
                ),
                ambient=ambient,
            ).metadata.name,
            image=pinned(sample.image, security.image_digests),
            network_policies=security.network_policies,
            container_port=SAMPLE_PORT,
            health_path=SAMPLE_HEALTH_PATH,
            env={"SERVICE_VERSION": name},
            # Ambient serves a Service from every cluster only when it is global (the
            # charts' ambient profile: meshConfig.serviceScopeConfigs).
            service_labels={"istio.io/global": "true"} if ambient else {},
            # Its namespace is on the `default` tag: a move restarts it onto the revision.
            pod_annotations=revision_annotation(istio.tagged_default),
        ),
        pulumi.ResourceOptions(provider=provider, depends_on=list(ready)),
    )


def injection_ready(
    name: str,
    topology: MeshTopology,
    control_planes: dict[str, IstioControlPlane],
    gateways: dict[str, EastWestGateway],
    membership: MeshMembership | None,
) -> list[pulumi.Resource]:
    """What a pod of cluster `name` needs to be injected when it is created."""
    ready: list[pulumi.Resource] = [*control_planes[name].ready]
    if topology.member(name).role == "remote" and membership is not None:
        # Injection calls the primary's istiod through its gateway, and that istiod
        # manages this cluster's webhooks through its remote secret.
        primary = topology.control_plane_of(name)
        ready += [gateways[primary], membership.remote_secrets[primary]]
    return ready


def _hello_world_everywhere(
    config: MultiClusterStack,
    clusters: dict[str, BuiltCluster],
    control_planes: dict[str, IstioControlPlane],
    gateways: dict[str, EastWestGateway],
    membership: MeshMembership,
) -> list[MeshCheck | None]:
    """Istio's helloworld in every cluster, answering with its cluster's name; then, from a
    mesh pod in each cluster, a check that every cluster answers (Istio's multicluster
    verification: through east-west gateways where networks differ)."""
    sample, topology = config.hello_world, config.topology
    if not sample.enabled:
        return []
    ambient = config.istio.data_plane == "ambient"
    apps: dict[str, HelloWorld] = {}
    for cluster in config.clusters:
        name = cluster.name
        apps[name] = hello_world_in(
            name,
            clusters[name].provider,
            sample=sample,
            istio=config.istio,
            security=config.security,
            ready=injection_ready(name, topology, control_planes, gateways, membership),
        )
    names = [c.name for c in config.clusters]
    return [
        mesh_check(
            f"{name}-hello-world-check",
            config.verify,
            provider=clusters[name].provider,
            namespace=app.namespace,
            job_name="hello-world-check",
            # With revisions, named after the `default` tag's: a move of the tag restarts every
            # cluster's helloworld onto it and this check runs again, the gate across clusters.
            checks=[
                responders_check(
                    sample.namespace, names, config.verify.samples, config.istio.tagged_default
                )
            ],
            # Every cluster's instance, and the paths between clusters: the east-west gateways
            # and the remote secrets through which each istiod learns the others' endpoints.
            after=[*apps.values(), *gateways.values(), *membership.remote_secrets.values()],
            in_mesh=True,
            revision=config.istio.revision,
            ambient=ambient,
        )
        for name, app in apps.items()
    ]


def _node_login_keys(clusters: dict[str, BuiltCluster]) -> dict[str, pulumi.Output]:
    if not any(built.cloud == "ack" for built in clusters.values()):
        return {}
    from stacks.scenarios.alibaba import node_login_keys

    return node_login_keys({name: built.login_key for name, built in clusters.items()})


def _ack_clusters(config: CloudFloor, tags: dict[str, str]) -> dict[str, BuiltCluster]:
    members = [c for c in config.clusters if c.cloud == "ack"]
    if not members:
        return {}
    # Imported here: a mesh without ACK loads none of the Alibaba Cloud SDK's modules (the
    # components' annotations import them).
    from meshstack.alicloud.network import AlicloudNetwork, NetworkArgs, VSwitchSpec
    from meshstack.alicloud.security_groups import (
        SecurityGroupMember,
        SecurityGroupsArgs,
        SharedSecurityGroup,
    )
    from stacks.scenarios.alibaba import ack_cluster, alibaba_provider

    cloud = alibaba_provider(config.alicloud.region)
    network = AlicloudNetwork(
        f"{config.mesh_id}-alicloud",
        NetworkArgs(
            vpc_cidr=config.alicloud.vpc_cidr,
            vswitches=list(
                VSwitchSpec(zone=c.zone, cidr=c.node_cidr, role=c.name) for c in members
            ),
            eip_bandwidth_mbps=config.alicloud.eip_bandwidth_mbps,
            tags=tags,
        ),
        pulumi.ResourceOptions(provider=cloud),
    )
    # One group for every ACK cluster's nodes: its rules grow with N, not N².
    security = SharedSecurityGroup(
        config.mesh_id,
        SecurityGroupsArgs(
            provider=cloud,
            vpc_id=network.vpc.id,
            vpc_cidr=config.alicloud.vpc_cidr,
            members=[SecurityGroupMember(c.name, c.pod_cidr) for c in members],
            tags=tags,
        ),
    )
    built = {}
    for i, c in enumerate(members):
        ack = ack_cluster(
            c,
            cloud=cloud,
            network=network,
            vswitch=i,
            security_group_id=security.group.id,
            node_pool=c.ack_node_pool,
            kubernetes_version=MultiClusterStack.ack_version(c),
            tags=tags,
        )
        built[c.name] = BuiltCluster(
            cloud="ack",
            provider=ack.provider,
            server=ack.intranet_endpoint,
            public_server=ack.public_endpoint if c.api_server_public else None,
            certificate_authority=ack.certificate_authority,
            kubeconfig=ack.kubeconfig,
            login_key=ack.login_key,
            nodes=(ack.node_pool,),
        )
    return built


def _gke_clusters(
    config: CloudFloor, labels: dict[str, str], *, public_gateways: bool
) -> dict[str, BuiltCluster]:
    members = [c for c in config.clusters if c.cloud == "gke"]
    if not members:
        return {}
    floor = gke_floor(
        config.mesh_id,
        config.gcp,
        members,
        labels=labels,
        network_policies=config.security.network_policies,
    )
    network = floor.network
    built = {}
    for c in members:
        gke = floor.clusters[c.name]
        if config.topology.member(c.name).role == "primary":  # it runs istiod
            floor.webhook_firewall(c.name, c.node_cidr)
        built[c.name] = BuiltCluster(
            cloud="gke",
            provider=gke.provider,
            server=gke.server,
            public_server=None,  # GKE's endpoint is public
            certificate_authority=gke.certificate_authority,
            kubeconfig=gke.kubeconfig,
            nodes=(gke.node_pool,),
            # Reserved up front: a remote's istiod values carry its primary's gateway
            # address, without waiting for the gateway's load balancer.
            gateway_address=(
                (
                    network.external_address(f"{c.name}-eastwest")
                    if public_gateways
                    else network.internal_address(f"{c.name}-eastwest", subnet=c.name)
                ).address
                if has_eastwest_gateway(config.topology, c.name, c.east_west_gateway)
                else None
            ),
        )
    return built
