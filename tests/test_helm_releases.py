"""Every Helm release of every stack, rendered by the real Helm from its upstream chart source.

Each release goes to `helm template` exactly as the program declares it (release name,
namespace, chart, version, values; tools/charts.py), with the chart source of the pinned
version (the chart's values.schema.json enforced), for the lowest and the highest Kubernetes
the stacks support. Then:

- every rendered object is valid under that Kubernetes' strict OpenAPI schema;
- no values key is ignored: removing or changing any leaf we set changes the rendered output
  (tools/values_usage.py); a key whose only effect is a config file a program reads at run
  time is checked against what that program reads (RUNTIME_KEYS, the injector's templates);
- facts across objects come from the rendered output, not from our values: gateway pods carry
  the labels our Istio Gateways select and serve their ports, east-west gateways expose the
  four multi-cluster ports on their network, each gateway's NetworkPolicy admits every port of
  its Service, each mesh config says what its stack means, and a remote cluster's webhooks
  call its injection path.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from stacks import config as stack_config
from tests import tenancy_expectations
from tests.conftest import rendered
from tests.schema.kube import SUPPORTED, kubernetes_errors
from tests.variants import installs_istio_charts, params, typed_config
from tools import charts
from tools.offline.engine import Declared, Resource
from tools.values_usage import (
    ChartFields,
    FieldRule,
    Refused,
    Usage,
    classify,
    differences,
    dotted,
    flatten,
    leaves,
)

ISTIO_GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
EASTWEST_RELEASE = "istio-eastwestgateway"
EASTWEST_PORTS = {15021, 15443, 15012, 15017}
NETWORK_LABEL = "topology.istio.io/network"

# Rendered fields that are copies of the values (no effect) or configuration a program reads
# at run time, per chart.
FIELDS: Mapping[str, ChartFields] = {
    "istiod": ChartFields(
        # templates/configmap-values.yaml: "rendered for debugging purposes and external
        # tooling; modifying these values has no effect".
        debug=(FieldRule("ConfigMap", "values", ("data",)),),
        runtime=(
            # The injector runs the templates of `config` with `values` as .Values
            # (pkg/kube/inject/watcher.go readConfigMap, inject.go RunTemplate).
            FieldRule("ConfigMap", "istio-sidecar-injector", ("data", "values")),
            # istiod's mesh config.
            FieldRule("ConfigMap", "istio", ("data", "mesh")),
        ),
    ),
    # The chart copies all its values into config.yaml (templates/configmap.yaml).
    "kiali-server": ChartFields(
        runtime=(FieldRule("ConfigMap", "kiali", ("data", "config.yaml")),)
    ),
    "grafana": ChartFields(
        runtime=(
            FieldRule("ConfigMap", "grafana", ("data", "grafana.ini")),
            FieldRule("ConfigMap", "grafana", ("data", "datasources.yaml")),
        )
    ),
    "prometheus": ChartFields(
        runtime=(FieldRule("ConfigMap", "prometheus", ("data", "prometheus.yml")),)
    ),
}

# Keys of run-time configuration, each with the source that reads it; list items as `[]`.
# A key we set that is not here (a misspelling, a renamed key) fails the test.
RUNTIME_KEYS: Mapping[str, Mapping[str, str]] = {
    "istiod": {
        # istio/api release-1.31 mesh/v1alpha1/config.proto, MeshConfig (JSON names).
        "meshConfig.outboundTrafficPolicy.mode": "MeshConfig.outbound_traffic_policy.mode",
        "meshConfig.serviceSettings[].settings.clusterLocal": (
            "MeshConfig.ServiceSettings.Settings.cluster_local"
        ),
        "meshConfig.serviceSettings[].hosts": "MeshConfig.ServiceSettings.hosts",
        "meshConfig.extensionProviders[].name": "MeshConfig.ExtensionProvider.name",
        "meshConfig.extensionProviders[].opentelemetry.service": (
            "MeshConfig.ExtensionProvider.OpenTelemetryTracingProvider.service"
        ),
        "meshConfig.extensionProviders[].opentelemetry.port": (
            "MeshConfig.ExtensionProvider.OpenTelemetryTracingProvider.port"
        ),
        "meshConfig.trustDomain": "MeshConfig.trust_domain",
        # MeshConfig.ca_certificates: istio/istio release-1.31 pilot/pkg/trustbundle/
        # trustbundle.go:214-235 (the bundle), networking/plugin/authn/util.go:23-33 (domains).
        "meshConfig.caCertificates[].pem": "MeshConfig.CertificateData.pem",
        "meshConfig.caCertificates[].trustDomains": "MeshConfig.CertificateData.trust_domains",
        # MeshConfig.default_config, ProxyConfig.proxy_metadata (the injector makes each an
        # env var of the proxy); read by pilot-agent: istio/istio release-1.31
        # pilot/cmd/pilot-agent/options/options.go:124 env.Register("PROXY_CONFIG_XDS_AGENT").
        **tenancy_expectations.RUNTIME_KEYS,
        "meshConfig.defaultConfig.proxyMetadata.PROXY_CONFIG_XDS_AGENT": (
            "ProxyConfig.proxy_metadata, pilot-agent PROXY_CONFIG_XDS_AGENT"
        ),
        # ProxyConfig.discovery_address: where pilot-agent dials xDS and the CA, and the SAN
        # it wants of istiod's certificate (istio/istio release-1.31 pkg/istio-agent/
        # agent.go:271, pilot/cmd/pilot-agent/config/config.go:170 GetPilotSan).
        "meshConfig.defaultConfig.discoveryAddress": "ProxyConfig.discovery_address",
    },
    "kiali-server": {
        # kiali/kiali v2.29.0 config/config.go (yaml tags of Config.ExternalServices).
        "external_services.prometheus.url": "PrometheusConfig.URL yaml:url",
        "external_services.grafana.enabled": "GrafanaConfig.Enabled yaml:enabled",
        "external_services.grafana.internal_url": "GrafanaConfig.InternalURL yaml:internal_url",
        "external_services.grafana.external_url": "GrafanaConfig.ExternalURL yaml:external_url",
        "external_services.tracing.enabled": "TracingConfig.Enabled yaml:enabled",
        "external_services.tracing.provider": "TracingConfig.Provider yaml:provider",
        "external_services.tracing.use_grpc": "TracingConfig.UseGRPC yaml:use_grpc",
        "external_services.tracing.internal_url": "TracingConfig.InternalURL yaml:internal_url",
        "external_services.tracing.external_url": "TracingConfig.ExternalURL yaml:external_url",
    },
    "grafana": {
        # grafana/grafana pkg/setting/setting_anonymous.go readAnonymousSettings and
        # pkg/setting/setting.go (Section "auth.basic", Key "enabled").
        '"grafana.ini"."auth.anonymous".enabled': "auth.anonymous enabled",
        '"grafana.ini"."auth.anonymous".org_role': "auth.anonymous org_role",
        '"grafana.ini"."auth.basic".enabled': "auth.basic enabled",
        # pkg/services/provisioning/datasources/types.go: configVersion.APIVersion and
        # configsV1 / upsertDataSourceFromConfigV1 (apiVersion 1 selects these camelCase keys).
        'datasources."datasources.yaml".apiVersion': "configVersion.APIVersion",
        **{
            f'datasources."datasources.yaml".datasources[].{key}': f"V1 datasource {key}"
            for key in ("name", "uid", "type", "access", "url", "isDefault")
        },
    },
    "prometheus": {
        # prometheus/prometheus v3.14.0 config/config.go GlobalConfig.ScrapeInterval; the file
        # is read with yaml.UnmarshalStrict, so a wrong key would also stop Prometheus.
        "server.global.scrape_interval": "GlobalConfig.ScrapeInterval yaml:scrape_interval",
    },
}


# --- rendering --------------------------------------------------------------------------------


def helm_releases(declared: Declared) -> list[tuple[Resource, charts.Release]]:
    return [(r, charts.Release.of(r.inputs)) for r in declared.of_type(charts.RELEASE_TYPE)]


def _key(release: charts.Release) -> str:
    return json.dumps(
        [release.chart, release.version, release.name, release.namespace, release.values],
        sort_keys=True,
    )


@functools.cache
def _usage(key: str) -> dict[tuple[str, ...], Usage]:
    """How the chart uses each values leaf of one release (cached: stacks share releases)."""
    chart, version, name, namespace, values = json.loads(key)
    release = charts.Release(name, chart, version, namespace, values, repository="")

    def render(variant: Mapping[str, Any]) -> list[dict[str, Any]]:
        try:
            return charts.render(release, SUPPORTED[0], variant)
        except charts.RenderError as refused:
            raise Refused(str(refused)) from None

    # Fields that differ between two renders of the same values (generated passwords).
    volatile: frozenset[tuple[str, ...]] = frozenset()
    if charts.renders_differently_each_time(charts.chart_source(chart, version)):
        twice = [charts.render(release, SUPPORTED[0], fresh=True) for _ in range(2)]
        volatile = frozenset(differences(flatten(twice[0]), flatten(twice[1])))
    return classify(render, values, FIELDS.get(chart, ChartFields()), volatile)


def _deep_leaves(path: tuple[str, ...], value: Any) -> Iterable[str]:
    """Dotted paths of a value's leaves; items of lists of mappings as `[]`."""
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _deep_leaves((*path, key), item)
    elif isinstance(value, list) and value and all(isinstance(i, Mapping) for i in value):
        for item in value:
            for key, inner in item.items():
                yield from _deep_leaves((*path[:-1], f"{path[-1]}[]", key), inner)
    else:
        yield dotted(path)


