"""The mesh every single-cluster scenario puts on its cluster: Istio, Bookinfo, routing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.bookinfo import Bookinfo, BookinfoArgs
from meshstack.apps.bookinfo_authz import Entrance, Placement, default_deny
from meshstack.apps.bookinfo_checks import (
    plain_text_refused,
    productpage_not_admitted,
    routing_checks,
)
from meshstack.apps.bookinfo_gateway_api import BookinfoGatewayApi, BookinfoGatewayApiArgs
from meshstack.apps.bookinfo_routing import GATEWAY_NAME, BookinfoRouting, BookinfoRoutingArgs
from meshstack.apps.namespace import injected_namespace, revision_annotation
from meshstack.hardening import pinned
from meshstack.istio.control_plane import (
    INGRESS_GATEWAY,
    ISTIO_NAMESPACE,
    ControlPlaneArgs,
    IstioControlPlane,
)
from meshstack.istio.gateway_api import (
    WAYPOINT,
    deployed_service,
    gateway_api_object,
    waypoint_spec,
)
from meshstack.istio.values import IstioRelease, MeshSettings
from meshstack.observability import values as addon_values
from meshstack.observability.addons import (
    ChartRef,
    JaegerSettings,
    Observability,
    ObservabilityArgs,
)
from meshstack.verify.mesh_check import MeshCheck
from stacks.config import AddonsConfig, IstioConfig, MeshStack, SecurityConfig
from stacks.scenarios.revision_mtls import productpage_callers, revision_mtls
from stacks.scenarios.verification import mesh_check, verified_output

# The Helm gateway chart's release `istio-ingressgateway` carries this label.
INGRESS_SELECTOR = {"istio": "ingressgateway"}
# The ingress gateway from inside the cluster: its Service, whatever its type, on port 80.
INGRESS_URL = f"http://{INGRESS_GATEWAY}.{ISTIO_NAMESPACE}"


def istio_release(istio: IstioConfig, security: SecurityConfig) -> IstioRelease:
    """What base, the CNI and the gateways install (with istio.revisions: the newest
    version, no revision: the gateways follow the `default` tag), and the one istiod
    without istio.revisions."""
    newest = istio.newest_revision if istio.tagged else None
    return IstioRelease(
        version=istio.mesh_version,
        chart_repository=(newest and newest.chart_repository) or istio.chart_repository,
        gateway_api_crds=istio.gateway_api_crds,
        hub=istio.hub,
        tag=istio.mesh_version if istio.tagged else istio.image_tag,
        image_pull_policy=istio.image_pull_policy,
        revision=istio.revision,
        network_policies=security.network_policies,
        tag_charts=istio.tag_charts,
    )


def revision_releases(istio: IstioConfig, security: SecurityConfig) -> tuple[IstioRelease, ...]:
    """Each istiod of istio.revisions, at its own version (none without them)."""
    if not istio.tagged:
        return ()
    mesh = istio_release(istio, security)
    return tuple(
        replace(
            mesh,
            version=r.version,
            tag=r.version,
            chart_repository=r.chart_repository or istio.chart_repository,
            revision=r.name,
        )
        for r in istio.declared_revisions()
    )


def control_plane_args(
    provider: k8s.Provider,
    istio: IstioConfig,
    security: SecurityConfig,
    *,
    serverless: bool = False,
    ingress: bool = True,
    ca_certificates: pulumi.Input[dict[str, str]] | None = None,
    shared_cluster: bool = False,
    **mesh: Any,
) -> ControlPlaneArgs:
    """The control plane the `istio` config asks for; `mesh` adds MeshSettings fields (mesh
    ID, cluster name, network, …) a scenario decides; `ingress=False` leaves out the gateway;
    `shared_cluster`: a cluster the stack did not create, whose Gateway API CRDs stay."""
    return ControlPlaneArgs(
        provider=provider,
        release=istio_release(istio, security),
        mesh=MeshSettings(
            profile=istio.profile,
            cni=istio.cni_enabled(serverless),
            outbound_traffic_policy=istio.outbound_traffic_policy,
            data_plane=istio.data_plane,
            # A scenario knows some clusters' platform (GKE); the config names the others.
            platform=mesh.pop("platform", None) or istio.platform,
            # Where the package plugs in a CA, its root can be rotated (docs/day-2.md).
            multi_root=ca_certificates is not None,
            **mesh,
        ),
        mtls=istio.mtls,
        # Gateway API ingress: Istio deploys the gateway for the Gateway object itself.
        ingress_service_type=istio.ingress_service_type
        if ingress and istio.ingress == "istio"
        else None,
        egress_gateway=istio.egress_gateway,
        ca_certificates=ca_certificates,
        gateway_api="gateway-api" in (istio.ingress, istio.routes),
        keep_gateway_api_crds=shared_cluster,
        revisions=revision_releases(istio, security),
        tags=dict(istio.tags or {}),
        ambient_revision=istio.ambient.revision if istio.ambient else None,
    )


@dataclass(frozen=True)
class Mesh:
    control_plane: IstioControlPlane
    bookinfo: Bookinfo | None
    observability: Observability
    check: MeshCheck | None = None
    # The namespace of a Gateway API ingress gateway (Istio deploys it beside its Gateway).
    gateway_api_ingress: str | None = None
    # bookinfo.authorization default-deny: a call from an account not admitted is refused.
    authz_check: MeshCheck | None = None
    # The mTLS checks between revisions side by side (revision_mtls.py).
    revision_checks: tuple[MeshCheck | None, ...] = ()


def mesh_on_cluster(
    provider: k8s.Provider, config: MeshStack, *, shared_cluster: bool = False, **mesh: Any
) -> Mesh:
    """Istio, its addons, and Bookinfo with its routing, on one cluster (`shared_cluster`:
    one the stack did not create, see control_plane_args; `mesh`: more MeshSettings fields,
    e.g. a tenancy's scoping)."""
    istio, bookinfo = config.istio, config.bookinfo
    endpoints = addon_values.Endpoints(ISTIO_NAMESPACE)
    tracing = (
        (addon_values.tracing_extension_provider(endpoints),)
        if config.addons.jaeger.enabled
        else ()
    )
    control_plane = IstioControlPlane(
        "istio",
        control_plane_args(
            provider,
            istio,
            config.security,
            serverless=config.serverless,
            shared_cluster=shared_cluster,
            extension_providers=tracing,
            **mesh,
        ),
    )
    observability = Observability(
        "addons", _observability_args(provider, control_plane, config.addons, config.security)
    )
    if not bookinfo.enabled:
        return Mesh(control_plane, None, observability)
    ambient = istio.data_plane == "ambient"
    namespace = injected_namespace(
        "bookinfo-namespace",
        bookinfo.namespace,
        istio.revision,
        pulumi.ResourceOptions(provider=provider),
        ambient=ambient,
        waypoint=WAYPOINT if ambient else None,
    )
    # Pods need istiod and the CNI agent (ambient: ztunnel), Istio objects istiod. Ambient: L7
    # routing between services happens in the namespace's waypoint, which the routes and the
    # checks wait for.
    routes_ready: list[pulumi.Resource] = [control_plane.istiod]
    if ambient:
        routes_ready.append(
            gateway_api_object(
                "bookinfo-waypoint",
                "Gateway",
                WAYPOINT,
                namespace.metadata.name,
                waypoint_spec(),
                opts=pulumi.ResourceOptions(provider=provider, depends_on=control_plane.ready),
            )
        )
    app = Bookinfo(
        "bookinfo",
        BookinfoArgs(
            namespace=namespace.metadata.name,
            image_hub=bookinfo.image_hub,
            image_tag=bookinfo.image_tag,
            reviews_versions=list(bookinfo.reviews_versions),
            network_policies=config.security.network_policies,
            image_digests=config.security.image_digests,
            # Its namespace is on the `default` tag (istio-injection=enabled).
            pod_annotations=revision_annotation(istio.tagged_default),
        ),
        pulumi.ResourceOptions(provider=provider, depends_on=control_plane.ready),
    )
    routing, ingress_url = _routing(provider, namespace.metadata.name, config, routes_ready)
    samples = config.verify.samples
    checks = routing_checks(ingress_url, bookinfo.routing, bookinfo.reviews_versions, samples)
    after: list[pulumi.Resource] = [app, routing]
    if control_plane.ingress_gateway is not None:
        after.append(control_plane.ingress_gateway)
    if istio.mtls == "STRICT" and control_plane.peer_authentication is not None:
        checks.append(plain_text_refused(bookinfo.namespace))
        after.append(control_plane.peer_authentication)
    # Revisions side by side: pods of each tag's revision and of `default`'s talk over mTLS.
    side_by_side = revision_mtls(
        provider, config, control_plane, namespace.metadata.name, [app, routing]
    )
    if side_by_side is not None:
        checks += side_by_side.plain_text
        after += side_by_side.servers
    check = mesh_check(
        "bookinfo-check",
        config.verify,
        provider=provider,
        namespace=namespace.metadata.name,
        job_name="bookinfo-check",
        checks=checks,
        after=after,
    )
    gateway_namespace = bookinfo.namespace if istio.ingress == "gateway-api" else None
    authz_check = _default_deny(
        provider, config, namespace.metadata.name, control_plane.istiod, [app, *routes_ready]
    )
    return Mesh(
        control_plane,
        app,
        observability,
        check,
        gateway_namespace,
        authz_check=authz_check,
        revision_checks=side_by_side.checks if side_by_side else (),
    )


def ingress_entrance(namespace: str, *, gateway_api: bool, gateway_here: bool = True) -> Entrance:
    """Who enters Bookinfo: the Helm gateway's account (the gateway chart's service account
    is its release's name: charts/gateway/templates/_helpers.tpl gateway.serviceAccountName),
    or that of Bookinfo's Gateway API gateway, which Istio names `<gateway>-istio` (release-1.31
    pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go ServiceAccount);
    `gateway_here`: that gateway runs in this cluster."""
    if gateway_api:
        return Entrance(
            ingress={"serviceAccounts": [f"{namespace}/{deployed_service(GATEWAY_NAME)}"]},
            gateway_in_namespace=GATEWAY_NAME if gateway_here else None,
        )
    return Entrance(ingress={"serviceAccounts": [f"{ISTIO_NAMESPACE}/{INGRESS_GATEWAY}"]})


def ambient_placement(ambient: bool) -> Placement:
    """Sidecars, or ztunnel and the namespace's waypoint, whose account is its Gateway's
    name (waypoints keep it: gatewaycommon/classinfo.go DisableNameSuffix)."""
    return Placement(ambient=True, waypoint_account=WAYPOINT) if ambient else Placement()


def _default_deny(
    provider: k8s.Provider,
    config: MeshStack,
    namespace: pulumi.Output[str],
    istiod: pulumi.Resource,
    after: list[pulumi.Resource],
) -> MeshCheck | None:
    """bookinfo.authorization default-deny: the policy set, and a check from a mesh pod whose
    account it does not admit."""
    istio, bookinfo = config.istio, config.bookinfo
    if bookinfo.authorization == "none":
        return None
    ambient = istio.data_plane == "ambient"
    policies = default_deny(
        "bookinfo",
        bookinfo.namespace,
        namespace,
        entrance=replace(
            ingress_entrance(bookinfo.namespace, gateway_api=istio.ingress == "gateway-api"),
            checks=productpage_callers(config),
        ),
        placement=ambient_placement(ambient),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[istiod]),
    )
    return mesh_check(
        "bookinfo-authz-check",
        config.verify,
        provider=provider,
        namespace=namespace,
        job_name="bookinfo-authz-check",
        checks=[productpage_not_admitted(bookinfo.namespace)],
        after=[*after, *policies],
        in_mesh=True,
        revision=istio.revision,
        ambient=ambient,
    )


