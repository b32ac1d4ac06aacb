"""Tenants in one cluster: namespaces isolated by policy on the shared control plane, or
served by a control plane of their own (docs/stacks/tenancy.md).

Shared control plane (namespace tenancy): every namespace of a tenant gets STRICT mTLS
(PeerAuthentication), an ALLOW AuthorizationPolicy whose only rule admits the tenant's own
namespaces (an ALLOW policy denies every request no rule matches: istio.io, Authorization
Policy, "Allow nothing / implicit deny"), and a Sidecar whose egress imports only the
tenant's namespaces and its control plane's; the mesh-wide exportTo defaults of "." (the
shared istiod's values) hide every Service, VirtualService and DestinationRule from other
namespaces unless it says otherwise. The tenant's hello-world Services are exported to the
tenant's namespaces (`networking.istio.io/exportTo`, istio/api annotation/annotations.yaml).

A control plane of its own (Istio's "Install Multiple Istio Control Planes in a Single
Cluster", istio.io/latest/docs/setup/install/multiple-controlplanes): an istiod of revision
<tenant> in the system namespace istio-<tenant> (`global.istioNamespace`), whose
`meshConfig.discoverySelectors` select only the namespaces labelled with the tenant's
control plane (its system namespace included, as the guide labels usergroup-1), a trust
domain <tenant>.local, and its own self-signed root (istiod keeps it in `istio-ca-secret` of
its own namespace); the tenant's namespaces carry `istio.io/rev=<tenant>`, and the shared
istiod's discoverySelectors exclude every namespace with that label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.hello_world import APP, HelloWorld, HelloWorldArgs
from meshstack.apps.namespace import injection_labels
from meshstack.helm import helm_release
from meshstack.istio import values as istio_values
from meshstack.istio.objects import NETWORKING, SECURITY, istio_object
from meshstack.verify.checks import AnswerClass, Check, Expect, refused_in_plain_text

# Which control plane reads a namespace: absent, the shared one; <tenant>, the tenant's own.
CONTROL_PLANE_LABEL = "meshstack.io/control-plane"
TENANT_LABEL = "meshstack.io/tenant"
EXPORT_TO = "networking.istio.io/exportTo"
# What Envoy answers when the server's sidecar denies a request (AuthorizationPolicy):
# istio/istio tests/integration/security/authz_test.go.
DENIED = "RBAC: access denied"
# A caller whose control plane does not know the service sends it plain text through the
# PassthroughCluster (outboundTrafficPolicy ALLOW_ANY); the STRICT server closes it and the
# caller's Envoy answers 503 (Istio's multiple-control-planes guide, "Verify the application
# connectivity is ONLY within the respective usergroup"). REGISTRY_ONLY sends it to the
# BlackHoleCluster: 502 (istio.io, Accessing External Services, "Change to the blocking-by-
# default policy").
UNKNOWN_SERVICE_STATUS = {"ALLOW_ANY": 503, "REGISTRY_ONLY": 502}


@dataclass(frozen=True)
class Tenant:
    name: str
    namespaces: tuple[str, ...]
    # Its own istiod (revision <name> in istio-<name>); else the shared one.
    own: bool = False
    # Routed by the ingress gateway at /<name>/ (to its first namespace's hello-world).
    exposed: bool = False

    @property
    def system_namespace(self) -> str | None:
        return f"istio-{self.name}" if self.own else None

    @property
    def trust_domain(self) -> str | None:
        return f"{self.name}.local" if self.own else None


def shared_discovery_selectors() -> tuple[dict[str, Any], ...]:
    """Every namespace but those of tenants with a control plane of their own."""
    return ({"matchExpressions": [{"key": CONTROL_PLANE_LABEL, "operator": "DoesNotExist"}]},)


def own_discovery_selectors(tenant: Tenant) -> tuple[dict[str, Any], ...]:
    return ({"matchLabels": {CONTROL_PLANE_LABEL: tenant.name}},)


def namespace_labels(tenant: Tenant, shared_revision: str | None) -> dict[str, str]:
    """The tenant's label, and the injection label of its control plane."""
    labels = {TENANT_LABEL: tenant.name}
    if tenant.own:
        return {**labels, CONTROL_PLANE_LABEL: tenant.name, **injection_labels(tenant.name)}
    return {**labels, **injection_labels(shared_revision)}