def _injector_templates(objects: list[dict[str, Any]]) -> str:
    return "\n".join(
        str(o["data"].get("config", ""))
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("istio-sidecar-injector")
    )


def unread_runtime_keys(release: charts.Release, usage: Mapping[tuple[str, ...], str]) -> list[str]:
    """Keys whose only effect is run-time configuration that its program does not read."""
    known = RUNTIME_KEYS.get(release.chart, {})
    templates = _injector_templates(rendered(release)) if release.chart == "istiod" else ""
    values = dict(leaves(release.values))
    unread = []
    for path, how in usage.items():
        if how != "runtime":
            continue
        if templates and path[0] != "meshConfig":
            # The injector's templates read it as .Values.<path>.
            if f".Values.{'.'.join(path)}" not in templates:
                unread.append(dotted(path))
            continue
        unread += [p for p in _deep_leaves(path, values[path]) if p not in known]
    return unread


# --- what each stack means (from its config, not from the values we build) ---------------------


@dataclass(frozen=True)
class ControlPlane:
    """What the rendered istiod of one cluster must say."""

    cluster_name: str | None = None
    network: str | None = None
    mesh_id: str | None = None
    access_log: bool = False
    outbound: str = "ALLOW_ANY"
    cluster_local: tuple[str, ...] = ()
    # A remote cluster: only webhooks calling this path on its primary.
    injection_path: str | None = None
    # istiod of an ambient mesh (the charts' ambient profile: PILOT_ENABLE_AMBIENT).
    ambient: bool = False
    # A plugged-in CA (a shared root of trust): istiod takes a changed root bundle and its
    # proxies take it at once (docs/day-2.md, Root CA rotation).
    multi_root: bool = False
    # A tenant's own istiod (meshstack/istio/tenancy.py) has a trust domain of its own.
    trust_domain: str = "cluster.local"
    # With tenants: Services, VirtualServices, DestinationRules visible in their namespace
    # only, and the namespaces each istiod reads.
    export_to: tuple[str, ...] | None = None
    discovery_selectors: tuple[Any, ...] | None = None
    # The trust domains of the other meshes' roots it trusts (multi-mesh).
    imported: tuple[str, ...] = ()


