"""Bookinfo's default-deny authorization: each service admits exactly its callers.

An ALLOW policy with no rules matches nothing, and a workload that any ALLOW policy applies to
refuses what no ALLOW matches (istio.io docs/reference/config/security/authorization-policy,
"allow-nothing"): the namespace's `allow-nothing` denies every call, and one ALLOW per service
admits its callers. Who calls whom is Bookinfo's code (istio/istio samples/bookinfo/src):
productpage.py calls details and reviews; reviews' LibertyRestEndpoint.java calls ratings
(v2 and v3; every version runs as bookinfo-reviews, so v1 is admitted too).

Callers are named by `serviceAccounts` (`<namespace>/<account>`, Istio 1.25+, istio/istio#54091):
its match ignores the trust domain (release-1.31 pilot/pkg/security/authz/model/generator.go
serviceAccountRegex), so the same policy holds in a mesh of several clusters whatever its
trust domain; ztunnel enforces it too (pilot/pkg/serviceregistry/ambient/authorization.go,
ServiceAccounts). An east-west gateway passes mTLS through, so a caller in another cluster
keeps its own identity.

Where the policies are enforced:
- sidecars: at the callee's sidecar, selected by `app` (a denied call: 403 `RBAC: access
  denied` from its Envoy);
- ambient: ztunnel sees only L4 and, for a call through the namespace's waypoint, the
  waypoint's identity; the waypoint sees the caller and enforces policies whose `targetRefs`
  name the Service, and ignores selector policies (release-1.31 pilot/pkg/model/
  policyattachment.go ShouldAttachPolicy). So the ztunnels admit the waypoint, productpage's
  ztunnel also the ingress gateway (which calls productpage directly: an ingress uses a
  waypoint only with `istio.io/ingress-use-waypoint`, istio.io docs/ambient/usage/waypoint),
  and the per-service policies target the Services;
- a Gateway API ingress gateway in the namespace is a workload there too (selector policies
  apply to it: ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY, default true in release-1.31
  pilot/pkg/features/pilot.go): its own policy admits every request (it is the entrance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from meshstack.istio.objects import SECURITY, istio_object

ALLOW_NOTHING = "allow-nothing"
# Each service's callers among Bookinfo's services (productpage's are the entrance's).
CALLERS: Mapping[str, tuple[str, ...]] = {
    "productpage": (),
    "details": ("productpage",),
    "reviews": ("productpage",),
    "ratings": ("reviews",),
}
# The policy through which the ztunnels admit the namespace's waypoint (ambient).
FROM_WAYPOINT = "from-waypoint"
# productpage's ztunnel admitting the ingress gateway (ambient).
PRODUCTPAGE_INGRESS = "productpage-ingress"
GATEWAY_GROUP = "gateway.networking.k8s.io"


def account(namespace: str, service: str) -> str:
    """A Bookinfo service's account (apps/bookinfo.py: bookinfo-<service>)."""
    return f"{namespace}/bookinfo-{service}"


@dataclass(frozen=True)
class Entrance:
    """Who may call productpage from outside Bookinfo."""

    # A Source (security.istio.io/v1) naming the ingress gateway: its serviceAccounts, or
    # its namespace where the account name is not the package's to know (ASM's gateway).
    ingress: Mapping[str, list[str]]
    # The in-mesh check Jobs that call productpage (`<namespace>/<account>`).
    checks: Sequence[str] = ()
    # A Gateway API ingress gateway running in Bookinfo's namespace (its Gateway's name).
    gateway_in_namespace: str | None = None


@dataclass(frozen=True)
class Placement:
    """Where the policies are enforced: sidecars, or ztunnel and the namespace's waypoint."""

    ambient: bool = False
    # The namespace's waypoint's account name (ambient).
    waypoint_account: str | None = None


def _allow(sources: Sequence[Mapping[str, Any]], **target: Any) -> dict[str, Any]:
    return {
        **target,
        "action": "ALLOW",
        "rules": [{"from": [{"source": dict(s)} for s in sources]}],
    }


def _by_app(service: str) -> dict[str, Any]:
    return {"selector": {"matchLabels": {"app": service}}}


def service_target(service: str) -> dict[str, Any]:
    """A policy on a Service, which its waypoint enforces (ambient)."""
    return {"targetRefs": [{"group": "", "kind": "Service", "name": service}]}


def policy_specs(namespace: str, entrance: Entrance, placement: Placement) -> dict[str, dict]:
    """Every policy of the set: name → AuthorizationPolicy spec."""
    checks = [{"serviceAccounts": list(entrance.checks)}] if entrance.checks else []
    entry = [dict(entrance.ingress), *checks]
    target = service_target if placement.ambient else _by_app
    specs: dict[str, dict] = {ALLOW_NOTHING: {"action": "ALLOW"}}
    for service, callers in CALLERS.items():
        sources = (
            [{"serviceAccounts": [account(namespace, c) for c in callers]}] if callers else entry
        )
        specs[service] = _allow(sources, **target(service))
    if placement.ambient:
        assert placement.waypoint_account, "an ambient namespace's policies need its waypoint"
        specs[FROM_WAYPOINT] = _allow(
            [{"serviceAccounts": [f"{namespace}/{placement.waypoint_account}"]}]
        )
        specs[PRODUCTPAGE_INGRESS] = _allow([dict(entrance.ingress)], **_by_app("productpage"))
    if entrance.gateway_in_namespace:
        specs[entrance.gateway_in_namespace] = {
            "targetRefs": [
                {"group": GATEWAY_GROUP, "kind": "Gateway", "name": entrance.gateway_in_namespace}
            ],
            "action": "ALLOW",
            "rules": [{}],
        }
    return specs


def default_deny(
    resource_prefix: str,
    namespace: str,
    namespace_output: pulumi.Input[str],
    *,
    entrance: Entrance,
    placement: Placement,
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """The set as AuthorizationPolicies `<resource_prefix>-authz-<name>`; `opts` carries the
    provider and what admits Istio objects (istiod)."""
    return [
        istio_object(
            f"{resource_prefix}-authz-{name}",
            "AuthorizationPolicy",
            name,
            namespace_output,
            spec,
            opts=opts,
            api_version=SECURITY,
        )
        for name, spec in policy_specs(namespace, entrance, placement).items()
    ]
