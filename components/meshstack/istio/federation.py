"""Federation of two meshes that keep their own roots and trust domains (docs/stacks/
multi-mesh.md).

The exporting mesh runs a federation gateway: a `gateway` chart release whose Istio Gateway
terminates ISTIO_MUTUAL on one port, i.e. mutual TLS with the gateway's own workload
certificate, requiring a client certificate that chains to a root its proxy trusts (Istio
release-1.31 pilot/pkg/networking/core/listener.go:163-182: RequireClientCertificate, the
ROOTCA validation context). Its proxy trusts the importing mesh's root because istiod pushes
meshConfig.caCertificates to it (pilot/pkg/trustbundle/trustbundle.go:214-235, pilot/pkg/xds/
pcds.go:56-72). An AuthorizationPolicy on the gateway admits the importing mesh's allowed
account by its foreign principal (kept as written: pilot/pkg/security/trustdomain/bundle.go),
and one on the workload admits only the gateway. The importing mesh reaches the gateway
through a ServiceEntry (the exported host, the gateway's address) and a DestinationRule in
ISTIO_MUTUAL whose subjectAltNames is the gateway's SPIFFE ID and whose sni is the exported
host (cluster_tls.go:136-150: the ROOTCA validation context, SANs matched exactly).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.helm import helm_release
from meshstack.istio import values as istio_values
from meshstack.istio.control_plane import ISTIO_NAMESPACE, load_balancer_address
from meshstack.istio.objects import NETWORKING, SECURITY, istio_object

FEDERATION_GATEWAY = "istio-federationgateway"
# The gateway chart labels its pods `istio: <release name without "istio-">` (values.yaml
# `labels`, _helpers.tpl gateway.selectorLabels) and runs them as a service account named as
# the release (_helpers.tpl gateway.serviceAccountName).
FEDERATION_SELECTOR = {"istio": "federationgateway"}
STATUS_PORT = 15021
# Exported hosts are names of the importing mesh's ServiceEntries, never Kubernetes names.
HOST_SUFFIX = "federation"


def spiffe_id(trust_domain: str, namespace: str, account: str) -> str:
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{account}"


def principal(trust_domain: str, namespace: str, account: str) -> str:
    """How an AuthorizationPolicy names a workload: its SPIFFE ID without the scheme."""
    return spiffe_id(trust_domain, namespace, account).removeprefix("spiffe://")


def gateway_identity(trust_domain: str) -> str:
    """The federation gateway's SPIFFE ID in its mesh."""
    return spiffe_id(trust_domain, ISTIO_NAMESPACE, FEDERATION_GATEWAY)


def exported_host(service: str, namespace: str, mesh: str) -> str:
    """The name the importing mesh calls an exported service by."""
    return f"{service}.{namespace}.{mesh}.{HOST_SUFFIX}"


def gateway_values(
    release: istio_values.IstioRelease, port: int, annotations: Mapping[str, str]
) -> dict[str, Any]:
    """The gateway chart's values: a LoadBalancer with the status port and the federation
    port only (its NetworkPolicy admits `service.ports`: templates/networkpolicy.yaml)."""
    ports = [
        {"name": "status-port", "port": STATUS_PORT, "targetPort": STATUS_PORT},
        {"name": "tls-federation", "port": port, "targetPort": port},
    ]
    return istio_values.gateway_values(
        release, "LoadBalancer", service={"annotations": dict(annotations), "ports": ports}
    )


def gateway_spec(host: str, port: int) -> dict[str, Any]:
    """Mutual TLS with the gateway's workload certificate, for the exported host (SNI)."""
    return {
        "selector": dict(FEDERATION_SELECTOR),
        "servers": [
            {
                "port": {"number": port, "name": "https-federation", "protocol": "HTTPS"},
                "tls": {"mode": "ISTIO_MUTUAL"},
                "hosts": [host],
            }
        ],
    }


def virtual_service_spec(
    host: str, gateway: str, destination: str, destination_port: int
) -> dict[str, Any]:
    """The exported host, routed to the service inside the exporting mesh. The gateway
    matches hosts without their port (gateway.go:581 IgnorePortInHostMatching)."""
    return {
        "hosts": [host],
        "gateways": [gateway],
        "http": [
            {
                "route": [
                    {"destination": {"host": destination, "port": {"number": destination_port}}}
                ]
            }
        ],
    }


def allow_spec(selector: Mapping[str, str], principals: Sequence[str]) -> dict[str, Any]:
    """ALLOW only these principals: every other caller gets 403 `RBAC: access denied`."""
    return {
        "selector": {"matchLabels": dict(selector)},
        "action": "ALLOW",
        "rules": [{"from": [{"source": {"principals": list(principals)}}]}],
    }


