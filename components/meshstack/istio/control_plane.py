"""The Istio control plane from Istio's Helm charts: base → istiod and [cni] side by side →
gateways, and in ambient mode base → istiod and cni side by side → ztunnel (with revisions:
base → every istiod → the cni and ztunnel of istio.ambient.revision, in that order).

`base` carries the CRDs; istiod must be ready before anything injected (the gateways run
injected proxies, `image: auto`) and before any Istio object (its validating webhook answers
for them). istio-cni needs nothing of istiod's, nor istiod of it: istiod's pod is not injected,
so the CNI plugin leaves it alone, and it tolerates the CNI's `cni.istio.io/not-ready` node
taint (istiod chart, templates/deployment.yaml). What needs the CNI node agent on its node is a
pod it redirects: a sidecar-injected pod (its `istio-validation` init container only checks the
redirection the plugin set up: istiod chart, files/injection-template.yaml; a pod started before
the agent crash-loops until its repair controller fixes it: cni chart values `repair`), and in
ambient mode ztunnel, ready only once connected to the agent (istio/ztunnel release-1.31
src/inpod/workloadmanager.rs). Gateways are not redirected: the plugin skips proxies of type
`router` (istio/istio release-1.31 cni/pkg/plugin/plugin.go, `pi.ProxyType`), the gateway
template's (files/gateway-injection-template.yaml: `proxy router`, no init container).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.namespace import revision_annotation
from meshstack.helm import helm_release
from meshstack.istio import values as istio_values
from meshstack.istio.gateway_api import gateway_api_crds
from meshstack.istio.injection import InjectionReady, InjectionReadyArgs
from meshstack.istio.objects import MtlsMode, mesh_wide_mtls
from meshstack.versions import LOCAL_CHARTS, TAG_CHART

ISTIO_NAMESPACE = "istio-system"
INGRESS_GATEWAY = "istio-ingressgateway"  # selector label istio: ingressgateway
EGRESS_GATEWAY = "istio-egressgateway"


@dataclass(frozen=True)
class ControlPlaneArgs:
    provider: k8s.Provider
    release: istio_values.IstioRelease
    mesh: istio_values.MeshSettings = field(default_factory=istio_values.MeshSettings)
    mtls: MtlsMode | None = "STRICT"
    ingress_service_type: istio_values.ServiceType | None = "LoadBalancer"
    egress_gateway: bool = False
    # Files of the `cacerts` Secret (a plug-in CA, e.g. an intermediate of a shared root);
    # None: istiod generates its own self-signed root.
    ca_certificates: pulumi.Input[dict[str, str]] | None = None
    # Set for a remote cluster: it runs no istiod and uses its primary's.
    remote: RemoteOf | None = None
    # Install the Gateway API CRDs (Gateway API ingress, waypoints) before istiod.
    gateway_api: bool = False
    # Leave them in the cluster on destroy (a cluster others share: deleting a CRD deletes
    # every object of it, other people's routes and gateways included).
    keep_gateway_api_crds: bool = False
    # What pods need to be scheduled (a node pool). The namespace, the CRDs and the CA
    # Secret do not wait for it; istiod, the CNI and so everything after them do.
    nodes: Sequence[pulumi.Resource] = ()
    # Revisions side by side (each with its own version and revision name), and the tags
    # that choose between them (tag → revision; `default` required). Empty: one istiod of
    # `release`. With revisions, `release` (no revision, the newest version) is what base,
    # the CNI and the gateways install; the gateways follow the `default` tag.
    revisions: Sequence[istio_values.IstioRelease] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    # Ambient with revisions: the revision istio-cni and ztunnel run (its version, its
    # istiod); both are upgraded in place after that istiod and its check, ztunnel last.
    ambient_revision: str | None = None


@dataclass(frozen=True)
class RemoteOf:
    """A remote cluster's link to its primary (Istio's primary-remote model)."""

    primary: str
    # The primary's east-west gateway, where istiod is exposed.
    discovery_address: pulumi.Input[str]
    # With revisions: what serves each revision's injection here (the primary's istiod of
    # that revision, its check, the east-west gateway routing its SNI host), which this
    # cluster's check of the revision waits for.
    serving: Mapping[str, Sequence[pulumi.Resource]] = field(default_factory=dict)


class IstioControlPlane(pulumi.ComponentResource):
    """Istio in one cluster. Istio objects and gateways wait for `istiod`; pods in the mesh for
    `ready`: istiod and the CNI node agent (ambient: ztunnel, which waits for both)."""

    namespace: k8s.core.v1.Namespace
    base: k8s.helm.v3.Release
    # The plugged-in CA's `cacerts` Secret (None: istiod's self-signed CA).
    ca_secret: k8s.core.v1.Secret | None
    # What injected pods and Istio objects wait for: istiod, or with revisions the `default`
    # tag's release (which waits for its revision's istiod).
    istiod: k8s.helm.v3.Release
    # With revisions: each revision's istiod (a remote's: its remote-profile release), its
    # check Job and each tag's release.
    istiods: dict[str, k8s.helm.v3.Release]
    checks: dict[str, k8s.batch.v1.Job]
    tags: dict[str, k8s.helm.v3.Release]
    cni: k8s.helm.v3.Release | None
    ready: tuple[pulumi.Resource, ...]
    # istiod's Service of each revision (the chart names it after its release,
    # templates/service.yaml); the `default` tag's first.
    istiod_services: tuple[str, ...]
    ingress_gateway: k8s.helm.v3.Release | None
    ingress_service_type: istio_values.ServiceType | None
    # Read back for its address (LoadBalancer only).
    ingress_service: k8s.core.v1.Service | None
    peer_authentication: k8s.apiextensions.CustomResource | None

    def __init__(
        self, name: str, args: ControlPlaneArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:ControlPlane", name, None, opts)
        release = args.release
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)

        labels = {"topology.istio.io/network": args.mesh.network} if args.mesh.network else {}
        remote = args.remote
        # Which istiod manages this cluster's webhooks (the primary's, for a remote).
        annotations = {"topology.istio.io/controlPlaneClusters": remote.primary} if remote else None
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ISTIO_NAMESPACE, labels=labels, annotations=annotations
            ),
            opts=child,
        )
        namespace = self.namespace.metadata.name

        def chart(
            role: str,
            release_name: str,
            chart_name: str,
            values: pulumi.Input[dict],
            after: list,
            *,
            of: istio_values.IstioRelease = release,
            repository: str | None = None,
        ):
            return helm_release(
                f"{name}-{role}",
                release_name=release_name,
                chart=chart_name,
                version=of.version,
                repository=repository or of.chart_repository,
                namespace=namespace,
                values=values,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=after)),
            )

        # With revisions, base's `defaultRevision` (the revision `istiod-default-validator`
        # calls) moves with the `default` tag, in the same `up`.
        default_of = replace(release, revision=args.tags["default"]) if args.revisions else release
        self.base = chart(
            "base",
            "istio-base",
            "base",
            istio_values.base_values(default_of, remote=remote is not None),
            [],
        )
        istiod_after: list[pulumi.Resource] = [self.base, *args.nodes]
        self.ca_secret = None
        if args.ca_certificates is not None:
            # istiod reads its CA at start: the Secret must exist before it.
            self.ca_secret = k8s.core.v1.Secret(
                f"{name}-cacerts",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="cacerts", namespace=namespace),
                string_data=pulumi.Output.secret(args.ca_certificates),
                opts=child,
            )
            istiod_after.append(self.ca_secret)
        if args.gateway_api:
            # Istio installs no Gateway API CRDs; istiod watches them from its start.
            istiod_after.append(
                gateway_api_crds(
                    f"{name}-gateway-api",
                    opts=child,
                    file=release.gateway_api_crds,
                    keep=args.keep_gateway_api_crds,
                )
            )
        self.istiods, self.checks, self.tags = {}, {}, {}
        # What istio-cni and ztunnel run, and what they wait for besides base and the nodes.
        node_release, node_after = release, []
        if args.revisions:
            self.istiod = self._revisions(name, args, chart, istiod_after)
            if args.ambient_revision:
                node_release = next(
                    r for r in args.revisions if r.revision == args.ambient_revision
                )
                # Istio supports istio-cni and ztunnel at their control plane's version or
                # one minor behind, so that istiod goes first: on an upgrade, its release
                # (and its check) completes before either changes (istio.io/latest/docs/
                # ambient/upgrade/helm).
                node_after = [
                    self.istiods[args.ambient_revision],
                    self.checks[args.ambient_revision],
                ]
            else:
                # Sidecar mode: the CNI node agent at the oldest revision's version, never
                # ahead of an istiod (supported at its control plane's version or one minor
                # behind: istio.io/latest/docs/ambient/upgrade/helm, the same rule), and
                # within one minor of every other (the revisions' skew rule). It moves up in
                # place when the oldest revision is dropped.
                node_release = min(
                    args.revisions, key=lambda r: tuple(int(p) for p in r.version.split("."))
                )
            default = args.tags["default"]
            self.istiod_services = tuple(
                f"istiod-{r}" for r in sorted(self.istiods, key=lambda r: r != default)
            )
        else:
            istiod_name = f"istiod-{release.revision}" if release.revision else "istiod"
            self.istiod_services = (istiod_name,)
            self.istiod = chart(
                "istiod", istiod_name, "istiod", _istiod_values(release, args), istiod_after
            )
        self.ready = self._node_agents(args, chart, node_release, node_after)

        # The gateways follow the `default` tag: a move restarts them onto its revision.
        restart = revision_annotation(args.tags.get("default") if args.revisions else None)
        self.ingress_service_type = args.ingress_service_type
        self.ingress_gateway = None
        self.ingress_service = None
        if args.ingress_service_type:
            self.ingress_gateway = chart(
                "ingress",
                INGRESS_GATEWAY,
                "gateway",
                istio_values.gateway_values(
                    release, args.ingress_service_type, pod_annotations=restart
                ),
                [self.istiod],
            )
            if args.ingress_service_type == "LoadBalancer":
                # Read back the Service the chart made, for its load-balancer address.
                self.ingress_service = k8s.core.v1.Service.get(
                    f"{name}-ingress-service",
                    f"{ISTIO_NAMESPACE}/{INGRESS_GATEWAY}",
                    opts=pulumi.ResourceOptions(
                        parent=self, provider=args.provider, depends_on=[self.ingress_gateway]
                    ),
                )
        if args.egress_gateway:
            chart(
                "egress",
                EGRESS_GATEWAY,
                "gateway",
                istio_values.gateway_values(release, "ClusterIP", pod_annotations=restart),
                [self.istiod],
            )

        self.peer_authentication = None
        if args.mtls:
            self.peer_authentication = mesh_wide_mtls(
                f"{name}-peer-authentication",
                args.mtls,
                namespace,
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=[self.istiod])
                ),
            )

        self.register_outputs(
            {
                "namespace": namespace,
                "istiod": self.istiod.name,
                "ingressGateway": self.ingress_gateway.name if self.ingress_gateway else None,
            }
        )

    def _node_agents(
        self,
        args: ControlPlaneArgs,
        chart,
        release: istio_values.IstioRelease,
        after: list[pulumi.Resource],
    ) -> tuple[pulumi.Resource, ...]:
        """istio-cni (sidecar mode with the CNI, ambient) and ztunnel (ambient) of `release`,
        after base, the nodes and `after`; returns what pods in the mesh wait for."""
        self.cni = None
        if args.mesh.cni or args.mesh.ambient:
            self.cni = chart(
                "cni",
                "istio-cni",
                "cni",
                istio_values.cni_values(release, args.mesh),
                [self.base, *args.nodes, *after],
                of=release,
            )
        # A Release completes only once its workloads are ready (istiod's Deployment, the
        # CNI's DaemonSet on every node). Sidecar mode: the CNI replaces istio-init.
        if not (args.mesh.ambient and self.cni is not None):
            return (self.istiod,) if self.cni is None else (self.istiod, self.cni)
        # Ambient: ztunnel gets its certificates and configuration from istiod (it mounts
        # istio-ca-root-cert and dials istiod:15012; with revisions istiod-<revision>, the
        # chart's `revision`), and a pod is in the mesh once the CNI node agent and ztunnel
        # run on its node: workloads wait for ztunnel. Istio's guide installs base → istiod →
        # cni → ztunnel one after the other; without revisions istiod and the CNI need
        # nothing of each other, so they install side by side.
        ztunnel = chart(
            "ztunnel",
            "ztunnel",
            "ztunnel",
            istio_values.ztunnel_values(release, args.mesh),
            [*(after or [self.istiod]), self.cni, *args.nodes],
            of=release,
        )
        # With revisions, the waypoints and Gateway API gateways are deployed by the istiod
        # of the `default` tag (self.istiod: its release), which may be another.
        return (ztunnel,) if not args.revisions else (ztunnel, self.istiod)

    def _revisions(
        self, name: str, args: ControlPlaneArgs, chart, after: list
    ) -> k8s.helm.v3.Release:
        """An istiod per revision, named by its revision so that none is ever renamed (a
        new revision is a new release beside the others), and a release per tag, named by
        the tag: moving a tag updates its release in place (the tag chart of the target's
        version, its `revision` value) once the target's check passed. Helm refuses
        one tag in two releases (ownership), so a tag lives in no istiod release. Returns
        the `default` tag's release (each revision's check Job: self.checks)."""
        by_revision = {r.revision: r for r in args.revisions}
        checks = self.checks
        serving = args.remote.serving if args.remote else {}
        for revision, of in by_revision.items():
            istiod = self.istiods[str(revision)] = chart(
                f"istiod-{revision}",
                f"istiod-{revision}",
                "istiod",
                _istiod_values(of, args),
                after,
                of=of,
            )
            # The gate of every tag that moves to this revision: a pod labelled with the
            # revision (its own injector's `rev.object` webhook, istiod chart
            # templates/mutatingwebhook.yaml, istio-system having no injection label) is
            # injected with this version's proxy. Helm completed the
            # release once istiod was available; the dry-run answer proves its webhook's CA
            # bundle (injection_check_job.py). In a remote, the webhook is the remote-profile
            # release's and is answered by the primary's istiod of the revision through the
            # east-west gateway (`serving`), which patches its CA bundle through its remote
            # secret (only webhooks labelled with its own revision: istio/istio release-1.31
            # pkg/webhooks/webhookpatch.go 120-132); that secret, which needs this cluster's
            # base, is created beside the check, and the Job retries until it answers.
            checks[str(revision)] = InjectionReady(
                f"{name}-check-{revision}",
                InjectionReadyArgs(
                    provider=args.provider,
                    namespace=self.namespace.metadata.name,
                    after=[istiod, *serving.get(str(revision), ())],
                    job_name=f"revision-check-{revision}",
                    probe_labels={"istio.io/rev": str(revision)},
                    proxy_tag=of.tag,
                ),
                pulumi.ResourceOptions(parent=self),
            ).job
        for tag, revision in args.tags.items():
            of = by_revision[revision]
            self.tags[tag] = chart(
                f"tag-{tag}",
                f"revision-tag-{tag}",
                TAG_CHART,
                istio_values.tag_values(revision, tag, remote=_injection_path(args)),
                [checks[revision]],
                of=of,
                repository=f"{LOCAL_CHARTS}{of.tag_charts.rstrip('/')}/{of.version}",
            )
        return self.tags["default"]

    def ingress_address(self) -> pulumi.Output[str] | None:
        """The ingress gateway's load-balancer IP or host name; None without a LoadBalancer."""
        if self.ingress_service is None:
            return None
        return self.ingress_service.status.apply(load_balancer_address)


def load_balancer_address(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    ingress = (status.load_balancer.ingress if status and status.load_balancer else None) or []
    if not ingress:
        return ""
    return ingress[0].ip or ingress[0].hostname or ""


def _istiod_values(of: istio_values.IstioRelease, args: ControlPlaneArgs) -> pulumi.Input[dict]:
    """istiod's values; a remote's: the remote profile pointing at its primary's istiod."""
    remote = args.remote
    if remote is None:
        return istio_values.istiod_values(of, args.mesh)
    return pulumi.Output.from_input(remote.discovery_address).apply(
        lambda address: istio_values.remote_istiod_values(of, args.mesh, address)
    )


def _injection_path(args: ControlPlaneArgs) -> str | None:
    """Where a remote's webhooks call its primary's istiod (None in a primary)."""
    if args.remote is None:
        return None
    return istio_values.remote_injection_path(args.mesh)