def allow_tenant_spec(tenant: Tenant, ingress_principal: str) -> dict[str, Any]:
    """ALLOW the tenant's namespaces (peer identities of STRICT mTLS), and the ingress
    gateway's identity where the tenant is exposed; nothing else."""
    sources: list[dict[str, Any]] = [{"source": {"namespaces": list(tenant.namespaces)}}]
    if tenant.exposed:
        sources.append({"source": {"principals": [ingress_principal]}})
    return {"action": "ALLOW", "rules": [{"from": sources}]}


def exported_to(tenant: Tenant, shared_system_namespace: str) -> str:
    """The tenant's namespaces, and the ingress gateway's where it is exposed."""
    exposed = (shared_system_namespace,) if tenant.exposed else ()
    return ",".join((*tenant.namespaces, *exposed))


# The Gateway (istio-system) the exposed tenants' VirtualServices bind to.
TENANTS_GATEWAY = "tenants"


def tenants_gateway_spec(selector: dict[str, str]) -> dict[str, Any]:
    return {
        "selector": selector,
        "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}],
    }


def exposed_route_spec(tenant: Tenant, shared_system_namespace: str) -> dict[str, Any]:
    """/<tenant>/ through the ingress gateway to its first namespace's hello-world (at /),
    exported to the gateway's namespace as well as the tenant's own."""
    return {
        "hosts": ["*"],
        "gateways": [f"{shared_system_namespace}/{TENANTS_GATEWAY}"],
        "exportTo": [".", shared_system_namespace],
        "http": [
            {
                "match": [{"uri": {"prefix": f"/{tenant.name}/"}}],
                "rewrite": {"uri": "/"},
                "route": [{"destination": {"host": service_host(tenant.namespaces[0])}}],
            }
        ],
    }


def sidecar_spec(tenant: Tenant, shared_system_namespace: str) -> dict[str, Any]:
    """Egress: the tenant's namespaces and its control plane's (Istio's Sidecar reference:
    hosts in `namespace/dnsName` form, `./*` the Sidecar's own namespace)."""
    system = tenant.system_namespace or shared_system_namespace
    return {"egress": [{"hosts": [*(f"{n}/*" for n in tenant.namespaces), f"{system}/*"]}]}


def service_host(namespace: str) -> str:
    return f"{APP}.{namespace}.svc.cluster.local"


