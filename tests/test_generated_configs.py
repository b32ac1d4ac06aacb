"""Property: any configuration, valid or not, either builds a graph whose every object is
schema-valid, or stops with one ConfigError before a single resource is registered.

Hypothesis varies the settings that change what a stack declares (profiles, mTLS modes,
revisions, routing, retention, networks, the control plane) on top of each stack file.
Kubernetes objects are checked per example; Istio objects against Istio's CRDs; and every
distinct Helm release of the examples is rendered by the real Helm, its objects checked too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stacks.config import ConfigError
from stacks.config.loading import HEADER
from tests.conftest import gateway_api_crd_files, istio_crd_file
from tests.schema.crd import crd_errors
from tests.schema.kube import LOWEST, kubernetes_errors
from tools import charts
from tools.offline.engine import OfflineEngine
from tools.stack_file import committed_stacks, stack_config

ASM_API = "istio.alibabacloud.com/"
EXAMPLES_PER_STACK = 4
CONFIG_ERROR = HEADER

istio_settings = st.fixed_dictionaries(
    {},
    optional={
        "profile": st.sampled_from(["demo", "default", "minimal"]),
        "mtls": st.sampled_from(["STRICT", "PERMISSIVE", "DISABLE"]),
        "revision": st.sampled_from(["canary", "1-31", "Bad_Rev"]),
        "egressGateway": st.booleans(),
        "ingressServiceType": st.sampled_from(["LoadBalancer", "NodePort", "ClusterIP"]),
        "outboundTrafficPolicy": st.sampled_from(["ALLOW_ANY", "REGISTRY_ONLY"]),
        "dataPlane": st.sampled_from(["sidecar", "ambient"]),
        "ingressApi": st.sampled_from(["istio", "gateway-api"]),
        "platform": st.sampled_from(["k3d", "minikube", "kind"]),
    },
)
# local-canary: which revision each tag names (a dropped or misspelt one is refused).
canary_settings = st.fixed_dictionaries(
    {},
    optional={
        "tags": st.dictionaries(
            st.sampled_from(["default", "canary", "Bad_Tag"]),
            st.sampled_from(["1-30-3", "1-31-0", "gone"]),
            max_size=3,
        ),
        "mtls": st.sampled_from(["STRICT", "PERMISSIVE"]),
        "egressGateway": st.booleans(),
    },
)
reviews_versions = st.lists(st.sampled_from(["v1", "v2", "v3"]), min_size=0, max_size=3)
bookinfo_settings = st.fixed_dictionaries(
    {},
    optional={
        "enabled": st.booleans(),
        "reviewsVersions": reviews_versions,
        "routing": st.sampled_from(
            ["none", "all-v1", "jason-v2", "reviews-80-20", "reviews-50-v3", "ratings-delay"]
        ),
        "authorization": st.sampled_from(["default-deny", "none"]),
    },
)
addon_settings = st.fixed_dictionaries(
    {},
    optional={
        name: st.fixed_dictionaries({"enabled": st.booleans()})
        for name in ("kiali", "prometheus", "grafana", "jaeger")
    },
)
network_names = st.sampled_from(["", "network1", "vm-network", "Not A Label"])
# tenancy: tenants on either control plane, exposed or not, sharing namespaces or names.
tenant_settings = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["blue", "red", "default", "t" * 47]),
            "namespaces": st.lists(
                st.sampled_from(["one", "two", "istio-red", "bookinfo"]), min_size=1, max_size=2
            ),
        },
        optional={
            "controlPlane": st.sampled_from(["shared", "own"]),
            "exposed": st.booleans(),
        },
    ),
    min_size=1,
    max_size=3,
)


def mesh_clusters(stack: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    """The stack's clusters with their roles, networks and gateways redrawn."""
    clusters = stack_config(stack)["meshstack:clusters"]
    names = [c["name"] for c in clusters]
    changes = st.fixed_dictionaries(
        {},
        optional={
            "role": st.sampled_from(["primary", "remote"]),
            "primary": st.sampled_from([*names, "nowhere"]),
            "network": st.sampled_from(["network1", "alibaba", "google"]),
            "eastWestGateway": st.booleans(),
        },
    )
    return st.tuples(*(changes for _ in clusters)).map(
        lambda drawn: [
            {**cluster, **change} for cluster, change in zip(clusters, drawn, strict=True)
        ]
    )