def _routing(
    provider: k8s.Provider,
    namespace: pulumi.Input[str],
    config: MeshStack,
    ready: list[pulumi.Resource],
) -> tuple[pulumi.Resource, str]:
    """Bookinfo's ingress and routing scenario, in the API the config chose, and the ingress
    gateway's address inside the cluster (port 80)."""
    istio, bookinfo = config.istio, config.bookinfo
    if istio.ingress == "gateway-api":
        routing = BookinfoGatewayApi(
            "bookinfo-routing",
            BookinfoGatewayApiArgs(
                provider=provider,
                namespace=namespace,
                ready=ready,
                scenario=bookinfo.routing,
                service_type=istio.ingress_service_type,
            ),
        )
        return routing, f"http://{deployed_service(GATEWAY_NAME)}.{bookinfo.namespace}"
    routing = BookinfoRouting(
        "bookinfo-routing",
        BookinfoRoutingArgs(
            provider=provider,
            namespace=namespace,
            mesh_ready=ready[0],
            gateway_selector=INGRESS_SELECTOR,
            scenario=bookinfo.routing,
        ),
    )
    return routing, INGRESS_URL


def _observability_args(
    provider: k8s.Provider,
    control_plane: IstioControlPlane,
    addons: AddonsConfig,
    security: SecurityConfig,
) -> ObservabilityArgs:
    def chart(addon) -> ChartRef | None:
        return ChartRef(addon.chart_version, addon.repository) if addon.enabled else None

    jaeger = addons.jaeger
    return ObservabilityArgs(
        provider=provider,
        namespace=control_plane.namespace.metadata.name,
        namespace_name=ISTIO_NAMESPACE,
        mesh_ready=control_plane.istiod,
        prometheus=chart(addons.prometheus),
        grafana=chart(addons.grafana),
        kiali=chart(addons.kiali),
        jaeger=JaegerSettings(
            pinned(f"{jaeger.image}:{jaeger.tag}", security.image_digests),
            jaeger.sampling_percentage,
        )
        if jaeger.enabled
        else None,
        network_policies=security.network_policies,
    )


