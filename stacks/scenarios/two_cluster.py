"""`two-cluster-retention` (seed 002): ACK clusters in one VPC, one mesh over them, Bookinfo
split across them, and cluster-local traffic for the configured services.

The clusters are a list: every cluster gets a vSwitch, a security group that authorises the
others, an ACK cluster with a node pool, Bookinfo with its own reviews versions; they are
built side by side. Then either ASM (`controlPlane: asm`, the seed) or istiod in every
cluster (`controlPlane: istio`, multi-primary with a shared root of trust) makes one mesh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.alicloud.ack import AckCluster
from meshstack.alicloud.asm import (
    AsmIngressGateway,
    AsmIngressGatewayArgs,
    AsmMemberCluster,
    AsmMesh,
    AsmMeshArgs,
    AsmMeshSettings,
)
from meshstack.alicloud.network import AlicloudNetwork, NetworkArgs, VSwitchSpec
from meshstack.alicloud.sdk import alicloud
from meshstack.alicloud.security_groups import (
    PeeredSecurityGroups,
    SecurityGroupMember,
    SecurityGroupsArgs,
)
from meshstack.apps.bookinfo import Bookinfo, BookinfoArgs
from meshstack.apps.bookinfo_authz import Entrance, Placement, default_deny
from meshstack.apps.bookinfo_checks import (
    cluster_local_checks,
    plain_text_refused,
    productpage_not_admitted,
)
from meshstack.apps.cluster_local import (
    CLUSTER_LABEL,
    ClusterLocalRouting,
    ClusterLocalRoutingArgs,
    entry_path,
)
from meshstack.apps.namespace import injected_namespace, revision_annotation
from meshstack.istio.control_plane import ISTIO_NAMESPACE
from meshstack.istio.injection import InjectionReady, InjectionReadyArgs
from meshstack.istio.objects import MtlsMode, mesh_wide_mtls
from meshstack.istio.topology import MeshMember, MeshTopology
from meshstack.verify.mesh_check import MeshCheck
from stacks.config import TwoClusterStack
from stacks.scenarios.alibaba import ack_cluster, alibaba_provider, node_login_keys
from stacks.scenarios.assembly import MeshCluster, assemble_mesh, trust_outputs
from stacks.scenarios.commands import stack_output_command
from stacks.scenarios.mesh import INGRESS_SELECTOR, INGRESS_URL, ingress_entrance
from stacks.scenarios.tags import stack_tags
from stacks.scenarios.verification import mesh_check, verified_output

# ASM names the gateway's Service istio-<name>, with the selector label istio: <name>.
ASM_GATEWAY_NAME = "ingressgateway"
ASM_GATEWAY_URL = f"http://istio-{ASM_GATEWAY_NAME}.{ISTIO_NAMESPACE}"


def deploy(config: TwoClusterStack) -> dict[str, pulumi.Input[Any]]:
    cloud = alibaba_provider(config.network.region)
    tags = stack_tags()
    names = [c.name for c in config.clusters]
    network = AlicloudNetwork(
        config.mesh_id,
        NetworkArgs(
            vpc_cidr=config.network.vpc_cidr,
            vswitches=list(
                VSwitchSpec(zone=c.zone, cidr=c.node_cidr, role=c.name) for c in config.clusters
            ),
            eip_bandwidth_mbps=config.network.eip_bandwidth_mbps,
            tags=tags,
        ),
        pulumi.ResourceOptions(provider=cloud),
    )
    security = PeeredSecurityGroups(
        "cluster-security",
        SecurityGroupsArgs(
            provider=cloud,
            vpc_id=network.vpc.id,
            vpc_cidr=config.network.vpc_cidr,
            members=[SecurityGroupMember(c.name, c.pod_cidr) for c in config.clusters],
            tags=tags,
        ),
    )
    clusters = {
        c.name: ack_cluster(
            c,
            cloud=cloud,
            network=network,
            vswitch=i,
            security_group_id=security.groups[c.name].id,
            node_pool=c.node_pool,
            kubernetes_version=c.kubernetes_version,
            tags=tags,
            cluster_spec=c.cluster_spec,
        )
        for i, c in enumerate(config.clusters)
    }
    if config.control_plane == "asm":
        mesh_outputs = _asm_mesh(config, cloud, network, clusters, tags)
    else:
        mesh_outputs = _istio_mesh(config, clusters)
    return {
        "clusterIds": {name: cluster.cluster.id for name, cluster in clusters.items()},
        "kubeconfigs": pulumi.Output.secret(
            {name: cluster.kubeconfig for name, cluster in clusters.items()}
        ),
        "egressIp": network.eip.ip_address,
        **node_login_keys({name: cluster.login_key for name, cluster in clusters.items()}),
        "kubectlSetup": " && ".join(
            f"{stack_output_command()} kubeconfigs --show-secrets | jq -r .{name} > "
            f"{name}.kubeconfig"
            for name in names
        ),
        **mesh_outputs,
    }


def _app_namespaces(
    config: TwoClusterStack, clusters: Mapping[str, AckCluster]
) -> dict[str, k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch]:
    """The Bookinfo namespace in every cluster, labelled for sidecar injection."""
    return {
        name: injected_namespace(
            f"{name}-bookinfo-namespace",
            config.bookinfo.namespace,
            # A revisioned istiod injects namespaces labelled with its revision.
            config.istio.revision if config.control_plane == "istio" else None,
            pulumi.ResourceOptions(provider=cluster.provider),
        )
        for name, cluster in clusters.items()
    }


def _bookinfo_everywhere(
    config: TwoClusterStack,
    clusters: Mapping[str, AckCluster],
    namespaces: Mapping[str, k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch],
    mesh_ready: Mapping[str, Sequence[pulumi.Resource]],
) -> list[Bookinfo]:
    """Bookinfo in every cluster, labelled with its cluster, with that cluster's reviews."""
    return [
        Bookinfo(
            f"{c.name}-bookinfo",
            BookinfoArgs(
                namespace=namespaces[c.name].metadata.name,
                image_hub=config.bookinfo.image_hub,
                image_tag=config.bookinfo.image_tag,
                reviews_versions=list(c.reviews_versions),
                extra_labels={CLUSTER_LABEL: c.name},
                network_policies=config.security.network_policies,
                image_digests=config.security.image_digests,
                # Its namespace is on the `default` tag (with istio.revisions).
                pod_annotations=revision_annotation(
                    config.istio.tagged_default if config.control_plane == "istio" else None
                ),
            ),
            pulumi.ResourceOptions(
                provider=clusters[c.name].provider, depends_on=mesh_ready[c.name]
            ),
        )
        for c in config.clusters
    ]


