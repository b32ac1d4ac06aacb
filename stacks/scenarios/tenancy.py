"""`tenancy.tenants` on the `local` scenario: the tenants' namespaces and control planes
beside the shared mesh, and the checks that prove their isolation (docs/stacks/tenancy.md)."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s

from meshstack import versions
from meshstack.hardening import pinned
from meshstack.istio.control_plane import INGRESS_GATEWAY, ISTIO_NAMESPACE
from meshstack.istio.tenancy import (
    Tenancy,
    TenancyArgs,
    Tenant,
    outside_checks,
    shared_discovery_selectors,
    tenant_checks,
)
from meshstack.verify.mesh_check import MeshCheck
from stacks.config import LocalStack
from stacks.scenarios.mesh import INGRESS_SELECTOR, INGRESS_URL, Mesh, control_plane_args
from stacks.scenarios.verification import mesh_check


def tenants_of(config: LocalStack) -> list[Tenant]:
    return [
        Tenant(t.name, tuple(t.namespaces), own=t.control_plane == "own", exposed=t.exposed)
        for t in config.tenancy.tenants
    ]


def shared_scoping(tenants: list[Tenant]) -> dict[str, Any]:
    """MeshSettings fields of the shared istiod with tenants: the exportTo defaults of ".",
    and discoverySelectors that leave out the tenants with a control plane of their own."""
    if not tenants:
        return {}
    scoping: dict[str, Any] = {"export_to_own_namespace": True}
    if any(t.own for t in tenants):
        scoping["discovery_selectors"] = shared_discovery_selectors()
    return scoping


def tenancy_on_cluster(
    provider: k8s.Provider, config: LocalStack, mesh: Mesh, tenants: list[Tenant]
) -> list[MeshCheck | None]:
    """The tenants, and per tenant a check from inside its first namespace; one check from
    outside the mesh that every tenant's service refuses plain text."""
    control_plane = mesh.control_plane
    shared = control_plane_args(
        provider,
        config.istio,
        config.security,
        serverless=config.serverless,
        **shared_scoping(tenants),
    )
    tenancy = Tenancy(
        "tenancy",
        TenancyArgs(
            provider=provider,
            tenants=tenants,
            release=shared.release,
            mesh=shared.mesh,
            shared_system_namespace=ISTIO_NAMESPACE,
            base=control_plane.base,
            istiod=control_plane.istiod,
            ready=control_plane.ready,
            image=pinned(versions.HELLO_WORLD_IMAGE, config.security.image_digests),
            ingress_selector=INGRESS_SELECTOR,
            # The gateway chart's service account is its release's name (gateway chart
            # templates/_helpers.tpl gateway.serviceAccountName); the shared trust domain.
            ingress_principal=f"cluster.local/ns/{ISTIO_NAMESPACE}/sa/{INGRESS_GATEWAY}",
            network_policies=config.security.network_policies,
            node_agents=(control_plane.cni,) if control_plane.cni is not None else (),
        ),
    )
    verify = config.verify
    checks: list[MeshCheck | None] = []
    for tenant in tenants:
        first = tenancy.namespaces[tenant.name][tenant.namespaces[0]].metadata.name
        checks.append(
            mesh_check(
                f"tenancy-{tenant.name}-check",
                verify,
                provider=provider,
                namespace=first,
                job_name=f"tenancy-{tenant.name}-check",
                checks=tenant_checks(
                    tenant, tenants, config.istio.outbound_traffic_policy, verify.samples
                ),
                after=[r for t in tenants for r in tenancy.ready[t.name]],
                in_mesh=True,
                revision=tenant.name if tenant.own else config.istio.revision,
            )
        )
    first_tenant = tenants[0]
    gateway = control_plane.ingress_gateway
    checks.append(
        mesh_check(
            "tenancy-outside-check",
            verify,
            provider=provider,
            namespace=tenancy.namespaces[first_tenant.name][
                first_tenant.namespaces[0]
            ].metadata.name,
            job_name="tenancy-outside-check",
            checks=outside_checks(tenants, INGRESS_URL if gateway else None, verify.samples),
            after=[
                *(r for t in tenants for r in tenancy.ready[t.name]),
                *([gateway] if gateway else []),
            ],
        )
    )
    return checks