SECTIONS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "local": {"istio": istio_settings, "bookinfo": bookinfo_settings, "addons": addon_settings},
    "local-ambient": {
        "istio": istio_settings,
        "bookinfo": bookinfo_settings,
        "addons": addon_settings,
    },
    "local-canary": {"istio": canary_settings, "bookinfo": bookinfo_settings},
    "single-cluster": {
        "istio": istio_settings,
        "bookinfo": bookinfo_settings,
        "cluster": st.fixed_dictionaries(
            {}, optional={"apiServerPublic": st.booleans(), "deletionProtection": st.booleans()}
        ),
    },
    "two-cluster-retention": {
        "controlPlane": st.sampled_from(["asm", "istio"]),
        "istio": istio_settings,
        "asm": st.fixed_dictionaries(
            {},
            optional={
                "mtls": st.sampled_from(["STRICT", "PERMISSIVE"]),
                "outboundTrafficPolicy": st.sampled_from(["ALLOW_ANY", "REGISTRY_ONLY"]),
            },
        ),
        "retention": st.fixed_dictionaries(
            {},
            optional={
                "services": st.lists(
                    st.sampled_from(["details", "reviews", "ratings", "*", "productpage"]),
                    max_size=2,
                )
            },
        ),
    },
    **{
        stack: {"istio": istio_settings, "clusters": mesh_clusters(stack)}
        for stack in ("multi-primary", "multi-primary-ambient", "primary-remote")
    },
    "tenancy": {
        "istio": istio_settings,
        "bookinfo": bookinfo_settings,
        "tenancy": st.fixed_dictionaries({"tenants": tenant_settings}),
    },
    "multi-mesh": {
        "istio": istio_settings,
        "federation": st.fixed_dictionaries(
            {},
            optional={
                "exporter": st.sampled_from(["mesh-a", "mesh-b"]),
                "allowedAccount": st.sampled_from(["federated-caller", "other-caller", "x"]),
                "gatewayPort": st.sampled_from([15443, 8443, 15021]),
            },
        ),
    },
    "external-control-plane": {
        "istio": istio_settings,
        "externalIstiod": st.fixed_dictionaries(
            {},
            optional={
                "replicas": st.integers(1, 4),
                "namespace": st.sampled_from(["external-istiod", "istio-system", "mesh-cp"]),
                "dnsZone": st.just("mesh1-zone"),
            },
        ),
    },
    "vm": {
        "istio": istio_settings,
        "mesh": st.fixed_dictionaries({}, optional={"network": network_names}),
        "vm": st.fixed_dictionaries({}, optional={"network": network_names}),
    },
}