def _bookinfo_check(
    config: TwoClusterStack,
    clusters: Mapping[str, AckCluster],
    namespaces: Mapping[str, k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch],
    *,
    gateway_url: str,
    mtls: MtlsMode,
    after: list[pulumi.Resource],
) -> MeshCheck | None:
    """Seed 002's check, from the gateway's cluster: /productpage1 shows the first cluster's
    reviews, /productpage2 the second's; and plain text is refused under STRICT mTLS."""
    checks = cluster_local_checks(
        gateway_url,
        {c.name: c.reviews_versions for c in config.clusters},
        "reviews" in config.retention.hosts,
        config.verify.samples,
    )
    if mtls == "STRICT":
        checks.append(plain_text_refused(config.bookinfo.namespace))
    gateway_cluster = config.gateway_cluster.name
    return mesh_check(
        "bookinfo-check",
        config.verify,
        provider=clusters[gateway_cluster].provider,
        namespace=namespaces[gateway_cluster].metadata.name,
        job_name="bookinfo-check",
        checks=checks,
        after=after,
    )


def _authz_check(
    config: TwoClusterStack,
    clusters: Mapping[str, AckCluster],
    namespaces: Mapping[str, k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch],
    after: list[pulumi.Resource],
) -> MeshCheck | None:
    """From a mesh pod in the gateway's cluster whose account the default-deny set does not
    admit: productpage refuses it."""
    if config.bookinfo.authorization == "none":
        return None
    gateway_cluster = config.gateway_cluster.name
    return mesh_check(
        "bookinfo-authz-check",
        config.verify,
        provider=clusters[gateway_cluster].provider,
        namespace=namespaces[gateway_cluster].metadata.name,
        job_name="bookinfo-authz-check",
        checks=[productpage_not_admitted(config.bookinfo.namespace)],
        after=after,
        in_mesh=True,
        revision=config.istio.revision if config.control_plane == "istio" else None,
    )


