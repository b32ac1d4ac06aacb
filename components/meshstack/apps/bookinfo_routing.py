"""Bookinfo traffic management: the gateway, destination rules and routing scenarios as data.

The specs equal Istio's samples in `samples/bookinfo/networking/`, except the gateway port:
Istio's Helm `gateway` chart listens on 80 (the sample's 8080 is for istioctl-installed
gateways).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.bookinfo import PORT, SERVICES
from meshstack.istio.objects import istio_object

GATEWAY_NAME = "bookinfo-gateway"
PRODUCTPAGE_PATHS: tuple[tuple[str, str], ...] = (
    ("exact", "/productpage"),
    ("prefix", "/static"),
    ("exact", "/login"),
    ("exact", "/logout"),
    ("prefix", "/api/v1/products"),
)
# Subsets of upstream destination-rule-all.yaml (versions not deployed are harmless).
SUBSETS: dict[str, tuple[str, ...]] = {
    "productpage": ("v1",),
    "reviews": ("v1", "v2", "v3"),
    "ratings": ("v1", "v2", "v2-mysql", "v2-mysql-vm"),
    "details": ("v1", "v2"),
}
JASON = {"headers": {"end-user": {"exact": "jason"}}}

Spec = dict[str, Any]


def gateway_spec(selector: dict[str, str], port: int = 80) -> Spec:
    return {
        "selector": dict(selector),
        "servers": [{"port": {"number": port, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}],
    }


def uri_match(kind: str, path: str) -> dict[str, Any]:
    return {"uri": {kind: path}}


def productpage_vs_spec(gateway: str = GATEWAY_NAME) -> Spec:
    return {
        "hosts": ["*"],
        "gateways": [gateway],
        "http": [
            {
                "match": [uri_match(kind, path) for kind, path in PRODUCTPAGE_PATHS],
                "route": [{"destination": {"host": "productpage", "port": {"number": PORT}}}],
            }
        ],
    }


def destination_rule_spec(host: str, subsets: dict[str, dict[str, str]]) -> Spec:
    return {
        "host": host,
        "subsets": [{"name": name, "labels": dict(labels)} for name, labels in subsets.items()],
    }


def version_subsets(service: str) -> dict[str, dict[str, str]]:
    return {version: {"version": version} for version in SUBSETS[service]}


def destination(host: str, subset: str, weight: int | None = None) -> dict[str, Any]:
    route: dict[str, Any] = {"destination": {"host": host, "subset": subset}}
    if weight is not None:
        route["weight"] = weight
    return route


def to_subset(host: str, subset: str) -> Spec:
    return {"hosts": [host], "http": [{"route": [destination(host, subset)]}]}


def weighted(host: str, weights: dict[str, int]) -> Spec:
    route = [destination(host, subset, weight) for subset, weight in weights.items()]
    return {"hosts": [host], "http": [{"route": route}]}


def jason_to(
    host: str, jason_subset: str, others: str, fault: dict[str, Any] | None = None
) -> Spec:
    rule: dict[str, Any] = {"match": [JASON]}
    if fault:
        rule["fault"] = fault
    rule["route"] = [destination(host, jason_subset)]
    return {"hosts": [host], "http": [rule, {"route": [destination(host, others)]}]}


def _all_v1() -> dict[str, Spec]:
    return {svc: to_subset(svc, "v1") for svc in ("productpage", "reviews", "ratings", "details")}


def routing_scenario(scenario: str) -> dict[str, Spec]:
    """VirtualService specs by host for a named scenario of Istio's traffic-management tasks.

    Each starts from the task's own starting point: all-v1 (request routing, traffic
    shifting) or all-v1 plus jason → reviews v2 (fault injection).
    """
    if scenario == "none":
        return {}
    specs = _all_v1()
    jason_v2 = jason_to("reviews", "v2", "v1")
    overrides: dict[str, dict[str, Spec]] = {
        "all-v1": {},
        "jason-v2": {"reviews": jason_v2},
        "reviews-80-20": {"reviews": weighted("reviews", {"v1": 80, "v2": 20})},
        "reviews-50-v3": {"reviews": weighted("reviews", {"v1": 50, "v3": 50})},
        "reviews-v3": {"reviews": to_subset("reviews", "v3")},
        "ratings-delay": {
            "reviews": jason_v2,
            "ratings": jason_to(
                "ratings",
                "v1",
                "v1",
                {"delay": {"percentage": {"value": 100.0}, "fixedDelay": "7s"}},
            ),
        },
        "ratings-abort": {
            "reviews": jason_v2,
            "ratings": jason_to(
                "ratings",
                "v1",
                "v1",
                {"abort": {"percentage": {"value": 100.0}, "httpStatus": 500}},
            ),
        },
    }
    if scenario not in overrides:
        raise ValueError(f"unknown routing scenario {scenario!r}")
    specs.update(overrides[scenario])
    return specs


@dataclass(frozen=True)
class BookinfoRoutingArgs:
    provider: k8s.Provider
    namespace: pulumi.Input[str]
    # Istio objects need the CRDs and istiod's validating webhook.
    mesh_ready: pulumi.Resource
    gateway_selector: dict[str, str]
    scenario: str = "all-v1"


class BookinfoRouting(pulumi.ComponentResource):
    """bookinfo-gateway, VirtualService `bookinfo`, DestinationRules and a routing scenario."""

    def __init__(
        self, name: str, args: BookinfoRoutingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:apps:BookinfoRouting", name, None, opts)
        self._child = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[args.mesh_ready]
        )
        self._namespace = args.namespace
        self._object(
            f"{name}-gateway", "Gateway", GATEWAY_NAME, gateway_spec(args.gateway_selector)
        )
        self._object(f"{name}-virtual-service", "VirtualService", "bookinfo", productpage_vs_spec())
        for svc in SERVICES:
            self._object(
                f"{name}-{svc}-destination-rule",
                "DestinationRule",
                svc,
                destination_rule_spec(svc, version_subsets(svc)),
            )
        routes = routing_scenario(args.scenario)
        for host, spec in routes.items():
            self._object(f"{name}-{host}-route", "VirtualService", host, spec)
        self.register_outputs({"scenario": args.scenario, "routedHosts": sorted(routes)})

    def _object(self, resource_name: str, kind: str, object_name: str, spec: Spec) -> None:
        istio_object(resource_name, kind, object_name, self._namespace, spec, opts=self._child)
