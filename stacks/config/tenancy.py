"""Tenants of one cluster (`meshstack:tenancy`, the `local` scenario; docs/stacks/tenancy.md).

A tenant is a set of namespaces. On the shared control plane (`controlPlane: shared`) they
are isolated by policy: STRICT mTLS, an ALLOW policy admitting only the tenant's namespaces,
a Sidecar and the mesh-wide `exportTo` defaults limiting what each proxy sees. A tenant with
its own control plane (`own`) gets a revisioned istiod in a system namespace of its own that
discovers only the tenant's namespaces, with its own root and trust domain (Istio's
"Install Multiple Istio Control Planes in a Single Cluster").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from stacks.config.fields import PROJECT, Flag, Model, Revision, VmNamespace
from stacks.config.mesh import BookinfoConfig, IstioConfig
from stacks.config.revisions import DEFAULT_TAG, HELM_RELEASE_NAME, ISTIOD_RELEASE

# An own control plane's system namespace: istio-<tenant> (a DNS label of at most 63).
SYSTEM_NAMESPACE_PREFIX = "istio-"
NAMESPACE_LENGTH = 63


def system_namespace(tenant: str) -> str:
    return f"{SYSTEM_NAMESPACE_PREFIX}{tenant}"


class TenantConfig(Model):
    """One tenant: its namespaces and whose control plane serves them."""

    name: Revision
    """The tenant's name; with controlPlane own also its istiod's revision (release and
    Service istiod-<name>, system namespace istio-<name>, trust domain <name>.local)."""
    namespaces: list[VmNamespace] = Field(min_length=1)
    """The namespaces the stack creates for the tenant, each with a hello-world service."""
    control_plane: Literal["shared", "own"] = "shared"
    """shared: the stack's istiod, isolation by policy; own: an istiod of the tenant's own
    that discovers only its namespaces."""
    exposed: Flag = False
    """Reachable through the ingress gateway at /<name>/ (its first namespace's hello-world):
    its ALLOW policy also admits the gateway (shared control plane only)."""


class TenancyConfig(Model):
    """Namespace tenancy on the shared control plane, and tenants with a control plane of
    their own in the same cluster."""

    tenants: list[TenantConfig] = Field(default_factory=list)
    """The tenants, each {name, namespaces, controlPlane}. Empty: no tenancy (the mesh-wide
    exportTo defaults stay Istio's `*`)."""

    @property
    def own(self) -> list[TenantConfig]:
        return [t for t in self.tenants if t.control_plane == "own"]


def tenancy_problems(
    tenancy: TenancyConfig, istio: IstioConfig, bookinfo: BookinfoConfig
) -> Sequence[str]:
    """Tenants that cannot work together or with the rest of the stack, all at once."""
    if not tenancy.tenants:
        return []
    key = f"{PROJECT}:tenancy.tenants"
    problems: list[str] = []
    names = [t.name for t in tenancy.tenants]
    problems += [
        f"{key} names {name!r} more than once"
        for name in sorted(set(names))
        if names.count(name) > 1
    ]
    owner: dict[str, str] = {}
    for tenant in tenancy.tenants:
        for namespace in tenant.namespaces:
            if namespace in owner:
                problems.append(
                    f"{key} {tenant.name!r} lists namespace {namespace!r} twice"
                    if owner[namespace] == tenant.name
                    else f"{key}: namespace {namespace!r} is in tenants {owner[namespace]!r} "
                    f"and {tenant.name!r}; a namespace belongs to one tenant"
                )
            owner.setdefault(namespace, tenant.name)
    if bookinfo.enabled and bookinfo.namespace in owner:
        problems.append(
            f"{key}: namespace {bookinfo.namespace!r} is Bookinfo's (bookinfo.namespace); "
            "choose another for the tenant"
        )
    if bookinfo.enabled:
        problems.append(
            f"{PROJECT}:bookinfo.enabled true does not work with tenancy.tenants: the mesh-wide "
            "exportTo defaults of '.' make Bookinfo's Services and routes visible in its own "
            "namespace only, so the ingress gateway in istio-system cannot reach the product "
            "page; set bookinfo.enabled false"
        )
    return [*problems, *_control_plane_problems(tenancy, istio, owner)]


def _control_plane_problems(
    tenancy: TenancyConfig, istio: IstioConfig, owner: dict[str, str]
) -> list[str]:
    """Own control planes and exposure that cannot work (`owner`: namespace → tenant)."""
    key = f"{PROJECT}:tenancy.tenants"
    problems: list[str] = []
    reserved = {DEFAULT_TAG, istio.revision, *(r.name for r in istio.revisions or ())}
    for tenant in tenancy.own:
        where = f"{key} {tenant.name!r} (controlPlane own)"
        release = ISTIOD_RELEASE + tenant.name
        if len(release) > HELM_RELEASE_NAME:
            problems.append(
                f"{where} is too long: its istiod's Helm release {release} would have "
                f"{len(release)} characters, and Helm takes at most {HELM_RELEASE_NAME}; use "
                f"at most {HELM_RELEASE_NAME - len(ISTIOD_RELEASE)}"
            )
        if tenant.name in reserved:
            problems.append(
                f"{where}: {tenant.name!r} is the revision of the shared istiod (or Istio's "
                "default tag); name the tenant otherwise"
            )
        if system_namespace(tenant.name) in owner:
            problems.append(
                f"{where}: its control plane's namespace {system_namespace(tenant.name)!r} is "
                f"also a namespace of tenant {owner[system_namespace(tenant.name)]!r}"
            )
    for tenant in tenancy.tenants:
        if tenant.exposed and tenant.control_plane == "own":
            problems.append(
                f"{key} {tenant.name!r}: exposed true does not work with controlPlane own: the "
                "ingress gateway is the shared control plane's, which does not discover the "
                "tenant's namespaces; expose a tenant on the shared control plane"
            )
        if tenant.exposed and istio.ingress != "istio":
            problems.append(
                f"{key} {tenant.name!r}: exposed true needs istio.ingressApi istio (the "
                "tenants' routes are an Istio Gateway and VirtualServices); it is "
                f"{istio.ingress}"
            )
    if tenancy.own and istio.data_plane == "ambient":
        problems.append(
            f"{key}: controlPlane own does not work with istio.dataPlane ambient: one ztunnel "
            "per node serves every control plane of the cluster (Istio's multiple control "
            "planes are a sidecar model); use sidecar, or controlPlane shared"
        )
    if tenancy.own and istio.tagged:
        problems.append(
            f"{key}: controlPlane own is not built with istio.revisions by this package yet "
            "(each revision's discovery would have to exclude the tenants); use "
            "istio.version, or controlPlane shared"
        )
    return problems