def _default_deny(
    config: TwoClusterStack,
    where: Mapping[str, tuple[k8s.Provider, pulumi.Output[str], pulumi.Resource]],
    entrance: Entrance,
) -> list[pulumi.Resource]:
    """bookinfo.authorization default-deny: the policy set in each API server of `where`
    (name → its provider, Bookinfo's namespace there and what admits Istio objects)."""
    if config.bookinfo.authorization == "none":
        return []
    return [
        policy
        for name, (provider, namespace, istiod) in where.items()
        for policy in default_deny(
            name,
            config.bookinfo.namespace,
            namespace,
            entrance=entrance,
            placement=Placement(),
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[istiod]),
        )
    ]


def _urls(address: pulumi.Output[str], names: list[str]) -> pulumi.Output[dict[str, str]]:
    return address.apply(
        lambda a: {name: f"http://{a}{entry_path(i)}" for i, name in enumerate(names)}
    )


def _asm_mesh(
    config: TwoClusterStack,
    cloud: alicloud.Provider,
    network: AlicloudNetwork,
    clusters: Mapping[str, AckCluster],
    tags: dict[str, str],
) -> dict[str, pulumi.Input[Any]]:
    """Seed 002: ASM `mesh1` over the clusters; Istio objects go to its API server."""
    names = list(clusters)
    asm = AsmMesh(
        config.mesh_id,
        AsmMeshArgs(
            provider=cloud,
            mesh_name=config.mesh_id,
            version=config.asm.version,
            edition=config.asm.edition,
            cluster_spec=config.asm.cluster_spec,
            vpc_id=network.vpc.id,
            vswitch_id=network.vswitches[0].id,
            members={
                name: AsmMemberCluster(cluster.cluster.id, ready=cluster.node_pool)
                for name, cluster in clusters.items()
            },
            region=config.network.region,
            api_server_public=config.asm.api_server_public,
            deletion_protection=config.asm.deletion_protection,
            settings=AsmMeshSettings(
                outbound_traffic_policy=config.asm.outbound_traffic_policy,
                access_log=config.asm.access_log,
                locality_load_balancing=config.asm.locality_load_balancing,
            ),
            tags=tags,
        ),
    )
    gateway = AsmIngressGateway(
        "ingress",
        AsmIngressGatewayArgs(
            cloud=cloud,
            mesh_provider=asm.provider,
            gateway_name=ASM_GATEWAY_NAME,
            cluster_ids=[clusters[config.gateway_cluster.name].cluster.id],
            members=[asm.members[config.gateway_cluster.name]],
            tags=tags,
        ),
    )
    mtls = mesh_wide_mtls(
        "mesh-mtls",
        config.asm.mtls,
        ISTIO_NAMESPACE,
        opts=pulumi.ResourceOptions(provider=asm.provider, depends_on=[asm.mesh]),
    )
    # Istio objects are namespaced in the ASM API server as in the clusters.
    mesh_namespace = injected_namespace(
        "mesh-bookinfo-namespace",
        config.bookinfo.namespace,
        None,
        pulumi.ResourceOptions(provider=asm.provider, depends_on=[asm.mesh]),
    )
    routing = ClusterLocalRouting(
        "bookinfo-routing",
        ClusterLocalRoutingArgs(
            provider=asm.provider,
            namespace=mesh_namespace.metadata.name,
            mesh_ready=asm.mesh,
            clusters=names,
            gateway_selector={"istio": ASM_GATEWAY_NAME},
            retained=config.retention.hosts,
        ),
    )
    namespaces = _app_namespaces(config, clusters)
    # A member is added once ASM is `running` again, not once the cluster injects sidecars.
    injection = {
        name: (
            InjectionReady(
                f"{name}-injection",
                InjectionReadyArgs(
                    provider=cluster.provider,
                    namespace=namespaces[name].metadata.name,
                    after=[asm.members[name]],
                ),
            ).job,
        )
        for name, cluster in clusters.items()
    }
    bookinfo = _bookinfo_everywhere(config, clusters, namespaces, injection)
    # ASM documents no name for its gateway's account: the entrance is its namespace.
    policies = _default_deny(
        config,
        {"mesh": (asm.provider, mesh_namespace.metadata.name, asm.mesh)},
        Entrance(ingress={"namespaces": [ISTIO_NAMESPACE]}),
    )
    after = [gateway.gateway, routing, mtls, *bookinfo, *policies]
    checks = [
        _bookinfo_check(
            config,
            clusters,
            namespaces,
            gateway_url=ASM_GATEWAY_URL,
            mtls=config.asm.mtls,
            after=after,
        ),
        _authz_check(config, clusters, namespaces, after),
    ]
    return {
        "meshId": asm.mesh.id,
        "asmVersion": asm.version,
        "meshKubeconfig": asm.kubeconfig,
        "ingressGatewayAddress": gateway.address,
        "productpageUrls": _urls(gateway.address, names),
        **verified_output(checks),
    }