PORT_FORWARD = (
    f"kubectl -n {ISTIO_NAMESPACE} port-forward svc/{INGRESS_GATEWAY} 8080:80, "
    "then open http://localhost:8080/productpage"
)
NODE_PORT = (
    f"kubectl -n {ISTIO_NAMESPACE} get svc {INGRESS_GATEWAY} "
    "-o jsonpath='{.spec.ports[?(@.port==80)].nodePort}' gives the port on every node's "
    "address; or "
)


def gateway_api_port_forward(namespace: str) -> str:
    """How to open the product page through Bookinfo's Gateway API ingress gateway."""
    return (
        f"kubectl -n {namespace} port-forward svc/{deployed_service(GATEWAY_NAME)} 8080:80, "
        "then open http://localhost:8080/productpage"
    )


def mesh_outputs(mesh: Mesh) -> dict[str, pulumi.Input[str]]:
    """Where to look: the gateway address, the product page, and how to reach it without one."""
    outputs: dict[str, pulumi.Input[str]] = {}
    service_type = mesh.control_plane.ingress_service_type
    address = mesh.control_plane.ingress_address()
    if address is not None:
        outputs["ingressGatewayAddress"] = address
    if mesh.bookinfo is not None and service_type:
        outputs["productpageUrl"] = (
            address.apply(lambda a: f"http://{a}/productpage" if a else PORT_FORWARD)
            if address is not None
            else (NODE_PORT if service_type == "NodePort" else "") + PORT_FORWARD
        )
    if mesh.gateway_api_ingress:
        outputs["productpageUrl"] = gateway_api_port_forward(mesh.gateway_api_ingress)
    for addon, command in mesh.observability.open_commands.items():
        outputs[f"{addon}Command"] = command
    return {
        **outputs,
        **verified_output([mesh.check, mesh.authz_check, *mesh.revision_checks]),
    }