def service_entry_spec(host: str, port: int, address: str, gateway_port: int) -> dict[str, Any]:
    """The exported host in the importing mesh: HTTP on `port`, sent to the gateway's
    address on its federation port. Outside this mesh (MESH_EXTERNAL): the DestinationRule,
    not auto mTLS, says how to talk to it."""
    try:
        ipaddress.ip_address(address)
        resolution = "STATIC"
    except ValueError:  # a load balancer's host name (some clouds give one)
        resolution = "DNS"
    return {
        "hosts": [host],
        "location": "MESH_EXTERNAL",
        "ports": [{"number": port, "name": "http", "protocol": "HTTP"}],
        "resolution": resolution,
        "endpoints": [{"address": address, "ports": {"http": gateway_port}}],
    }


def destination_rule_spec(host: str, identity: str) -> dict[str, Any]:
    """ISTIO_MUTUAL to the gateway: the caller's own workload certificate, the gateway's
    certificate checked against the roots its proxy trusts and its SPIFFE ID."""
    return {
        "host": host,
        "trafficPolicy": {
            "tls": {"mode": "ISTIO_MUTUAL", "sni": host, "subjectAltNames": [identity]}
        },
    }


@dataclass(frozen=True)
class FederationGatewayArgs:
    provider: k8s.Provider
    # istiod's namespace, as the control plane created it (the gateway lives there).
    namespace: pulumi.Input[str]
    release: istio_values.IstioRelease
    trust_domain: str
    # The exported host and the service behind it (a Kubernetes Service of this mesh).
    host: str
    service: str
    service_namespace: pulumi.Input[str]
    service_port: int
    service_selector: Mapping[str, str]
    # The other mesh's principals the gateway admits.
    admitted: Sequence[str]
    port: int = 15443
    service_annotations: Mapping[str, str] = field(default_factory=dict)


class FederationGateway(pulumi.ComponentResource):
    """The exporting mesh's gateway for one service. `depends_on` in `opts` holds istiod,
    ready (it injects the gateway's pods and admits the Istio objects)."""

    address: pulumi.Output[str]
    """The gateway's load-balancer address (what the importing mesh's ServiceEntry names)."""
    identity: str
    """The gateway's SPIFFE ID (what the importing mesh's DestinationRule checks)."""

    def __init__(
        self, name: str, args: FederationGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:FederationGateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = pulumi.Output.from_input(args.namespace)
        release = helm_release(
            f"{name}-release",
            release_name=FEDERATION_GATEWAY,
            chart="gateway",
            version=args.release.version,
            repository=args.release.chart_repository,
            namespace=namespace,
            values=gateway_values(args.release, args.port, args.service_annotations),
            opts=child,
        )
        service = k8s.core.v1.Service.get(
            f"{name}-service",
            pulumi.Output.concat(namespace, "/", FEDERATION_GATEWAY),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[release]),
        )
        self.address = service.status.apply(load_balancer_address)
        self.identity = gateway_identity(args.trust_domain)
        destination = pulumi.Output.concat(
            args.service, ".", args.service_namespace, ".svc.cluster.local"
        )
        routes = destination.apply(
            lambda host: virtual_service_spec(args.host, f"{name}-gateway", host, args.service_port)
        )
        gateway_principal = principal(args.trust_domain, ISTIO_NAMESPACE, FEDERATION_GATEWAY)
        objects: list[tuple[str, str, pulumi.Input[str], pulumi.Input[dict[str, Any]], str]] = [
            ("gateway", "Gateway", namespace, gateway_spec(args.host, args.port), NETWORKING),
            ("routes", "VirtualService", namespace, routes, NETWORKING),
            (
                "callers",
                "AuthorizationPolicy",
                namespace,
                allow_spec(FEDERATION_SELECTOR, args.admitted),
                SECURITY,
            ),
            # Enforced again where the service runs: only the gateway reaches it.
            (
                "workload",
                "AuthorizationPolicy",
                args.service_namespace,
                allow_spec(args.service_selector, [gateway_principal]),
                SECURITY,
            ),
        ]
        for role, kind, where, spec, api_version in objects:
            istio_object(
                f"{name}-{role}",
                kind,
                f"{name}-{role}",
                where,
                spec,
                opts=child,
                api_version=api_version,
            )
        self.register_outputs({"address": self.address})


@dataclass(frozen=True)
class FederatedServiceArgs:
    provider: k8s.Provider
    namespace: pulumi.Input[str]
    host: str
    port: int
    gateway_address: pulumi.Input[str]
    gateway_port: int
    gateway_identity: str


class FederatedService(pulumi.ComponentResource):
    """The importing mesh's way to an exported service: a ServiceEntry and a DestinationRule.
    `depends_on` in `opts` holds istiod (it admits them)."""

    def __init__(
        self, name: str, args: FederatedServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:FederatedService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        istio_object(
            f"{name}-entry",
            "ServiceEntry",
            name,
            args.namespace,
            pulumi.Output.from_input(args.gateway_address).apply(
                lambda address: service_entry_spec(args.host, args.port, address, args.gateway_port)
            ),
            opts=child,
        )
        istio_object(
            f"{name}-tls",
            "DestinationRule",
            name,
            args.namespace,
            destination_rule_spec(args.host, args.gateway_identity),
            opts=child,
        )
        self.register_outputs({})