def expected_control_planes(config: stack_config.AnyStack) -> dict[str, ControlPlane]:
    """The istiod release of each cluster (by resource name) and what it must say."""
    istio = config.istio
    ambient = istio.data_plane == "ambient"
    common = {
        # Ambient replaces the profile with the charts' ambient one (no access log).
        "access_log": istio.profile == "demo" and not ambient,
        "outbound": istio.outbound_traffic_policy,
        "ambient": ambient,
    }
    # An istiod per revision (istio.revisions), each saying the same.
    istiods = [f"-{r.name}" for r in istio.revisions] if istio.revisions else [""]
    if isinstance(config, stack_config.VmStack):
        mesh = config.mesh
        return {
            f"istio-istiod{each}": ControlPlane(
                mesh.cluster_name, mesh.network, mesh.mesh_id, multi_root=True, **common
            )
            for each in istiods
        }
    if isinstance(config, stack_config.TwoClusterStack):
        namespace = config.bookinfo.namespace
        retained = tuple(
            sorted(f"{h}.{namespace}.svc.cluster.local" for h in config.retention.hosts)
        )
        return {
            f"{c.name}-istio-istiod{each}": ControlPlane(
                c.name, None, config.mesh_id, cluster_local=retained, multi_root=True, **common
            )
            for c in config.clusters
            for each in istiods
        }
    if isinstance(config, stack_config.MultiMeshStack | stack_config.MultiClusterStack):
        meshes = config.meshes if isinstance(config, stack_config.MultiMeshStack) else [config]
        return {
            f"{c.name}-istio-istiod{each}": ControlPlane(
                c.name,
                c.network,
                m.mesh_id,
                multi_root=True,
                trust_domain=getattr(m, "trust_domain", "cluster.local"),
                imported=tuple(getattr(o, "trust_domain", "") for o in meshes if o is not m),
                **common,
            )
            if c.role == "primary"
            else ControlPlane(injection_path=f"/inject/cluster/{c.name}/net/{c.network}")
            for m in meshes
            for c in m.clusters
            for each in istiods
        }
    if isinstance(config, stack_config.LocalStack) and config.tenancy.tenants:
        return {
            name: ControlPlane(**facts, **common)
            for name, facts in tenancy_expectations.tenant_istiods(config.tenancy).items()
        }
    if isinstance(config, stack_config.ExternalControlPlaneStack):
        config_cluster, external = config.remotes[0], config.external
        return {
            # The mesh's istiod: the config cluster's name and network.
            "external-plane-istiod": ControlPlane(
                config_cluster.name, config_cluster.network, config.mesh_id, **common
            ),
            # The external cluster's own, which only runs its gateway.
            "external-plane-local-istiod": ControlPlane(external.name, **common),
            **{
                f"external-plane-{c.name}-istiod": ControlPlane(
                    injection_path=f"/inject/cluster/{c.name}/net/{c.network}"
                )
                for c in config.remotes
            },
        }
    return {f"istio-istiod{each}": ControlPlane(**common) for each in istiods}