def declared_by_caller(host: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ServiceEntry and a DestinationRule a tenant may write in its own namespace to reach
    another tenant's Service that is not exported to it (visibility is a tenant's own
    configuration, not a boundary): the call then arrives over mutual TLS, and the other
    tenant's ALLOW policy is what refuses it."""
    entry = {
        "hosts": [host],
        "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
        "location": "MESH_INTERNAL",
        "resolution": "DNS",
        "exportTo": ["."],
    }
    rule = {"host": host, "exportTo": ["."], "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}
    return entry, rule


def same_control_plane(a: Tenant, b: Tenant) -> bool:
    return a.name == b.name or not (a.own or b.own)


def tenant_checks(
    tenant: Tenant, tenants: Sequence[Tenant], outbound_policy: str, samples: int
) -> list[Check]:
    """What a pod of `tenant` (in its first namespace) sees: its own tenant's services answer,
    another tenant's on the same control plane refuses it (403), a service of another control
    plane is unknown to its proxy (503, or 502 with REGISTRY_ONLY)."""
    checks = [
        Check(
            name=f"tenant {tenant.name}: hello-world in {namespace} answers its own tenant",
            url=f"http://{APP}.{namespace}/",
            classes=(AnswerClass("answered", status=200),),
            expect=Expect(only=("answered",)),
            samples=samples,
        )
        for namespace in tenant.namespaces
    ]
    for other in tenants:
        if other.name == tenant.name:
            continue
        target = other.namespaces[0]
        if same_control_plane(tenant, other):
            checks.append(
                Check(
                    name=f"tenant {tenant.name} -> tenant {other.name} ({target}), same "
                    f"control plane: 403 {DENIED}",
                    url=f"http://{service_host(target)}/",
                    classes=(AnswerClass("denied", status=403, body=DENIED),),
                    expect=Expect(only=("denied",)),
                    samples=samples,
                )
            )
        else:
            status = UNKNOWN_SERVICE_STATUS[outbound_policy]
            checks.append(
                Check(
                    name=f"tenant {tenant.name} -> tenant {other.name} ({target}), another "
                    f"control plane: {status}",
                    url=f"http://{APP}.{target}/",
                    classes=(AnswerClass("unknown", status=status),),
                    expect=Expect(only=("unknown",)),
                    samples=samples,
                )
            )
    return checks


def outside_checks(tenants: Sequence[Tenant], ingress_url: str | None, samples: int) -> list[Check]:
    """From outside the mesh: through the ingress gateway, an exposed tenant answers and
    another shared tenant has no route (Envoy's 404); every tenant refuses plain text."""
    through_ingress = [
        Check(
            name=f"through the ingress gateway: /{t.name}/ "
            + ("answers (tenant exposed)" if t.exposed else "has no route (tenant not exposed)"),
            url=f"{ingress_url}/{t.name}/",
            classes=(AnswerClass("answered", status=200), AnswerClass("no route", status=404)),
            expect=Expect(only=("answered",) if t.exposed else ("no route",)),
            samples=samples,
        )
        for t in tenants
        if ingress_url and not t.own and any(e.exposed for e in tenants)
    ]
    return [*through_ingress, *plain_text_checks(tenants)]


def plain_text_checks(tenants: Sequence[Tenant]) -> list[Check]:
    return [
        refused_in_plain_text(
            f"mTLS STRICT: tenant {t.name}'s hello-world in {n} refuses a caller outside the mesh",
            f"http://{APP}.{n}/",
        )
        for t in tenants
        for n in t.namespaces
    ]


@dataclass(frozen=True)
class TenancyArgs:
    provider: k8s.Provider
    tenants: Sequence[Tenant]
    # The shared control plane's release (version, charts, images, its revision) and mesh
    # settings, which the tenants' own istiods start from.
    release: istio_values.IstioRelease
    mesh: istio_values.MeshSettings
    shared_system_namespace: str
    # The CRDs (base): a tenant's istiod waits for them.
    base: pulumi.Resource
    # The shared istiod (its validating webhook admits every Istio object here) and what
    # its injected pods wait for (istiod, the CNI node agent).
    istiod: pulumi.Resource
    ready: Sequence[pulumi.Resource]
    image: str
    # The shared ingress gateway: its pods' labels and its workload identity.
    ingress_selector: dict[str, str]
    ingress_principal: str
    network_policies: bool = True
    # What pods on the CNI need besides their istiod (the CNI release), for own tenants.
    node_agents: Sequence[pulumi.Resource] = field(default_factory=tuple)


class Tenancy(pulumi.ComponentResource):
    """Each tenant's namespaces with their policies and a hello-world each; tenants with a
    control plane of their own get their istiod."""

    # Per tenant: what its checks wait for (its workloads and policies).
    ready: dict[str, list[pulumi.Resource]]
    # Per tenant: its namespaces' resources (by namespace name).
    namespaces: dict[str, dict[str, k8s.core.v1.Namespace]]
    istiods: dict[str, k8s.helm.v3.Release]

    def __init__(
        self, name: str, args: TenancyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:Tenancy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        after_istiod = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[args.istiod])
        )
        self.ready, self.namespaces, self.istiods = {}, {}, {}
        exposed: list[pulumi.Resource] = []
        if any(t.exposed for t in args.tenants):
            exposed.append(
                istio_object(
                    f"{name}-gateway",
                    "Gateway",
                    TENANTS_GATEWAY,
                    args.shared_system_namespace,
                    tenants_gateway_spec(args.ingress_selector),
                    opts=after_istiod,
                )
            )
        for tenant in args.tenants:
            prefix = f"{name}-{tenant.name}"
            pods_wait: list[pulumi.Resource] = list(args.ready)
            if tenant.own:
                pods_wait = [self._istiod(prefix, tenant, args, child), *args.node_agents]
            self.namespaces[tenant.name] = {}
            self.ready[tenant.name] = []
            for namespace in tenant.namespaces:
                self._namespace(
                    prefix, tenant, namespace, args, pods_wait=pods_wait, after_istiod=after_istiod
                )
            first = self.namespaces[tenant.name][tenant.namespaces[0]].metadata.name
            if tenant.exposed:
                self.ready[tenant.name] += [
                    *exposed,
                    istio_object(
                        f"{prefix}-route",
                        "VirtualService",
                        f"tenant-{tenant.name}",
                        first,
                        exposed_route_spec(tenant, args.shared_system_namespace),
                        opts=after_istiod,
                    ),
                ]
            # Another tenant on the same control plane, declared by this tenant itself (what
            # its checks call to show that the other's ALLOW policy refuses it).
            for other in args.tenants:
                if other.name == tenant.name or not same_control_plane(tenant, other):
                    continue
                entry, rule = declared_by_caller(service_host(other.namespaces[0]))
                for role, kind, spec in (
                    ("entry", "ServiceEntry", entry),
                    ("rule", "DestinationRule", rule),
                ):
                    self.ready[tenant.name].append(
                        istio_object(
                            f"{prefix}-to-{other.name}-{role}",
                            kind,
                            f"to-{other.name}",
                            first,
                            spec,
                            opts=after_istiod,
                        )
                    )
        self.register_outputs({"tenants": [t.name for t in args.tenants]})

    def _namespace(
        self,
        prefix: str,
        tenant: Tenant,
        namespace: str,
        args: TenancyArgs,
        *,
        pods_wait: Sequence[pulumi.Resource],
        after_istiod: pulumi.ResourceOptions,
    ) -> None:
        """One namespace of a tenant: its policies and its hello-world."""
        ns = self.namespaces[tenant.name][namespace] = k8s.core.v1.Namespace(
            f"{prefix}-{namespace}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=namespace, labels=namespace_labels(tenant, args.release.revision)
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        ready = self.ready[tenant.name]
        for role, kind, object_name, spec, api in (
            ("mtls", "PeerAuthentication", "default", {"mtls": {"mode": "STRICT"}}, SECURITY),
            (
                "allow",
                "AuthorizationPolicy",
                "tenant-only",
                allow_tenant_spec(tenant, args.ingress_principal),
                SECURITY,
            ),
            (
                "sidecar",
                "Sidecar",
                "default",
                sidecar_spec(tenant, args.shared_system_namespace),
                NETWORKING,
            ),
        ):
            ready.append(
                istio_object(
                    f"{prefix}-{namespace}-{role}",
                    kind,
                    object_name,
                    ns.metadata.name,
                    spec,
                    opts=after_istiod,
                    api_version=api,
                )
            )
        ready.append(
            HelloWorld(
                f"{prefix}-{namespace}-hello-world",
                HelloWorldArgs(
                    namespace=ns.metadata.name,
                    image=args.image,
                    network_policies=args.network_policies,
                    service_annotations={
                        EXPORT_TO: exported_to(tenant, args.shared_system_namespace)
                    },
                ),
                pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=pods_wait),
            )
        )

    def _istiod(
        self, prefix: str, tenant: Tenant, args: TenancyArgs, child: pulumi.ResourceOptions
    ) -> k8s.helm.v3.Release:
        """The tenant's istiod in its own system namespace, after the CRDs."""
        system = k8s.core.v1.Namespace(
            f"{prefix}-system-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=tenant.system_namespace,
                labels={TENANT_LABEL: tenant.name, CONTROL_PLANE_LABEL: tenant.name},
            ),
            opts=child,
        )
        release = replace(args.release, revision=tenant.name)
        mesh = replace(
            args.mesh,
            discovery_selectors=own_discovery_selectors(tenant),
            trust_domain=tenant.trust_domain,
            istio_namespace=tenant.system_namespace,
            # Its proxies see nothing of istio-system's (the addons' tracing included).
            extension_providers=(),
        )
        istiod = self.istiods[tenant.name] = helm_release(
            f"{prefix}-istiod",
            release_name=f"istiod-{tenant.name}",
            chart="istiod",
            version=release.version,
            repository=release.chart_repository,
            namespace=system.metadata.name,
            values=istio_values.istiod_values(release, mesh),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[args.base])
            ),
        )
        return istiod
