"""Bookinfo's ingress and routing scenarios in Kubernetes Gateway API, as Istio's samples in
`samples/bookinfo/gateway-api/` declare them: a Gateway of class `istio` with the HTTPRoute
`bookinfo`, per-version Services (`samples/bookinfo/platform/kube/bookinfo-versions.yaml`)
and, per routed service, an HTTPRoute whose parent is the Service (Gateway API's mesh routes,
which sidecars and ambient waypoints implement).

The routing scenarios are those of bookinfo_routing.routing_scenario, translated: a subset
becomes the Service `<service>-<version>`, a header match an HTTPRoute header match. Faults have
no HTTPRoute form (the config refuses those scenarios here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.bookinfo import PORT
from meshstack.apps.bookinfo_routing import (
    GATEWAY_NAME,
    PRODUCTPAGE_PATHS,
    Spec,
    routing_scenario,
)
from meshstack.istio.gateway_api import (
    ISTIO_CLASS,
    SERVICE_TYPE_ANNOTATION,
    gateway_api_object,
)

PATH_TYPES = {"exact": "Exact", "prefix": "PathPrefix"}
# The Services of upstream samples/bookinfo/platform/kube/bookinfo-versions.yaml.
VERSION_SERVICES: dict[str, tuple[str, ...]] = {
    "reviews": ("v1", "v2", "v3"),
    "productpage": ("v1",),
    "ratings": ("v1",),
    "details": ("v1",),
}


def ingress_gateway_spec(port: int = 80) -> Spec:
    return {
        "gatewayClassName": ISTIO_CLASS,
        "listeners": [
            {
                "name": "http",
                "port": port,
                "protocol": "HTTP",
                "allowedRoutes": {"namespaces": {"from": "Same"}},
            }
        ],
    }


def productpage_route_spec(gateway: str = GATEWAY_NAME) -> Spec:
    return {
        "parentRefs": [{"name": gateway}],
        "rules": [
            {
                "matches": [
                    {"path": {"type": PATH_TYPES[kind], "value": path}}
                    for kind, path in PRODUCTPAGE_PATHS
                ],
                "backendRefs": [{"name": "productpage", "port": PORT}],
            }
        ],
    }


def version_service(service: str, version: str) -> str:
    return f"{service}-{version}"


def _header_matches(match: dict[str, Any]) -> dict[str, Any]:
    return {
        "headers": [
            {"type": "Exact", "name": name, "value": condition["exact"]}
            for name, condition in match["headers"].items()
        ]
    }


def http_route_spec(virtual_service: Spec) -> Spec:
    """The mesh HTTPRoute equal to one of routing_scenario's VirtualService specs."""
    (host,) = virtual_service["hosts"]
    rules = []
    for http in virtual_service["http"]:
        if "fault" in http:
            raise ValueError(f"{host}: HTTPRoute has no fault injection")
        rule: dict[str, Any] = {}
        if "match" in http:
            rule["matches"] = [_header_matches(match) for match in http["match"]]
        rule["backendRefs"] = [
            {
                "name": version_service(host, route["destination"]["subset"]),
                "port": PORT,
                **({"weight": route["weight"]} if "weight" in route else {}),
            }
            for route in http["route"]
        ]
        rules.append(rule)
    return {
        "parentRefs": [{"group": "", "kind": "Service", "name": host, "port": PORT}],
        "rules": rules,
    }


def routing_routes(scenario: str) -> dict[str, Spec]:
    """HTTPRoute specs by service for a routing scenario."""
    return {host: http_route_spec(spec) for host, spec in routing_scenario(scenario).items()}


@dataclass(frozen=True)
class BookinfoGatewayApiArgs:
    provider: k8s.Provider
    namespace: pulumi.Input[str]
    # The Gateway API CRDs and istiod (which deploys the gateway and programs the routes);
    # in ambient mode also the namespace's waypoint.
    ready: pulumi.Input[list[pulumi.Resource]]
    scenario: str = "all-v1"
    # The Service type of the gateway Istio deploys (annotation networking.istio.io/service-type).
    service_type: str = "LoadBalancer"
    # False: no ingress here (another cluster of the mesh has it), only the per-version
    # Services and the mesh routes.
    ingress: bool = True
    # More labels of the per-version Services (ambient multi-cluster: istio.io/global=true).
    service_labels: dict[str, str] = field(default_factory=dict)


class BookinfoGatewayApi(pulumi.ComponentResource):
    """bookinfo-gateway (class istio) with the HTTPRoute `bookinfo`, per-version Services and
    a routing scenario as mesh HTTPRoutes."""

    def __init__(
        self, name: str, args: BookinfoGatewayApiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:apps:BookinfoGatewayApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        after = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=args.ready))
        if args.ingress:
            gateway_api_object(
                f"{name}-gateway",
                "Gateway",
                GATEWAY_NAME,
                args.namespace,
                ingress_gateway_spec(),
                annotations={SERVICE_TYPE_ANNOTATION: args.service_type},
                opts=after,
            )
            gateway_api_object(
                f"{name}-route",
                "HTTPRoute",
                "bookinfo",
                args.namespace,
                productpage_route_spec(),
                opts=after,
            )
        for service, versions in VERSION_SERVICES.items():
            for version in versions:
                k8s.core.v1.Service(
                    f"{name}-{service}-{version}-service",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=version_service(service, version),
                        namespace=args.namespace,
                        labels=args.service_labels or None,
                    ),
                    spec=k8s.core.v1.ServiceSpecArgs(
                        ports=[k8s.core.v1.ServicePortArgs(port=PORT, name="http")],
                        selector={"app": service, "version": version},
                    ),
                    opts=child,
                )
        routes = routing_routes(args.scenario)
        for host, spec in routes.items():
            gateway_api_object(
                f"{name}-{host}-route", "HTTPRoute", host, args.namespace, spec, opts=after
            )
        self.register_outputs({"scenario": args.scenario, "routedHosts": sorted(routes)})