def _config_map_entry(objects: list[dict[str, Any]], entry: str) -> str:
    """The one ConfigMap entry of that name (istiod's `mesh`, the injector's `values`)."""
    (found,) = [
        o["data"][entry] for o in objects if o["kind"] == "ConfigMap" and entry in o["data"]
    ]
    return found


def control_plane_problems(expected: ControlPlane, objects: list[dict[str, Any]]) -> list[str]:
    if expected.injection_path:
        hooks = [
            hook
            for o in objects
            if o["kind"] == "MutatingWebhookConfiguration"
            for hook in o.get("webhooks", [])
        ]
        # A URL, or the `istiod` Service that the remote profile points at the primary.
        urls = [
            hook["clientConfig"].get("url") or hook["clientConfig"]["service"]["path"]
            for hook in hooks
        ]
        wrong = [u for u in urls if not u.endswith(expected.injection_path)]
        return [f"webhooks {wrong or 'none'} do not call {expected.injection_path}"] * bool(
            wrong or not urls
        )
    mesh = yaml.safe_load(_config_map_entry(objects, "mesh"))
    injector = json.loads(_config_map_entry(objects, "values"))
    (istiod,) = [o for o in objects if o["kind"] == "Deployment"]
    env = {
        e["name"]: e.get("value")
        for e in istiod["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    facts = {
        "access log": mesh.get("accessLogFile") == "/dev/stdout",
        "outbound policy": mesh.get("outboundTrafficPolicy", {}).get("mode", "ALLOW_ANY"),
        # One trust domain for every cluster that shares a root of trust.
        "trust domain": mesh.get("trustDomain"),
        "imported roots": tuple(
            d for entry in mesh.get("caCertificates", []) for d in entry.get("trustDomains", ())
        ),
        "cluster-local hosts": tuple(
            sorted(
                host
                for entry in mesh.get("serviceSettings", [])
                if entry.get("settings", {}).get("clusterLocal")
                for host in entry.get("hosts", [])
            )
        ),
        "mesh ID": mesh.get("defaultConfig", {}).get("meshId"),
        "cluster name": env.get("CLUSTER_ID"),
        "network": injector["global"].get("network"),
        "ambient": env.get("PILOT_ENABLE_AMBIENT") == "true",
        "export to": tuple(
            (mesh.get(f"default{kind}ExportTo") or ["*"])[0]
            for kind in ("Service", "VirtualService", "DestinationRule")
        ),
        "discovery selectors": tuple(mesh["discoverySelectors"])
        if mesh.get("discoverySelectors")
        else None,
        "multi-root": (
            env.get("ISTIO_MULTIROOT_MESH"),
            mesh.get("defaultConfig", {}).get("proxyMetadata", {}).get("PROXY_CONFIG_XDS_AGENT"),
        ),
    }
    wanted = {
        "access log": expected.access_log,
        "outbound policy": expected.outbound,
        "trust domain": expected.trust_domain,
        "export to": expected.export_to or ("*", "*", "*"),
        "discovery selectors": expected.discovery_selectors,
        "imported roots": expected.imported,
        "cluster-local hosts": expected.cluster_local,
        "mesh ID": expected.mesh_id,
        # Istio's own default when no cluster name is set.
        "cluster name": expected.cluster_name or "Kubernetes",
        "network": expected.network if expected.network is not None else facts["network"],
        "ambient": expected.ambient,
        "multi-root": ("true", "true") if expected.multi_root else (None, None),
    }
    return [
        f"{fact}: rendered {facts[fact]!r}, the stack means {wanted[fact]!r}"
        for fact in facts
        if facts[fact] != wanted[fact]
    ]


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "overrides"), params())
def test_every_release_renders_schema_valid_objects(engine, helm, stack, overrides):
    releases = helm_releases(engine.run(stack, overrides))
    assert bool(releases) == installs_istio_charts(stack, overrides)
    problems: dict[str, list[str]] = {}
    for resource, release in releases:
        for kubernetes in SUPPORTED:
            where = f"{resource.name} (Kubernetes {kubernetes})"
            try:
                objects = rendered(release, kubernetes)
            except charts.RenderError as refused:
                problems[where] = [str(refused)]
                continue
            assert objects, where
            errors = [
                f"{o['kind']} {o['metadata']['name']}: {error}"
                for o in objects
                for error in kubernetes_errors(o, kubernetes)
            ]
            if errors:
                problems[where] = errors
    assert problems == {}


