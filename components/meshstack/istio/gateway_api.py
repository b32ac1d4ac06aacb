"""Kubernetes Gateway API: its CRDs (pinned, from the upstream release) and its objects.

Istio implements the API (class `istio` for gateways it deploys, `istio-waypoint` for ambient
waypoints) but installs none of its CRDs: a stack that uses it installs them first.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack import versions
from meshstack.istio.objects import istio_object
from meshstack.sdk_modules import load_only

# Only the provider-side ConfigFile of pulumi_kubernetes.yaml.v2 is used: not the package's
# own ConfigFile (yaml.py), which loads `requests` (0.05 s, 5 MB; meshstack/sdk_modules.py).
load_only("pulumi_kubernetes.yaml", ("v2",))

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


# pulumi-kubernetes takes a resource's server-side-apply field manager from this annotation,
# else makes a random one per resource (provider/pkg/provider/provider.go fieldManagerName).
FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager"
# One manager for kept Gateway API objects, so that the next install adopts them: under a
# new manager, the fields the API server defaulted inside atomic structs (the safe-upgrades
# policy's spec.matchConstraints) conflict (seen in `make e2e`'s re-up).
GATEWAY_API_FIELD_MANAGER = "meshstack-gateway-api"


def stable_field_manager(
    args: pulumi.ResourceTransformArgs,
) -> pulumi.ResourceTransformResult | None:
    """Each object of the file applied by GATEWAY_API_FIELD_MANAGER (not the file itself)."""
    if not args.custom:
        return None
    # The provider registers each object with plain values (its manifest).
    props: dict[str, Any] = dict(args.props)
    metadata: dict[str, Any] = dict(props.get("metadata") or {})
    annotations: dict[str, str] = dict(metadata.get("annotations") or {})
    annotations[FIELD_MANAGER_ANNOTATION] = GATEWAY_API_FIELD_MANAGER
    return pulumi.ResourceTransformResult(
        {**props, "metadata": {**metadata, "annotations": annotations}}, args.opts
    )


def gateway_api_crds(
    resource_name: str,
    *,
    opts: pulumi.ResourceOptions,
    file: str = versions.GATEWAY_API_CRDS,
    keep: bool = False,
) -> k8s.yaml.v2.ConfigFile:
    """The standard channel's CRDs of the pinned release (versions.GATEWAY_API), from its URL
    or a local copy of that file. `keep`: left in the cluster on destroy (the engine passes
    `retain_on_delete` on to the file's objects: pulumi/pulumi
    pkg/resource/deploy/source_eval.go inheritFromParent) and taken over by the next install."""
    if keep:
        kept = pulumi.ResourceOptions(retain_on_delete=True, transforms=[stable_field_manager])
        opts = pulumi.ResourceOptions.merge(opts, kept)
    return k8s.yaml.v2.ConfigFile(resource_name, file=file, opts=opts)


# Istio's class of ambient east-west gateways (pkg/config/constants EastWestGatewayClassName).
EAST_WEST_CLASS = "istio-east-west"


def deployed_service(gateway: str) -> str:
    """The Service Istio deploys for a Gateway of class `istio`: <name>-istio (waypoint and
    east-west classes keep the Gateway's name: gatewaycommon/classinfo.go DisableNameSuffix)."""
    return f"{gateway}-{ISTIO_CLASS}"


def ambient_eastwest_spec(
    annotations: dict[str, str], address: str | None = None
) -> dict[str, Any]:
    """An ambient east-west gateway, as `gen-eastwest-gateway.sh --ambient` writes it (double
    HBONE on 15008, terminated with Istio's mTLS); cloud Service annotations and a reserved
    address as Gateway API carries them (spec.infrastructure, spec.addresses)."""
    spec: dict[str, Any] = {
        "gatewayClassName": EAST_WEST_CLASS,
        "listeners": [
            {
                "name": "mesh",
                "port": HBONE_PORT,
                "protocol": "HBONE",
                "tls": {
                    "mode": "Terminate",
                    "options": {"gateway.istio.io/tls-terminate-mode": "ISTIO_MUTUAL"},
                },
            }
        ],
    }
    if annotations:
        spec["infrastructure"] = {"annotations": dict(annotations)}
    if address:
        spec["addresses"] = [{"type": "IPAddress", "value": address}]
    return spec


def gateway_api_object(
    resource_name: str,
    kind: str,
    object_name: str,
    namespace: pulumi.Input[str],
    spec: pulumi.Input[dict[str, Any]],
    *,
    opts: pulumi.ResourceOptions,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> k8s.apiextensions.CustomResource:
    """One Gateway API object; `opts` must carry the cluster's provider and a dependency on
    the CRDs (and on istiod, which programs it)."""
    return istio_object(
        resource_name,
        kind,
        object_name,
        namespace,
        spec,
        opts=opts,
        api_version=API_VERSION,
        labels=labels,
        annotations=annotations,
    )


def waypoint_spec(service_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A namespace's waypoint, as `istioctl waypoint generate` writes it; `service_labels`
    go on the Service and pods istiod deploys for it (spec.infrastructure.labels: istiod's
    waypoint template labels them with the Gateway's infrastructure labels,
    pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go extractInfrastructureLabels)."""
    spec: dict[str, Any] = {
        "gatewayClassName": WAYPOINT_CLASS,
        "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE"}],
    }
    if service_labels:
        spec["infrastructure"] = {"labels": dict(service_labels)}
    return spec
