"""Tenants in one cluster (`tenancy.tenants`, the `tenancy` stack; meshstack/istio/tenancy.py):
the config's refusals, the policies of each tenant namespace, and, rendered by the real Helm,
which istiod discovers and injects which namespace."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import pytest

from meshstack.istio.tenancy import (
    CONTROL_PLANE_LABEL,
    DENIED,
    EXPORT_TO,
    TENANT_LABEL,
    Tenant,
    tenant_checks,
)
from meshstack.verify import probe_job as probe
from stacks.config import ConfigError
from tests.conftest import rendered
from tests.test_helm_releases import helm_releases
from tests.test_probe import Service, run
from tools import teardown
from tools.offline.engine import Declared, OfflineEngine

STACK = "tenancy"
NAMESPACE = "kubernetes:core/v1:Namespace"
SHARED = {"blue": ("blue-front", "blue-back"), "green": ("green",)}
OWN = {"red": ("red",)}
# The ingress gateway's identity: the gateway chart's service account is its release name.
INGRESS = "cluster.local/ns/istio-system/sa/istio-ingressgateway"


def refusal(engine: OfflineEngine, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        engine.run(STACK, overrides)
    assert not engine.monitor.recorded  # refused before anything is registered
    return str(caught.value)


def tenants(*tenant: dict[str, Any]) -> dict[str, Any]:
    return {"tenancy": {"tenants": list(tenant)}}


# --- config ---------------------------------------------------------------------------------


def test_every_tenancy_mistake_in_one_message(engine):
    long = "t" * 47
    message = refusal(
        engine,
        {
            **tenants(
                {"name": "a", "namespaces": ["one", "one"]},
                {"name": "b", "namespaces": ["one", "istio-c"]},
                {"name": "a", "namespaces": ["two"]},
                {"name": "c", "namespaces": ["three"], "controlPlane": "own"},
                {"name": long, "namespaces": ["four"], "controlPlane": "own"},
                {"name": "default", "namespaces": ["five"], "controlPlane": "own"},
            ),
            "bookinfo": {"enabled": True, "namespace": "two"},
            "istio": {"dataPlane": "ambient"},
        },
    )
    for words in (
        "meshstack:tenancy.tenants names 'a' more than once",
        "meshstack:tenancy.tenants 'a' lists namespace 'one' twice",
        "namespace 'one' is in tenants 'a' and 'b'; a namespace belongs to one tenant",
        "namespace 'two' is Bookinfo's (bookinfo.namespace)",
        "meshstack:bookinfo.enabled true does not work with tenancy.tenants",
        f"its istiod's Helm release istiod-{long} would have 54 characters",
        "'default' is the revision of the shared istiod (or Istio's default tag)",
        "its control plane's namespace 'istio-c' is also a namespace of tenant 'b'",
        "controlPlane own does not work with istio.dataPlane ambient",
    ):
        assert words in message, f"{words!r} missing from:\n{message}"


def test_exposure_needs_the_shared_control_plane_and_istio_ingress(engine):
    message = refusal(
        engine,
        {
            **tenants({"name": "c", "namespaces": ["c"], "controlPlane": "own", "exposed": True}),
            "istio": {"ingressApi": "gateway-api"},
        },
    )
    assert "meshstack:tenancy.tenants 'c': exposed true does not work with controlPlane own" in (
        message
    )
    assert "exposed true needs istio.ingressApi istio" in message


def test_an_exposed_tenant_is_routed_by_the_ingress_gateway_at_its_name(engine):
    declared = engine.run(STACK)
    (gateway,) = declared.of_type("kubernetes:networking.istio.io/v1:Gateway")
    assert gateway.manifest["metadata"]["namespace"] == "istio-system"
    assert gateway.manifest["spec"]["selector"] == {"istio": "ingressgateway"}
    (route,) = declared.of_type("kubernetes:networking.istio.io/v1:VirtualService")
    assert route.manifest["metadata"]["namespace"] == "blue-front"
    spec = route.manifest["spec"]
    assert spec["gateways"] == ["istio-system/tenants"]
    assert spec["exportTo"] == [".", "istio-system"]
    assert spec["http"] == [
        {
            "match": [{"uri": {"prefix": "/blue/"}}],
            "rewrite": {"uri": "/"},
            "route": [{"destination": {"host": "hello-world.blue-front.svc.cluster.local"}}],
        }
    ]


def test_own_control_planes_beside_revisions_are_refused(engine):
    message = refusal(
        engine,
        {
            "istio": {
                "revisions": [{"name": "1-31-0", "version": "1.31.0"}],
                "tags": {"default": "1-31-0"},
            }
        },
    )
    assert "controlPlane own is not built with istio.revisions" in message


def test_a_tenant_namespace_is_one_the_stack_creates(engine):
    message = refusal(engine, tenants({"name": "a", "namespaces": ["kube-system", "default"]}))
    assert "meshstack:tenancy.tenants[0].namespaces[0] = 'kube-system'" in message
    assert "tenancy.tenants[0].namespaces[1] = 'default': default exists in every cluster" in (
        message
    )


# --- the graph ------------------------------------------------------------------------------


def objects(declared: Declared, kind: str) -> dict[str, dict[str, Any]]:
    """kind's manifests by namespace."""
    return {
        r.manifest["metadata"]["namespace"]: r.manifest
        for r in declared.resources
        if r.type.endswith(f":{kind}") and "namespace" in r.manifest.get("metadata", {})
    }