@pytest.mark.parametrize(("stack", "overrides"), params())
def test_no_values_key_is_ignored(engine, helm, stack, overrides):
    problems: dict[str, dict[str, list[str]]] = {}
    for resource, release in helm_releases(engine.run(stack, overrides)):
        rendered(release)  # the chart source is there, or the reason why not
        usage = _usage(_key(release))
        assert len(usage) == len(list(leaves(release.values)))
        ignored = [dotted(p) for p, how in usage.items() if how == "ignored"]
        unread = unread_runtime_keys(release, usage)
        if ignored or unread:
            problems[resource.name] = {"ignored": ignored, "not read at run time": unread}
    assert problems == {}


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [p for p in params() if installs_istio_charts(*p.values)],
)
def test_rendered_control_planes_say_what_the_stack_means(engine, helm, stack, overrides):
    istiods = {
        resource.name: release
        for resource, release in helm_releases(engine.run(stack, overrides))
        if release.chart == "istiod"
    }
    expected = expected_control_planes(typed_config(stack, overrides))
    assert set(istiods) == set(expected)
    problems = {
        name: control_plane_problems(expected[name], rendered(release))
        for name, release in istiods.items()
    }
    assert {name: p for name, p in problems.items() if p} == {}


def _pod_labels(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        o["spec"]["template"]["metadata"].get("labels", {})
        for o in objects
        if o["kind"] == "Deployment"
    ]


