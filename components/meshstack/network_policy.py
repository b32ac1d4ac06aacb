"""Kubernetes NetworkPolicies for the pods the package declares: ingress only where they serve.

The model of Istio's own charts (`global.networkPolicy.enabled`: istiod's and the gateways'
templates/networkpolicy.yaml admit their serving ports from anywhere): an application's pods
take traffic on their own port and on the data plane's, from any address, because in a
multi-cluster mesh callers are pods of other clusters, which no selector can name; who may call
is the mesh's business (mTLS, AuthorizationPolicy). Consoles that nothing outside their
namespace calls admit only their namespace's pods; `kubectl port-forward` and the kubelet's
probes are not affected (the pod's node may always connect: Kubernetes' NetworkPolicy
documentation, "Isolated and Non-isolated Pods").
"""

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

# The data plane's inbound ports on an application pod (Istio's "Ports used by Istio"):
# 15008 HBONE (ambient's ztunnel and waypoints), 15020 merged metrics and the rewritten
# application probes, 15021 the sidecar's health, 15090 Envoy's Prometheus telemetry.
DATA_PLANE_PORTS = (15008, 15020, 15021, 15090)


def ingress_spec(
    selector: Mapping[str, pulumi.Input[str]],
    ports: Sequence[int] = (),
    *,
    namespace_only: bool = False,
    open_ports: Sequence[int] = (),
) -> dict[str, Any]:
    """The spec admitting `ports` (from this namespace's pods only with `namespace_only`) and
    `open_ports` from anywhere; nothing at all when both are empty."""

    def rule(rule_ports: Sequence[int], **source: Any) -> dict[str, Any]:
        return {"ports": [{"protocol": "TCP", "port": p} for p in rule_ports], **source}

    ingress = []
    if ports:
        ingress.append(rule(ports, **({"from": [{"podSelector": {}}]} if namespace_only else {})))
    if open_ports:
        ingress.append(rule(open_ports))
    return {
        "podSelector": {"matchLabels": dict(selector)},
        "policyTypes": ["Ingress"],
        "ingress": ingress,
    }


def ingress_policy(
    resource_name: str,
    name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    spec: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        spec=spec,  # pyright: ignore[reportArgumentType]  # the API's own JSON form
        opts=opts,
    )