def _merged(stack: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The stack file with `changes` merged into its sections (one level deep)."""
    base = stack_config(stack)
    merged = {}
    for key, value in changes.items():
        current = base.get(f"meshstack:{key}")
        merged[key] = {**current, **value} if isinstance(current, dict) else value
    return merged


cases = st.sampled_from(committed_stacks()).flatmap(
    lambda stack: st.tuples(
        st.just(stack),
        st.fixed_dictionaries({}, optional=SECTIONS[stack]).map(
            lambda changes: _merged(stack, changes)
        ),
    )
)


def test_every_stack_has_generated_settings() -> None:
    assert set(SECTIONS) == set(committed_stacks())


def test_generated_configs_build_schema_valid_graphs_or_fail_cleanly(helm) -> None:
    crds = [istio_crd_file()]
    releases: dict[str, str] = {}  # release inputs JSON -> the case that declared it
    outcomes = {"built": 0, "refused": 0}

    @settings(
        max_examples=EXAMPLES_PER_STACK * len(SECTIONS),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=cases)
    # One of each outcome whatever the draw, so neither path goes untested.
    @example(case=("local", {}))
    @example(case=("local", {"istio": {"revision": "Bad_Rev"}}))
    def build(case: tuple[str, dict[str, Any]]) -> None:
        stack, overrides = case
        engine = OfflineEngine(stack)
        try:
            declared = engine.run(stack, overrides)
        except Exception as error:  # a ConfigError, as Pulumi's runtime re-raises it
            message = str(error)
            assert message.startswith(CONFIG_ERROR) and "Traceback" not in message, message
            assert engine.monitor.recorded == [], "resources registered before the refusal"
            outcomes["refused"] += 1
            return
        outcomes["built"] += 1
        gateway_api = declared.gateway_api_objects()
        for resource in declared.kube_objects():
            if ".istio.io/" in resource.type:
                errors = crd_errors(resource.manifest, crds)
            elif resource in gateway_api:
                errors = crd_errors(resource.manifest, gateway_api_crd_files())
            elif ASM_API not in resource.type:
                errors = kubernetes_errors(resource.manifest)
            else:
                continue
            assert not errors, f"{stack} {overrides}: {resource.name}: {errors}"
        for release in declared.of_type(charts.RELEASE_TYPE):
            key = json.dumps(release.inputs, sort_keys=True)
            releases.setdefault(key, f"{stack} {overrides}: {release.name}")

    build()
    assert outcomes["built"] and outcomes["refused"], outcomes  # both paths were exercised
    problems: dict[str, list[str]] = {}
    for key, case in releases.items():
        try:
            objects = charts.render(charts.Release.of(json.loads(key)), LOWEST)
        except charts.RenderError as refused:
            problems[case] = [str(refused)]
            continue
        errors = [f"{o['kind']} {e}" for o in objects for e in kubernetes_errors(o, LOWEST)]
        if errors:
            problems[case] = errors
    assert releases and problems == {}


# --- mistakes of every class a user makes, combined: all refused at once, before anything ---

# A mistake: where it goes in a stack's config (section, path inside it) or a raw key, the
# value, and the key the message must name.
Mistake = tuple[str, tuple[Any, ...], Any, str]
ANY_ISTIO = (
    "local",
    "local-ambient",
    "single-cluster",
    "two-cluster-retention",
    "vm",
    "multi-primary",
    "multi-primary-ambient",
    "primary-remote",
    "tenancy",
    "multi-mesh",
    "external-control-plane",
)
# Mistakes of any stack file, local-canary's included (whose Istio keys are its revisions).
ANY_STACK = (*ANY_ISTIO, "local-canary")
MISTAKES: dict[str, dict[str, Mistake]] = {
    "non-ASCII digit in a version": {
        s: ("istio", ("version",), "1.3\u0661.0", "meshstack:istio.version") for s in ANY_ISTIO
    },
    "range without its prefix length": {
        "single-cluster": ("network", ("vswitches", 0, "cidr"), "192.168.0.0", "vswitches[0].cidr"),
        "two-cluster-retention": ("clusters", (0, "podCidr"), "10.10.0.0", "clusters[0].podCidr"),
        "vm": ("network", ("podCidr",), "10.20.0.0", "meshstack:network.podCidr"),
        "multi-primary": ("clusters", (0, "podCidr"), "10.40.0.0", "clusters[0].podCidr"),
        "multi-primary-ambient": (
            "clusters",
            (0, "podCidr"),
            "10.40.0.0",
            "clusters[0].podCidr",
        ),
        "primary-remote": ("clusters", (1, "nodeCidr"), "10.128.16.0", "clusters[1].nodeCidr"),
        "multi-mesh": (
            "meshes",
            (1, "clusters", 0, "podCidr"),
            "10.132.0.0",
            "meshes[1].clusters[0].podCidr",
        ),
        "external-control-plane": (
            "clusters",
            (2, "podCidr"),
            "10.144.0.0",
            "clusters[2].podCidr",
        ),
    },
    "application in a system namespace": {
        "local": ("bookinfo", ("namespace",), "istio-system", "meshstack:bookinfo.namespace"),
        "local-ambient": (
            "bookinfo",
            ("namespace",),
            "istio-system",
            "meshstack:bookinfo.namespace",
        ),
        "local-canary": (
            "bookinfo",
            ("namespace",),
            "istio-system",
            "meshstack:bookinfo.namespace",
        ),
        "single-cluster": ("bookinfo", ("namespace",), "kube-system", "bookinfo.namespace"),
        "vm": ("vm", ("namespace",), "istio-system", "meshstack:vm.namespace"),
    },
    "revision too long": {
        s: ("istio", ("revision",), "r" * 60, "meshstack:istio.revision") for s in ANY_ISTIO
    },
    "time zone that does not exist": {
        "single-cluster": ("cluster", ("timezone",), "Mars/Olympus", "cluster.timezone"),
    },
    "region of the other cloud": {
        "single-cluster": ("network", ("region",), "us-west1", "meshstack:network.region"),
        "vm": ("gcp", ("region",), "us-west-1", "meshstack:gcp.region"),
    },
    "misspelt namespace": {s: ("", ("meshstak:istio",), "{}", "meshstak:istio") for s in ANY_STACK},
    "flat key": {
        s: ("", ("meshstack:istio.mtls",), "STRICT", "meshstack:istio.mtls") for s in ANY_STACK
    },
    "credential in plain text": {
        s: ("", ("alicloud:secretKey",), "secret", "alicloud:secretKey") for s in ANY_STACK
    },
}


def _with_mistake(values: dict[str, Any], mistake: Mistake) -> dict[str, Any]:
    section, path, value, _ = mistake
    if not section:
        return {**values, path[0]: value}
    values = json.loads(json.dumps(values))
    target = values.setdefault(f"meshstack:{section}", {})
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return values


mistaken = st.sampled_from(committed_stacks()).flatmap(
    lambda stack: st.tuples(
        st.just(stack),
        st.lists(
            st.sampled_from(sorted(m for m in MISTAKES if stack in MISTAKES[m])),
            min_size=1,
            max_size=4,
            unique=True,
        ),
    )
)


@settings(max_examples=30, deadline=None, database=None)
@given(case=mistaken)
def test_generated_mistakes_are_refused_together_before_anything_exists(case) -> None:
    stack, names = case
    values = stack_config(stack)
    for name in names:
        values = _with_mistake(values, MISTAKES[name][stack])
    engine = OfflineEngine(stack)
    with pytest.raises(ConfigError) as refused:
        engine.run(stack, config=values)
    message = str(refused.value)
    for name in names:
        assert MISTAKES[name][stack][3] in message, f"{name}: not named in\n{message}"
    assert engine.monitor.recorded == [], "resources registered before the refusal"
