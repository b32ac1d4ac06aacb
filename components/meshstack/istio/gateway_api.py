"""Kubernetes Gateway API: its CRDs (pinned, from the upstream release) and its objects.

Istio implements the API (class `istio` for gateways it deploys, `istio-waypoint` for ambient
waypoints) but installs none of its CRDs: a stack that uses it installs them first.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack import versions

API_VERSION = "gateway.networking.k8s.io/v1"
# Istio's Gateway class for gateways it deploys (a Deployment and Service `<name>-istio`).
ISTIO_CLASS = "istio"
# Istio's class of ambient waypoints, and the HBONE listener they take traffic on; a
# namespace's waypoint is named `waypoint` (istioctl waypoint apply's default).
WAYPOINT_CLASS = "istio-waypoint"
WAYPOINT = "waypoint"
HBONE_PORT = 15008
# Istio reads the Service type of a deployed gateway from this annotation.
SERVICE_TYPE_ANNOTATION = "networking.istio.io/service-type"


def gateway_api_crds(resource_name: str, *, opts: pulumi.ResourceOptions) -> k8s.yaml.v2.ConfigFile:
    """The standard channel's CRDs of the pinned release (versions.GATEWAY_API)."""
    return k8s.yaml.v2.ConfigFile(resource_name, file=versions.GATEWAY_API_CRDS, opts=opts)


def deployed_service(gateway: str) -> str:
    """The Service Istio deploys for a Gateway of class `istio`."""
    return f"{gateway}-{ISTIO_CLASS}"


def gateway_api_object(
    resource_name: str,
    kind: str,
    object_name: str,
    namespace: pulumi.Input[str],
    spec: dict[str, Any],
    *,
    opts: pulumi.ResourceOptions,
    annotations: dict[str, str] | None = None,
) -> k8s.apiextensions.CustomResource:
    """One Gateway API object; `opts` must carry the cluster's provider and a dependency on
    the CRDs (and on istiod, which programs it)."""
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=API_VERSION,
        kind=kind,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=object_name, namespace=namespace, annotations=annotations
        ),
        spec=spec,
        opts=opts,
    )


def waypoint_spec() -> dict[str, Any]:
    """A namespace's waypoint, as `istioctl waypoint generate` writes it."""
    return {
        "gatewayClassName": WAYPOINT_CLASS,
        "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE"}],
    }
