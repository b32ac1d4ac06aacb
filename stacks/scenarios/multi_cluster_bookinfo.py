"""Bookinfo over an ambient multi-cluster mesh: L7 routing and policy across clusters.

Istio 1.31's ambient multi-cluster (Beta; istio.io docs/ambient/install/multicluster, "Current
Status and Limitations") asks for what is declared here: identically named waypoints in every
cluster with their configuration kept the same by the user (here: the same objects in every
cluster), and global Services (`istio.io/global=true`, the ambient profile's
meshConfig.serviceScopeConfigs), the waypoint's own Service included (the failover task,
docs/ambient/install/multicluster/failover). A waypoint reaches endpoints on other networks
through their east-west gateway (pilot/pkg/features/ambient.go
AMBIENT_ENABLE_MULTI_NETWORK_WAYPOINT); the request passes one waypoint only, usually the
caller's (istio#60985): the caller's cluster applies its routes and policies.

Every cluster runs details, ratings, productpage and its own reviews versions; one cluster
has the Gateway API ingress. A routing scenario whose versions run elsewhere is a
cross-cluster L7 route (seed 002's split: jason's reviews v2 in the second cluster).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.bookinfo import Bookinfo, BookinfoArgs
from meshstack.apps.bookinfo_authz import default_deny
from meshstack.apps.bookinfo_checks import (
    productpage_not_admitted,
    reviews_denied,
    routing_checks,
)
from meshstack.apps.bookinfo_gateway_api import BookinfoGatewayApi, BookinfoGatewayApiArgs
from meshstack.apps.bookinfo_policy import POLICY_NAME, reviews_viewer_spec
from meshstack.apps.bookinfo_routing import GATEWAY_NAME
from meshstack.apps.namespace import injected_namespace
from meshstack.istio.control_plane import IstioControlPlane
from meshstack.istio.gateway_api import (
    WAYPOINT,
    deployed_service,
    gateway_api_object,
    waypoint_spec,
)
from meshstack.istio.objects import SECURITY, istio_object
from meshstack.verify.mesh_check import MeshCheck
from stacks.config import MultiClusterStack
from stacks.scenarios.mesh import ambient_placement, gateway_api_port_forward, ingress_entrance
from stacks.scenarios.verification import mesh_check

# Reachable from every cluster (the ambient profile's serviceScopeConfigs select this label).
GLOBAL = {"istio.io/global": "true"}


def bookinfo_across_clusters(
    config: MultiClusterStack,
    providers: Mapping[str, k8s.Provider],
    control_planes: Mapping[str, IstioControlPlane],
    paths: list[pulumi.Resource],
) -> tuple[list[MeshCheck | None], dict[str, str]]:
    """Bookinfo, a waypoint, the routing scenario's HTTPRoutes and the reviews policy in
    every cluster, the ingress in one; the checks, and how to open the product page.
    `paths`: what joins the clusters (east-west gateways, remote secrets)."""
    bookinfo = config.bookinfo
    if not bookinfo.enabled:
        return [], {}
    names = [c.name for c in config.clusters]
    reviews = bookinfo.reviews_of(names)
    ingress = bookinfo.gateway_cluster(names)
    namespaces: dict[str, pulumi.Output[str]] = {}
    everything: list[pulumi.Resource] = list(paths)
    for name in names:
        provider, ready = providers[name], control_planes[name].ready
        after_mesh = pulumi.ResourceOptions(provider=provider, depends_on=[*ready])
        namespace = injected_namespace(
            f"{name}-bookinfo-namespace",
            bookinfo.namespace,
            None,
            pulumi.ResourceOptions(provider=provider),
            ambient=True,
            waypoint=WAYPOINT,
        )
        namespaces[name] = namespace.metadata.name
        waypoint = gateway_api_object(
            f"{name}-bookinfo-waypoint",
            "Gateway",
            WAYPOINT,
            namespace.metadata.name,
            waypoint_spec(GLOBAL),
            opts=after_mesh,
        )
        app = Bookinfo(
            f"{name}-bookinfo",
            BookinfoArgs(
                namespace=namespace.metadata.name,
                image_hub=bookinfo.image_hub,
                image_tag=bookinfo.image_tag,
                reviews_versions=list(reviews[name]),
                service_labels=GLOBAL,
                network_policies=config.security.network_policies,
                image_digests=config.security.image_digests,
            ),
            after_mesh,
        )
        routing = BookinfoGatewayApi(
            f"{name}-bookinfo-routing",
            BookinfoGatewayApiArgs(
                provider=provider,
                namespace=namespace.metadata.name,
                ready=[*ready, waypoint],
                scenario=bookinfo.routing,
                service_type=config.istio.ingress_service_type,
                ingress=name == ingress,
                service_labels=GLOBAL,
            ),
        )
        policy = istio_object(
            f"{name}-bookinfo-reviews-policy",
            "AuthorizationPolicy",
            POLICY_NAME,
            namespace.metadata.name,
            reviews_viewer_spec(bookinfo.namespace),
            opts=after_mesh,
            api_version=SECURITY,
        )
        everything += [app, waypoint, routing, policy]
        if bookinfo.authorization != "none":
            everything += default_deny(
                name,
                bookinfo.namespace,
                namespace.metadata.name,
                entrance=ingress_entrance(
                    bookinfo.namespace, gateway_api=True, gateway_here=name == ingress
                ),
                placement=ambient_placement(True),
                opts=after_mesh,
            )
    deployed = sorted({v for versions in reviews.values() for v in versions})
    gateway_url = f"http://{deployed_service(GATEWAY_NAME)}.{bookinfo.namespace}"
    checks = [
        # From outside the mesh, through the ingress: the routing scenario, whichever
        # cluster each version runs in.
        mesh_check(
            f"{ingress}-bookinfo-check",
            config.verify,
            provider=providers[ingress],
            namespace=namespaces[ingress],
            job_name="bookinfo-check",
            checks=routing_checks(gateway_url, bookinfo.routing, deployed, config.verify.samples),
            after=everything,
        ),
        # From a mesh pod in every cluster: that cluster's waypoint enforces the policy.
        *(
            mesh_check(
                f"{name}-bookinfo-policy-check",
                config.verify,
                provider=providers[name],
                namespace=namespaces[name],
                job_name="bookinfo-policy-check",
                checks=[
                    reviews_denied(bookinfo.namespace, name),
                    *(
                        [productpage_not_admitted(bookinfo.namespace, f" in {name}")]
                        if bookinfo.authorization != "none"
                        else []
                    ),
                ],
                after=everything,
                in_mesh=True,
                ambient=True,
            )
            for name in names
        ),
    ]
    return checks, {
        "productpageUrl": f"in {ingress}: {gateway_api_port_forward(bookinfo.namespace)}"
    }
