"""Istio API objects (VirtualService, DestinationRule, PeerAuthentication, …) as resources."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

NETWORKING = "networking.istio.io/v1"
SECURITY = "security.istio.io/v1"
TELEMETRY = "telemetry.istio.io/v1"

MtlsMode = Literal["STRICT", "PERMISSIVE", "DISABLE"]


def istio_object(
    resource_name: str,
    kind: str,
    object_name: str,
    namespace: pulumi.Input[str],
    spec: pulumi.Input[dict[str, Any]],
    *,
    opts: pulumi.ResourceOptions,
    api_version: str = NETWORKING,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> k8s.apiextensions.CustomResource:
    """One object of a CRD (Istio's; Gateway API's with its `api_version`). `opts` must carry
    the cluster's provider and a dependency on what defines and admits it (istiod: the CRDs
    and the validating webhook)."""
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=api_version,
        kind=kind,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=object_name, namespace=namespace, labels=labels, annotations=annotations
        ),
        spec=spec,
        opts=opts,
    )


def mesh_wide_mtls(
    resource_name: str,
    mode: MtlsMode,
    root_namespace: pulumi.Input[str],
    *,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """PeerAuthentication `default` in the root namespace: the mTLS mode of the whole mesh."""
    return istio_object(
        resource_name,
        "PeerAuthentication",
        "default",
        root_namespace,
        {"mtls": {"mode": mode}},
        opts=opts,
        api_version=SECURITY,
    )