def namespace_labels(declared: Declared) -> dict[str, dict[str, str]]:
    return {
        r.manifest["metadata"]["name"]: r.manifest["metadata"].get("labels") or {}
        for r in declared.of_type(NAMESPACE)
    }


def test_each_tenant_namespace_is_isolated_by_policy(engine):
    declared = engine.run(STACK)
    mtls = objects(declared, "PeerAuthentication")
    allow = objects(declared, "AuthorizationPolicy")
    sidecars = objects(declared, "Sidecar")
    services = {
        r.manifest["metadata"]["namespace"]: r.manifest
        for r in declared.of_type("kubernetes:core/v1:Service")
    }
    for tenant, namespaces in {**SHARED, **OWN}.items():
        system = "istio-red" if tenant in OWN else "istio-system"
        for namespace in namespaces:
            assert mtls[namespace]["spec"] == {"mtls": {"mode": "STRICT"}}
            # ALLOW with one rule: every request from elsewhere is denied; blue is exposed
            # through the ingress gateway, whose identity it admits too.
            sources = [{"source": {"namespaces": list(namespaces)}}]
            if tenant == "blue":
                sources.append({"source": {"principals": [INGRESS]}})
            assert allow[namespace]["spec"] == {"action": "ALLOW", "rules": [{"from": sources}]}
            assert sidecars[namespace]["spec"]["egress"] == [
                {"hosts": [*(f"{n}/*" for n in namespaces), f"{system}/*"]}
            ]
            annotations = services[namespace]["metadata"]["annotations"]
            exported = [*namespaces, *(["istio-system"] if tenant == "blue" else [])]
            assert annotations == {EXPORT_TO: ",".join(exported)}


def test_own_control_plane_namespaces_are_labelled_for_it_and_the_others_for_the_shared_one(
    engine,
):
    labels = namespace_labels(engine.run(STACK))
    for tenant, namespaces in SHARED.items():
        for namespace in namespaces:
            assert labels[namespace] == {TENANT_LABEL: tenant, "istio-injection": "enabled"}
    assert labels["red"] == {TENANT_LABEL: "red", CONTROL_PLANE_LABEL: "red", "istio.io/rev": "red"}
    assert labels["istio-red"] == {TENANT_LABEL: "red", CONTROL_PLANE_LABEL: "red"}


