"""The east-west gateway: how VMs and other networks reach istiod and the mesh's services.

Declares what `gen-eastwest-gateway.sh | istioctl install` and `expose-istiod.yaml` (and, for
several networks, `expose-services.yaml`) do: a `gateway` chart release named
`istio-eastwestgateway` with the labels and the four ports of that script, the Gateway
`istiod-gateway` + VirtualService `istiod-vs` that pass ports 15012 (xDS, CA) and 15017
(webhooks) through to istiod, and the Gateway `cross-network-gateway` (15443).
"""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from meshstack.helm import helm_release
from meshstack.istio import values as istio_values
from meshstack.istio.control_plane import ISTIO_NAMESPACE, load_balancer_address
from meshstack.istio.gateway_api import ambient_eastwest_spec, gateway_api_object
from meshstack.istio.objects import istio_object
from meshstack.options import register_schema_outputs, renamed

EASTWEST_GATEWAY = "istio-eastwestgateway"
NETWORK_LABEL = "topology.istio.io/network"
EASTWEST_LABELS = {"istio": "eastwestgateway", "app": EASTWEST_GATEWAY}
# The ports the gateway chart gives a network gateway (`networkGateway`, values.yaml
# `networkGatewayPorts`); a single-network gateway (`gen-eastwest-gateway.sh --single-cluster`)
# declares the same four itself.
EASTWEST_PORTS = (
    {"name": "status-port", "port": 15021, "targetPort": 15021},
    {"name": "tls", "port": 15443, "targetPort": 15443},
    {"name": "tls-istiod", "port": 15012, "targetPort": 15012},
    {"name": "tls-webhook", "port": 15017, "targetPort": 15017},
)
XDS_PORT = 15012
WEBHOOK_PORT = 15017
CROSS_NETWORK_PORT = 15443


def istiod_service(revision: str | None) -> str:
    """istiod's Service name: revisioned control planes have their own."""
    return f"istiod-{revision}" if revision else "istiod"


def istiod_host(revision: str | None, namespace: str = ISTIO_NAMESPACE) -> str:
    """The name a VM resolves (through its hosts file) to the east-west gateway."""
    return f"{istiod_service(revision)}.{namespace}.svc"


