"""Istio's external control plane: istiod runs outside every cluster of the mesh.

What istio.io's "Install Istio with an External Control Plane" builds, declared with Helm
(the values: external_values.py):

- the external cluster runs the mesh's istiod in `namespace` (`global.externalIstiod`), with
  the mesh config and injector templates it renders mounted as files (the chart mounts
  neither), a plug-in CA under the stack's root, and the Secret `istio-kubeconfig`: a
  kubeconfig of the config cluster with a token of the config cluster's `istiod` account;
- its own ingress gateway (injected and configured by a control plane of the external
  cluster's own, in istio-system) passes TLS for the host name through to that istiod on
  15012 (xDS, CA) and 15017 (webhooks);
- the first remote is the config cluster: base and istiod in `remote` profile with
  `global.configCluster`, the injection and validation webhooks calling the host; Istio
  objects of the mesh are written there;
- further remotes: the same without configCluster; the external istiod reads each through a
  remote secret in its own namespace of the external cluster (LOCAL_CLUSTER_SECRET_WATCHER),
  with a token of the remote's istio-reader-service-account (membership.py), whose role in a
  remote profile also writes ConfigMaps and patches webhooks (istiod chart
  templates/reader-clusterrole.yaml, `istiodRemote.enabled`).

Leadership (HA): every instance of the external istiod carries the config cluster's name as
its cluster ID (`CLUSTER_ID`); in the config cluster every instance joins the election, in
a further remote only if the remote's system namespace names that ID (or `*`) in
`topology.istio.io/controlPlaneClusters` (istio/istio release-1.31 pilot/pkg/
serviceregistry/kube/controller/multicluster.go checkShouldLead). The election is a lock in
that remote's namespace with a 30 s lease (pilot/pkg/leaderelection/leaderelection.go).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_kubernetes as k8s

from meshstack.helm import helm_release
from meshstack.istio import external_values
from meshstack.istio import values as istio_values
from meshstack.istio.control_plane import (
    INGRESS_GATEWAY,
    ISTIO_NAMESPACE,
    ControlPlaneArgs,
    IstioControlPlane,
)
from meshstack.istio.eastwest import NETWORK_LABEL, istiod_service
from meshstack.istio.membership import (
    MemberCluster,
    MeshMembership,
    MeshMembershipArgs,
    remote_kubeconfig,
    service_account_token,
)
from meshstack.istio.objects import MtlsMode, istio_object, mesh_wide_mtls
from meshstack.istio.topology import ReaderTokens

DEFAULT_NAMESPACE = "external-istiod"
# The file istiod reads as KUBECONFIG (the chart's istio-kubeconfig volume, key `config`).
KUBECONFIG_SECRET = "istio-kubeconfig"
KUBECONFIG_KEY = "config"
LEADERS_ANNOTATION = "topology.istio.io/controlPlaneClusters"


@dataclass(frozen=True)
class PlaneCluster:
    """A built cluster, as the external control plane needs it."""

    name: str
    provider: k8s.Provider
    # The API server as the external cluster reaches it, and its CA (base64 PEM).
    server: pulumi.Input[str]
    certificate_authority: pulumi.Input[str]
    network: str = "network1"
    # What pods need to be scheduled (a node pool).
    nodes: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class ExternalControlPlaneArgs:
    release: istio_values.IstioRelease
    # Mesh-wide settings (profile, mesh ID, …); the cluster name is the config cluster's.
    mesh: istio_values.MeshSettings
    external: PlaneCluster
    # The first is the config cluster.
    remotes: Sequence[PlaneCluster]
    # The name the remotes' webhooks and proxies call, resolving to `ingress_address`.
    host: str
    # The plug-in CA of the external istiod (files of `cacerts`) and its root bundle (PEM),
    # which the remotes' webhooks trust.
    ca_certificates: pulumi.Input[dict[str, str]]
    root_cert_pem: pulumi.Input[str]
    namespace: str = DEFAULT_NAMESPACE
    replicas: int = 2
    ingress_address: pulumi.Input[str] | None = None
    ingress_annotations: Mapping[str, str] = field(default_factory=dict)
    reader_tokens: ReaderTokens = field(default_factory=ReaderTokens)
    mtls: MtlsMode | None = "STRICT"

    @property
    def config_cluster(self) -> PlaneCluster:
        return self.remotes[0]


class ExternalControlPlane(pulumi.ComponentResource):
    """The external istiod, its gateway, and every remote's webhooks and reader access."""

    local: IstioControlPlane
    """The external cluster's own control plane (it injects and configures the gateway)."""
    istiod: k8s.helm.v3.Release
    """The external istiod."""
    ingress: k8s.helm.v3.Release
    namespaces: dict[str, k8s.core.v1.Namespace]
    """By remote: its system namespace (named like the external istiod's)."""
    remote_istiods: dict[str, k8s.helm.v3.Release]
    """By remote: its `istiod` release in remote profile (webhooks, no Deployment)."""
    membership: MeshMembership | None
    ready: tuple[pulumi.Resource, ...]
    """What injected pods in a remote wait for."""

    def __init__(
        self, name: str, args: ExternalControlPlaneArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:ExternalControlPlane", name, None, opts)
        release, ns, host = args.release, args.namespace, args.host
        config = args.config_cluster
        root_pem = pulumi.Output.from_input(args.root_cert_pem)

        def on(cluster: PlaneCluster, after: Sequence[pulumi.Resource] = ()):
            return pulumi.ResourceOptions(
                parent=self, provider=cluster.provider, depends_on=list(after)
            )

        def chart(resource: str, release_name: str, chart_name: str, namespace, values, *, opts):
            return helm_release(
                resource,
                release_name=release_name,
                chart=chart_name,
                version=release.version,
                repository=release.chart_repository,
                namespace=namespace,
                values=values,
                opts=opts,
            )

        self.namespaces, self.remote_istiods, bases = {}, {}, {}
        for remote in args.remotes:
            is_config = remote is config
            self.namespaces[remote.name] = k8s.core.v1.Namespace(
                f"{name}-{remote.name}-namespace",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=ns,
                    labels={NETWORK_LABEL: remote.network},
                    # The config cluster is led by every instance; a further remote by those
                    # whose cluster ID it names: every instance's is the config cluster's.
                    annotations=None if is_config else {LEADERS_ANNOTATION: config.name},
                ),
                opts=on(remote),
            )
            # Its name as an output: everything in it waits for it (and goes before it).
            remote_ns = self.namespaces[remote.name].metadata.name
            bases[remote.name] = chart(
                f"{name}-{remote.name}-base",
                "istio-base",
                "base",
                remote_ns,
                root_pem.apply(
                    lambda pem: external_values.remote_base_values(release, host=host, root_pem=pem)
                ),
                opts=on(remote),
            )
            self.remote_istiods[remote.name] = chart(
                f"{name}-{remote.name}-istiod",
                istiod_service(release.revision),
                "istiod",
                remote_ns,
                root_pem.apply(
                    lambda pem, r=remote, c=is_config: external_values.remote_values(
                        release,
                        namespace=ns,
                        cluster=r.name,
                        network=r.network,
                        host=host,
                        root_pem=pem,
                        config_cluster=c,
                    )
                ),
                opts=on(remote, [bases[remote.name]]),
            )

        external = args.external
        self.local = IstioControlPlane(
            f"{name}-local",
            ControlPlaneArgs(
                provider=external.provider,
                release=release,
                mesh=istio_values.MeshSettings(
                    profile=args.mesh.profile, cluster_name=external.name
                ),
                mtls=None,
                ingress_service_type=None,
                nodes=external.nodes,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ns),
            opts=on(external),
        )
        external_ns = namespace.metadata.name
        cacerts = k8s.core.v1.Secret(
            f"{name}-cacerts",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="cacerts", namespace=external_ns),
            string_data=pulumi.Output.secret(args.ca_certificates),
            opts=on(external),
        )
        token = service_account_token(
            f"{name}-{config.name}-istiod-token",
            secret_name=f"{istiod_service(release.revision)}-external-token",
            namespace=ns,
            account=istiod_service(release.revision),
            opts=on(config, [self.remote_istiods[config.name]]),
        )
        kubeconfig = k8s.core.v1.Secret(
            f"{name}-kubeconfig",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=KUBECONFIG_SECRET, namespace=external_ns),
            string_data=pulumi.Output.secret(
                pulumi.Output.all(config.server, config.certificate_authority, token).apply(
                    lambda v: {KUBECONFIG_KEY: remote_kubeconfig(config.name, v[0], v[1], v[2])}
                )
            ),
            opts=on(external),
        )
        mesh = replace(args.mesh, cluster_name=config.name, network=config.network)
        self.istiod = chart(
            f"{name}-istiod",
            istiod_service(release.revision),
            "istiod",
            external_ns,
            external_values.external_istiod_values(
                release, mesh, namespace=ns, host=host, replicas=args.replicas
            ),
            # After the external cluster's base too: destroy removes this istiod before it.
            opts=on(
                external,
                [
                    cacerts,
                    kubeconfig,
                    self.remote_istiods[config.name],
                    self.local.base,
                    *external.nodes,
                ],
            ),
        )
        self.ingress = chart(
            f"{name}-ingress",
            INGRESS_GATEWAY,
            "gateway",
            ISTIO_NAMESPACE,
            pulumi.Output.from_input(args.ingress_address).apply(
                lambda address: external_values.ingress_values(
                    release, address, dict(args.ingress_annotations)
                )
            ),
            # What it routes to first (and so, on destroy, it goes before that istiod).
            opts=on(external, [self.local.istiod, self.istiod]),
        )
        exposed = [
            istio_object(
                f"{name}-{object_name}",
                kind,
                object_name,
                ISTIO_NAMESPACE,
                external_values.expose_specs(host, ns, release.revision)[object_name],
                opts=on(external, [self.local.istiod, self.istiod]),
            )
            for object_name, kind in (
                (external_values.EXTERNAL_GATEWAY, "Gateway"),
                (external_values.EXTERNAL_ROUTES, "VirtualService"),
            )
        ]
        further = [r for r in args.remotes if r is not config]
        self.membership = None
        if further:
            members = {
                r.name: MemberCluster(
                    provider=r.provider,
                    server=r.server,
                    certificate_authority=r.certificate_authority,
                    base=bases[r.name],
                )
                for r in further
            }
            members[external.name] = MemberCluster(
                provider=external.provider,
                server=external.server,
                certificate_authority=external.certificate_authority,
                base=namespace,
            )
            self.membership = MeshMembership(
                f"{name}-membership",
                MeshMembershipArgs(
                    members=members,
                    reads=[(r.name, external.name) for r in further],
                    reader_tokens=args.reader_tokens,
                    namespace=ns,
                ),
                pulumi.ResourceOptions(parent=self),
            )
        serving = [self.istiod, self.ingress, *exposed]
        if args.mtls:
            # The mesh's policy lives where its config does: the config cluster's root namespace.
            mesh_wide_mtls(
                f"{name}-peer-authentication",
                args.mtls,
                ns,
                opts=on(config, [*serving, self.remote_istiods[config.name]]),
            )
        self.ready = (
            *serving,
            *self.remote_istiods.values(),
            *(self.membership.remote_secrets.values() if self.membership else ()),
        )
        self.register_outputs({"istiod": self.istiod.name, "host": host})