def _service_ports(objects: list[dict[str, Any]]) -> set[int]:
    return {p["port"] for o in objects if o["kind"] == "Service" for p in o["spec"]["ports"]}


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [p for p in params() if installs_istio_charts(*p.values)],
)
def test_istio_gateways_select_rendered_gateway_pods_and_ports(engine, helm, stack, overrides):
    declared = engine.run(stack, overrides)
    gateways_by_cluster: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
    for resource, release in helm_releases(declared):
        if release.chart == "gateway":
            gateways_by_cluster[resource.provider_urn].append(rendered(release))
    checked, problems = 0, []
    for gateway in declared.of_type(ISTIO_GATEWAY):
        releases = gateways_by_cluster[gateway.provider_urn]
        selector = gateway.inputs["spec"]["selector"]
        ports = {s["port"]["number"] for s in gateway.inputs["spec"]["servers"]}
        serving = [
            objects
            for objects in releases
            if any(selector.items() <= labels.items() for labels in _pod_labels(objects))
        ]
        checked += 1
        if len(serving) != 1:
            problems.append(f"{gateway.name}: {len(serving)} gateway releases match {selector}")
        elif not ports <= (served := _service_ports(serving[0])):
            problems.append(f"{gateway.name}: ports {sorted(ports)} not all on {sorted(served)}")
    # Istio's Gateway objects need a gateway release; with Gateway API ingress there is none.
    uses_istio_gateways = typed_config(stack, overrides).istio.ingress == "istio"
    assert problems == [] and (checked or not uses_istio_gateways)


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [p for p in params() if installs_istio_charts(*p.values)],
)
def test_eastwest_gateways_expose_the_multicluster_ports_on_their_network(
    engine, helm, stack, overrides
):
    declared = engine.run(stack, overrides)
    expected = expected_control_planes(typed_config(stack, overrides))
    releases = helm_releases(declared)
    network_of = {
        resource.provider_urn: expected[resource.name].network
        for resource, release in releases
        if release.chart == "istiod"
    }
    eastwest = [(r, rel) for r, rel in releases if rel.name == EASTWEST_RELEASE]
    for resource, release in eastwest:
        objects = rendered(release)
        (service,) = [o for o in objects if o["kind"] == "Service"]
        assert _service_ports(objects) >= EASTWEST_PORTS, resource.name
        network = network_of[resource.provider_urn]
        if network:
            assert service["metadata"]["labels"].get(NETWORK_LABEL) == network, resource.name
            assert all(labels.get(NETWORK_LABEL) == network for labels in _pod_labels(objects))
    uses_eastwest = stack in ("vm", "multi-primary", "primary-remote")
    assert bool(eastwest) == uses_eastwest