def eastwest_values(
    release: istio_values.IstioRelease,
    network: str,
    service_annotations: Mapping[str, str],
    load_balancer_ip: str | None,
    pod_annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Gateway chart values of the east-west gateway (pure: tested against the chart schema)."""
    service: dict[str, Any] = {"annotations": dict(service_annotations)}
    if load_balancer_ip:
        service["loadBalancerIP"] = load_balancer_ip
    # A network gateway's Service takes the chart's `networkGatewayPorts` (the same four), but
    # its NetworkPolicy admits only `service.ports` (chart default 15021/80/443): with
    # policies the ports go there too (gateway chart templates/service.yaml, networkpolicy.yaml).
    if not network or release.network_policies:
        service["ports"] = [dict(port) for port in EASTWEST_PORTS]
    return istio_values.gateway_values(
        release,
        "LoadBalancer",
        labels=EASTWEST_LABELS,
        network=network or None,
        service=service,
        pod_annotations=pod_annotations,
    )


def expose_istiod_specs(
    revision: str | None,
    namespace: str = ISTIO_NAMESPACE,
    revisions: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """Specs of `istiod-gateway` (Gateway) and `istiod-vs` (VirtualService), as upstream
    (samples/multicluster/expose-istiod.yaml). With `revisions` (istiods side by side), a
    VirtualService `istiod-vs-<revision>` per revision instead, routing the SNI hosts
    `istiod-<revision>.<namespace>.svc[.cluster.local]` to that istiod
    (samples/multicluster/expose-istiod-rev.yaml.tmpl): a remote's proxies and webhooks
    and a VM dial the host of their revision, so each moves revision by revision."""
    ports = {"tls-istiod": XDS_PORT, "tls-istiodwebhook": WEBHOOK_PORT}
    specs: dict[str, dict[str, Any]] = {
        "istiod-gateway": {
            "selector": {"istio": EASTWEST_LABELS["istio"]},
            "servers": [
                {
                    "port": {"name": name, "number": number, "protocol": "tls"},
                    "tls": {"mode": "PASSTHROUGH"},
                    "hosts": ["*"],
                }
                for name, number in ports.items()
            ],
        },
    }
    if not revisions:
        specs["istiod-vs"] = _istiod_routes(istiod_host(revision, namespace), ["*"])
    for each in revisions:
        host = istiod_host(each, namespace)
        specs[f"istiod-vs-{each}"] = _istiod_routes(host, [host, f"{host}.cluster.local"])
    return specs


def _istiod_routes(host: str, sni_hosts: list[str]) -> dict[str, Any]:
    """A VirtualService passing istiod's ports through to `host` for those SNI hosts."""
    # The webhook port of the gateway lands on istiod's Service port 443.
    targets = {XDS_PORT: XDS_PORT, WEBHOOK_PORT: 443}
    return {
        "hosts": ["*"],
        "gateways": ["istiod-gateway"],
        "tls": [
            {
                "match": [{"port": port, "sniHosts": list(sni_hosts)}],
                "route": [
                    {"destination": {"host": f"{host}.cluster.local", "port": {"number": target}}}
                ],
            }
            for port, target in targets.items()
        ],
    }


def cross_network_spec() -> dict[str, Any]:
    """`cross-network-gateway`: mTLS traffic of other networks enters here (SNI routed)."""
    return {
        "selector": {"istio": EASTWEST_LABELS["istio"]},
        "servers": [
            {
                "port": {"number": CROSS_NETWORK_PORT, "name": "tls", "protocol": "TLS"},
                "tls": {"mode": "AUTO_PASSTHROUGH"},
                "hosts": ["*.local"],
            }
        ],
    }


class EastWestGatewayArgs(TypedDict):
    namespace: pulumi.Input[str]
    """istiod's namespace (istio-system), as the control plane created it."""
    istio_version: NotRequired[str]
    """The gateway chart's version: the control plane's Istio (default: the pinned one)."""
    chart_repository: NotRequired[str]
    """Where the chart comes from (default: Istio's repository)."""
    revision: NotRequired[str | None]
    """The control plane's revision, whose istiod injects the gateway; none: the default."""
    image_pull_policy: NotRequired[str]
    """The gateway pods' image pull policy (default Always)."""
    network: NotRequired[str]
    """The Istio network this gateway fronts; none for one flat network."""
    service_annotations: NotRequired[Mapping[str, str]]
    """Cloud-specific Service annotations, e.g. an internal load balancer."""
    load_balancer_ip: NotRequired[pulumi.Input[str] | None]
    """A reserved load-balancer address; none lets the cloud pick one."""
    expose_istiod: NotRequired[bool]
    """Pass istiod's ports (15012 xDS and CA, 15017 webhooks) through (default true)."""
    istiod_revisions: NotRequired[Sequence[str]]
    """Istiods side by side: each revision's on its own SNI host istiod-<revision>.<namespace>.svc
    (Istio's expose-istiod-rev.yaml.tmpl); none: `revision`'s istiod on every SNI."""
    pod_annotations: NotRequired[Mapping[str, str]]
    """Annotations of the gateway's pods (a change restarts them, e.g. onto another
    revision)."""
    expose_services: NotRequired[bool]
    """Let other networks reach this network's services on 15443 (default false)."""
    network_policy: NotRequired[bool]
    """The chart's NetworkPolicy: the gateway admits only its Service's ports (default
    false)."""
    ambient: NotRequired[bool]
    """Ambient's east-west gateway instead: a Gateway of class istio-east-west that carries
    other networks' HBONE traffic on 15008 (no chart release, no Istio objects)."""


class EastWestGateway(pulumi.ComponentResource):
    """The east-west gateway of a cluster, as Istio's gen-eastwest-gateway.sh and the
    expose-istiod / expose-services samples declare it: how VMs and other networks reach
    istiod and the mesh's services. The Kubernetes provider comes through `opts`;
    `depends_on` there should hold istiod, ready (it injects the gateway's pods and admits the
    Istio objects)."""

    release: k8s.helm.v3.Release | None
    """The gateway chart's release (none for ambient's gateway, which Istio deploys)."""
    address: pulumi.Output[str]
    """The gateway's load-balancer address (ambient: only when reserved, else empty)."""

    def __init__(
        self, name: str, args: EastWestGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "meshstack:index:EastWestGateway",
            name,
            None,
            renamed(opts, "meshstack:istio:EastWestGateway"),
        )
        child = pulumi.ResourceOptions(parent=self)
        pinned = istio_values.IstioRelease()
        release = istio_values.IstioRelease(
            version=args.get("istio_version", pinned.version),
            chart_repository=args.get("chart_repository", pinned.chart_repository),
            revision=args.get("revision"),
            image_pull_policy=args.get("image_pull_policy", pinned.image_pull_policy),
            network_policies=args.get("network_policy", False),
        )
        network, namespace = args.get("network") or "", pulumi.Output.from_input(args["namespace"])
        annotations = args.get("service_annotations") or {}
        load_balancer_ip = args.get("load_balancer_ip")
        if args.get("ambient", False):
            self.release = None
            gateway_api_object(
                f"{name}-gateway",
                "Gateway",
                EASTWEST_GATEWAY,
                namespace,
                pulumi.Output.from_input(load_balancer_ip).apply(
                    lambda ip: ambient_eastwest_spec(dict(annotations), ip)
                ),
                labels={NETWORK_LABEL: network} if network else None,
                opts=child,
            )
            # Istio deploys its Service later, so the address is known only when reserved
            # (otherwise "": `kubectl -n istio-system get gateway istio-eastwestgateway`).
            self.address = pulumi.Output.from_input(load_balancer_ip or "")
            register_schema_outputs(self)
            return
        pod_annotations = args.get("pod_annotations") or {}
        values = pulumi.Output.from_input(load_balancer_ip).apply(
            lambda ip: eastwest_values(release, network, annotations, ip, pod_annotations)
        )
        self.release = helm_release(
            f"{name}-release",
            release_name=EASTWEST_GATEWAY,
            chart="gateway",
            version=release.version,
            repository=release.chart_repository,
            namespace=namespace,
            values=values,
            opts=child,
        )
        if load_balancer_ip is not None:
            self.address = pulumi.Output.from_input(load_balancer_ip)
        else:
            service = k8s.core.v1.Service.get(
                f"{name}-service",
                pulumi.Output.concat(namespace, "/", EASTWEST_GATEWAY),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
            )
            self.address = service.status.apply(load_balancer_address)

        specs: dict[str, tuple[str, pulumi.Input[dict[str, Any]]]] = {}
        if args.get("expose_istiod", True):
            revisions = tuple(args.get("istiod_revisions") or ())
            istiod_specs = namespace.apply(
                lambda ns: expose_istiod_specs(release.revision, ns, revisions)
            )
            object_names = expose_istiod_specs(release.revision, revisions=revisions)
            for object_name in object_names:
                kind = "Gateway" if object_name == "istiod-gateway" else "VirtualService"
                specs[object_name] = (kind, istiod_specs.apply(lambda s, n=object_name: s[n]))
        if args.get("expose_services", False):
            specs["cross-network-gateway"] = ("Gateway", cross_network_spec())
        for object_name, (kind, spec) in specs.items():
            istio_object(f"{name}-{object_name}", kind, object_name, namespace, spec, opts=child)
        register_schema_outputs(self)
