"""Bookinfo across clusters: per-cluster entry paths and cluster-local traffic.

Every workload carries the label `cluster: <name>`, so a DestinationRule can have one subset
per cluster. The gateway's VirtualService `bookinfo-cluster-local` sends /productpage1 to the
productpage of the first cluster, /productpage2 to the second, and so on.

Retention: ASM offers "keep traffic in the cluster" only in its console; the same effect
comes from the standard API. For each retained service, a DestinationRule
`<service>-cluster-local` with per-cluster subsets and a VirtualService of the same name whose
routes match the caller's `cluster` label (sourceLabels) and send it to its own cluster's
subset. Like ASM's switch and Istio's `clusterLocal`, this gives up failover: when a
cluster's instances of a retained service are down, its callers get errors, not the other
cluster's instances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.bookinfo import PORT
from meshstack.apps.bookinfo_routing import (
    GATEWAY_NAME,
    Spec,
    destination_rule_spec,
    gateway_spec,
    uri_match,
)
from meshstack.istio.objects import istio_object

CLUSTER_LABEL = "cluster"
ENTRY_SERVICE = "productpage"
VIRTUAL_SERVICE = "bookinfo-cluster-local"
# The productpage paths that need no particular cluster (the page's assets and login).
SHARED_PATHS: tuple[tuple[str, str], ...] = (
    ("prefix", "/static"),
    ("exact", "/login"),
    ("exact", "/logout"),
    ("prefix", "/api/v1/products"),
)


def cluster_local_name(service: str) -> str:
    return f"{service}-cluster-local"


def entry_path(index: int) -> str:
    """/productpage1 for the first cluster, /productpage2 for the second, …"""
    return f"/{ENTRY_SERVICE}{index + 1}"


def cluster_subsets(clusters: Sequence[str]) -> dict[str, dict[str, str]]:
    return {cluster: {CLUSTER_LABEL: cluster} for cluster in clusters}


def per_cluster_destination_rule(service: str, clusters: Sequence[str]) -> Spec:
    return destination_rule_spec(service, cluster_subsets(clusters))


def entry_virtual_service(clusters: Sequence[str], gateway: str = GATEWAY_NAME) -> Spec:
    """`bookinfo-cluster-local`, one exact path per cluster."""
    productpage = {"host": ENTRY_SERVICE, "port": {"number": PORT}}
    per_cluster = [
        {
            "match": [uri_match("exact", entry_path(i))],
            "rewrite": {"uri": f"/{ENTRY_SERVICE}"},
            "route": [{"destination": {**productpage, "subset": cluster}}],
        }
        for i, cluster in enumerate(clusters)
    ]
    shared = {
        "match": [uri_match(kind, path) for kind, path in SHARED_PATHS],
        "route": [{"destination": dict(productpage)}],
    }
    return {"hosts": ["*"], "gateways": [gateway], "http": [*per_cluster, shared]}


def retention_virtual_service(service: str, clusters: Sequence[str]) -> Spec:
    """Callers in a cluster reach `service` in that cluster only."""
    return {
        "hosts": [service],
        "http": [
            {
                "match": [{"sourceLabels": {CLUSTER_LABEL: cluster}}],
                "route": [{"destination": {"host": service, "subset": cluster}}],
            }
            for cluster in clusters
        ],
    }


def routing_objects(
    clusters: Sequence[str], gateway_selector: dict[str, str], retained: Sequence[str]
) -> dict[tuple[str, str], Spec]:
    """Every object as {(kind, name): spec}: the entry's three, plus two per retained service."""
    objects: dict[tuple[str, str], Spec] = {
        ("Gateway", GATEWAY_NAME): gateway_spec(gateway_selector),
        ("VirtualService", VIRTUAL_SERVICE): entry_virtual_service(clusters),
    }
    for service in (ENTRY_SERVICE, *retained):
        name = cluster_local_name(service)
        objects[("DestinationRule", name)] = per_cluster_destination_rule(service, clusters)
        if service != ENTRY_SERVICE:
            objects[("VirtualService", name)] = retention_virtual_service(service, clusters)
    return objects


@dataclass(frozen=True)
class ClusterLocalRoutingArgs:
    # Where the mesh reads its configuration: the ASM API server, or one primary cluster.
    provider: k8s.Provider
    namespace: pulumi.Input[str]
    # Istio objects need the CRDs and the validating webhook of the control plane.
    mesh_ready: pulumi.Resource
    clusters: Sequence[str]
    gateway_selector: dict[str, str]
    # Services whose calls stay in the caller's cluster through routing rules (empty when
    # the control plane does it itself, e.g. Istio's meshConfig clusterLocal).
    retained: Sequence[str] = ()


class ClusterLocalRouting(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ClusterLocalRoutingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:apps:ClusterLocalRouting", name, None, opts)
        child = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[args.mesh_ready]
        )
        objects = routing_objects(args.clusters, args.gateway_selector, args.retained)
        for (kind, object_name), spec in objects.items():
            istio_object(
                f"{name}-{object_name}-{kind.lower()}",
                kind,
                object_name,
                args.namespace,
                spec,
                opts=child,
            )
        self.register_outputs(
            {
                "objects": sorted(f"{kind}/{n}" for kind, n in objects),
                "retained": list(args.retained),
            }
        )