def test_another_shared_tenant_is_called_over_mutual_tls_declared_by_the_caller(engine):
    """The 403 check needs the call to arrive over mTLS: the caller's own ServiceEntry and
    ISTIO_MUTUAL DestinationRule, visible in its namespace only."""
    declared = engine.run(STACK)
    entries = {
        r.name: r.manifest
        for r in declared.of_type("kubernetes:networking.istio.io/v1:ServiceEntry")
    }
    rules = {
        r.name: r.manifest
        for r in declared.of_type("kubernetes:networking.istio.io/v1:DestinationRule")
    }
    assert set(entries) == {"tenancy-blue-to-green-entry", "tenancy-green-to-blue-entry"}
    blue = entries["tenancy-blue-to-green-entry"]
    assert blue["metadata"]["namespace"] == "blue-front"
    assert blue["spec"]["hosts"] == ["hello-world.green.svc.cluster.local"]
    assert blue["spec"]["exportTo"] == ["."]
    rule = rules["tenancy-blue-to-green-rule"]["spec"]
    assert rule["trafficPolicy"] == {"tls": {"mode": "ISTIO_MUTUAL"}} and rule["exportTo"] == ["."]
    (job,) = [
        r for r in declared.of_type("kubernetes:batch/v1:Job") if r.name == "tenancy-blue-check-job"
    ]
    env = {
        e["name"]: e.get("value")
        for e in job.manifest["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    (denied,) = [c for c in json.loads(env["CHECKS"]) if "403" in c["name"]]
    assert denied["url"] == "http://hello-world.green.svc.cluster.local/"
    assert denied["classes"] == [{"label": "denied", "status": 403, "body": DENIED}]


def test_across_control_planes_the_answer_follows_the_outbound_policy(engine):
    declared = engine.run(STACK, {"istio": {"outboundTrafficPolicy": "REGISTRY_ONLY"}})
    (job,) = [
        r for r in declared.of_type("kubernetes:batch/v1:Job") if r.name == "tenancy-red-check-job"
    ]
    env = {
        e["name"]: e.get("value")
        for e in job.manifest["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    statuses = {c["name"]: c["classes"][0].get("status") for c in json.loads(env["CHECKS"])}
    assert statuses["tenant red -> tenant blue (blue-front), another control plane: 502"] == 502


def test_a_tenant_workload_goes_before_its_own_istiod(engine):
    declared = engine.run(STACK)
    assert teardown.violations(declared) == []
    deployment = declared.named("tenancy-red-red-hello-world-deployment")
    istiod = declared.named("tenancy-red-istiod")
    cut = dataclasses.replace(
        deployment, dependencies=[d for d in deployment.dependencies if d != istiod.urn]
    )
    broken = dataclasses.replace(
        declared, resources=[cut if r is deployment else r for r in declared.resources]
    )
    assert (
        "workloads in the mesh before istiod (sidecars) or ztunnel (ambient): "
        "tenancy-red-red-hello-world-deployment is not deleted before tenancy-red-istiod"
    ) in teardown.violations(broken)


# --- rendered by the real Helm ----------------------------------------------------------------


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels AND matchExpressions: In, NotIn, Exists,
    DoesNotExist; k8s.io/apimachinery pkg/apis/meta/v1 LabelSelector)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        held = {
            "In": key in labels and labels[key] in (values or []),
            "NotIn": key not in labels or labels[key] not in (values or []),
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not held:
            return False
    return True


def rendered_istiods(declared: Declared) -> dict[str, list[dict[str, Any]]]:
    return {
        resource.name: rendered(release)
        for resource, release in helm_releases(declared)
        if release.chart == "istiod"
    }


def _mesh(objects: list[dict[str, Any]]) -> dict[str, Any]:
    import yaml

    (config,) = [o for o in objects if o["kind"] == "ConfigMap" and "mesh" in o.get("data", {})]
    return yaml.safe_load(config["data"]["mesh"])


def test_each_istiod_discovers_exactly_its_tenants_namespaces(engine, helm):
    """meshConfig.discoverySelectors as the rendered mesh config holds them (OR of selectors:
    istio/api mesh/v1alpha1/config.proto discovery_selectors), against the declared labels."""
    declared = engine.run(STACK)
    labels = namespace_labels(declared)
    labels.setdefault("istio-system", {})
    istiods = rendered_istiods(declared)
    discovered = {
        name: {
            ns
            for ns, held in labels.items()
            if any(selects(s, held) for s in _mesh(objects)["discoverySelectors"])
        }
        for name, objects in istiods.items()
    }
    assert discovered == {
        "istio-istiod": {"istio-system", "blue-front", "blue-back", "green"},
        "tenancy-red-istiod": {"istio-red", "red"},
    }
    red = _mesh(istiods["tenancy-red-istiod"])
    assert red["trustDomain"] == "red.local" and red["rootNamespace"] == "istio-red"
    for objects in istiods.values():
        mesh = _mesh(objects)
        assert [
            mesh[f"default{k}ExportTo"] for k in ("Service", "VirtualService", "DestinationRule")
        ] == [["."]] * 3


def test_each_namespace_is_injected_by_its_own_control_plane(engine, helm):
    """The injection webhooks as the istiod chart renders them (namespaceSelector,
    objectSelector): a tenant with its own istiod is injected by it, the others by the
    shared one, and never both."""
    declared = engine.run(STACK)
    labels = namespace_labels(declared)
    injects: dict[str, set[str]] = {}
    for name, objects in rendered_istiods(declared).items():
        hooks = [
            (hook, o["metadata"]["name"])
            for o in objects
            if o["kind"] == "MutatingWebhookConfiguration"
            for hook in o["webhooks"]
        ]
        for namespace, held in labels.items():
            # A pod of the package's workloads carries no injection label of its own.
            if any(
                selects(hook.get("namespaceSelector") or {}, held)
                and selects(hook.get("objectSelector") or {}, {"app": "hello-world"})
                for hook, _ in hooks
            ):
                injects.setdefault(namespace, set()).add(name)
        if name == "tenancy-red-istiod":
            services = {
                (h["clientConfig"]["service"]["name"], h["clientConfig"]["service"]["namespace"])
                for h, _ in hooks
            }
            assert services == {("istiod-red", "istio-red")}
    assert injects == {
        "blue-front": {"istio-istiod"},
        "blue-back": {"istio-istiod"},
        "green": {"istio-istiod"},
        "red": {"tenancy-red-istiod"},
    }


# --- the checks against recorded answers ---------------------------------------------------


def isolated(url: str, _user: str) -> probe.Answer:
    """What blue's pod sees in a mesh that isolates its tenants: its own services answer,
    green's policy refuses it (Envoy's RBAC filter: 403 `RBAC: access denied`), red's service is
    unknown to its proxy (passthrough, closed by the STRICT server: Envoy's 503)."""
    if "blue-" in url:
        return probe.Answer(200, "Hello World")
    if "green" in url:
        return probe.Answer(403, DENIED)
    return probe.Answer(503, "upstream connect error or disconnect/reset before headers")


BLUE = Tenant("blue", SHARED["blue"], exposed=True)
ALL = [BLUE, Tenant("green", SHARED["green"]), Tenant("red", OWN["red"], own=True)]


def test_the_tenant_checks_hold_in_an_isolated_mesh_and_fail_in_an_open_one():
    checks = tenant_checks(BLUE, ALL, "ALLOW_ANY", samples=3)
    assert run(checks, Service(isolated)) == []
    # No ALLOW policy in green: the call gets through.
    open_mesh = Service(lambda url, user: probe.Answer(200, "Hello World"))
    failures = "\n".join(run(checks, open_mesh))
    assert "tenant blue -> tenant green (green), same control plane: 403" in failures
    assert "tenant blue -> tenant red (red), another control plane: 503" in failures


# --- between runs (stacks/config/previous.py) ------------------------------------------------


def test_a_tenant_does_not_switch_control_planes_in_one_up():
    first = OfflineEngine()
    record = first.run(STACK).outputs["deployed"]
    assert record["tenancy"] == {"blue": "shared", "green": "shared", "red": "own"}
    engine = OfflineEngine()
    engine.state.record = record
    switched = [
        {"name": "blue", "namespaces": list(SHARED["blue"]), "controlPlane": "own"},
        {"name": "green", "namespaces": list(SHARED["green"])},
        {"name": "red", "namespaces": list(OWN["red"]), "controlPlane": "shared"},
    ]
    message = refusal(engine, tenants(*switched))
    assert (
        "meshstack:tenancy.tenants 'blue' controlPlane 'own': its namespaces ran on the shared"
        in (message)
    )
    assert "'red' controlPlane 'shared': its namespaces ran on a control plane of its own" in (
        message
    )
    # The same tenants again, or a new one: nothing to refuse.
    again = OfflineEngine()
    again.state.record = record
    assert again.run(STACK).outputs["deployed"] == record