def _admitted_ports(policy: dict[str, Any]) -> set[int] | None:
    """The pod ports a NetworkPolicy's ingress rules admit; None: every port (a rule with no
    ports, Kubernetes' NetworkPolicyIngressRule)."""
    admitted: set[int] = set()
    for rule in policy["spec"].get("ingress", []):
        if not rule.get("ports"):
            return None
        admitted |= {p["port"] for p in rule["ports"]}
    return admitted


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [p for p in params() if installs_istio_charts(*p.values)],
)
def test_gateway_network_policies_admit_every_port_of_their_service(engine, helm, stack, overrides):
    """Each gateway chart release: its NetworkPolicy (templates/networkpolicy.yaml, built from
    `service.ports`) admits every target port of its Service (templates/service.yaml, built from
    `networkGatewayPorts` when `networkGateway` is set), as rendered by the real Helm."""
    policies_on = typed_config(stack, overrides).security.network_policies
    problems = []
    for resource, release in helm_releases(engine.run(stack, overrides)):
        if release.chart != "gateway":
            continue
        objects = rendered(release)
        policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
        if len(policies) != int(policies_on):
            problems.append(f"{resource.name}: {len(policies)} NetworkPolicies")
            continue
        served = {
            p.get("targetPort", p["port"])
            for o in objects
            if o["kind"] == "Service"
            for p in o["spec"]["ports"]
        }
        for policy in policies:
            admitted = _admitted_ports(policy)
            if admitted is not None and not served <= admitted:
                problems.append(
                    f"{resource.name}: Service ports {sorted(served - admitted)} not admitted "
                    f"by NetworkPolicy {policy['metadata']['name']} ({sorted(admitted)})"
                )
    # With policies on, each gateway release was checked (one NetworkPolicy each).
    assert problems == []


# --- the check itself catches what it exists for -----------------------------------------------


def _local_release(engine, chart: str) -> charts.Release:
    (release,) = [r for _, r in helm_releases(engine.run("local")) if r.name == chart]
    return release


def _with(values: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    result = json.loads(json.dumps(values))
    target = result
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return result


@pytest.mark.parametrize(
    ("release_name", "misspelt"),
    [
        # Copied into the injector's values, which no template reads under this name.
        ("istiod", ("global", "meshId")),
        # Copied into istiod's mesh config, which has no such field.
        ("istiod", ("meshConfig", "outboundTraficPolicy", "mode")),
        ("kiali-server", ("external_services", "grafana", "internal_ur")),
        ("grafana", ("grafana.ini", "auth.anonymous", "enable")),
        # Read by no template at all (the gateway schema is strict at its top level only).
        ("prometheus", ("server", "podLabel", "app")),
        ("istio-ingressgateway", ("service", "tpye")),
    ],
)
def test_a_misspelt_values_key_is_reported(engine, helm, release_name, misspelt):
    release = _local_release(engine, release_name)
    wrong = dataclasses.replace(release, values=_with(release.values, misspelt, "x"))
    rendered(wrong)
    usage = _usage(_key(wrong))
    reported = [dotted(p) for p, how in usage.items() if how == "ignored"]
    reported += unread_runtime_keys(wrong, usage)
    assert dotted(misspelt) in reported
    # …and nothing else: the stack's own keys stay clean.
    assert len(reported) == 1


def test_a_misspelt_top_level_gateway_key_is_refused_by_the_chart_schema(engine, helm):
    release = _local_release(engine, "istio-ingressgateway")
    wrong = dataclasses.replace(release, values=_with(release.values, ("servic",), {}))
    with pytest.raises(charts.RenderError, match="additional properties 'servic' not allowed"):
        rendered(wrong)