def _istio_mesh(
    config: TwoClusterStack, clusters: Mapping[str, AckCluster]
) -> dict[str, pulumi.Input[Any]]:
    """istiod in every cluster (multi-primary, one network), one root of trust."""
    names = list(clusters)
    namespace = config.bookinfo.namespace
    network = f"{config.mesh_id}-network"
    service_settings = (
        (
            {
                "settings": {"clusterLocal": True},
                "hosts": [
                    f"{host}.{namespace}.svc.cluster.local" for host in config.retention.hosts
                ],
            },
        )
        if config.retention.hosts
        else ()
    )
    mesh = assemble_mesh(
        MeshTopology(tuple(MeshMember(name, network) for name in names)),
        {
            c.name: MeshCluster(
                provider=clusters[c.name].provider,
                nodes=[clusters[c.name].node_pool],
                server=clusters[c.name].intranet_endpoint,
                certificate_authority=clusters[c.name].certificate_authority,
                ingress=c.ingress_gateway,
                mesh_settings={"service_settings": service_settings},
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
    control_planes, membership = mesh.control_planes, mesh.membership
    assert membership is not None  # two clusters or more
    namespaces = _app_namespaces(config, clusters)
    # Each istiod reads the Istio objects of its own cluster. Only the ingress gateway routes
    # with them (retention is istiod's serviceSettings here), and it runs in one cluster: a
    # Gateway elsewhere would select no pod.
    gateway_cluster = config.gateway_cluster.name
    routing = ClusterLocalRouting(
        f"{gateway_cluster}-bookinfo-routing",
        ClusterLocalRoutingArgs(
            provider=clusters[gateway_cluster].provider,
            namespace=namespaces[gateway_cluster].metadata.name,
            mesh_ready=control_planes[gateway_cluster].istiod,
            clusters=names,
            gateway_selector=INGRESS_SELECTOR,
        ),
    )
    bookinfo = _bookinfo_everywhere(
        config, clusters, namespaces, {n: cp.ready for n, cp in control_planes.items()}
    )
    gateway = control_planes[gateway_cluster]
    address = gateway.ingress_address()
    # The gateway cluster always has an ingress gateway; every primary its mTLS policy.
    assert address is not None and gateway.ingress_gateway is not None
    policies = [cp.peer_authentication for cp in control_planes.values()]
    # Each sidecar's policies come from its own cluster's istiod: the set in every cluster.
    authz = _default_deny(
        config,
        {
            name: (clusters[name].provider, namespaces[name].metadata.name, cp.istiod)
            for name, cp in control_planes.items()
        },
        ingress_entrance(namespace, gateway_api=False),
    )
    after = [gateway.ingress_gateway, routing, membership, *bookinfo, *filter(None, policies)]
    check = _bookinfo_check(
        config,
        clusters,
        namespaces,
        gateway_url=INGRESS_URL,
        mtls=config.istio.mtls,
        after=[*after, *authz],
    )
    authz_check = _authz_check(config, clusters, namespaces, [*after, *authz])
    return {
        **trust_outputs(mesh),
        "ingressGatewayAddress": address,
        "productpageUrls": _urls(address, names),
        **verified_output([check, authz_check, *membership.synced.values(), *mesh.trust_checks]),
    }
