"""Observability addons: pinned charts, wired to each other, switchable, beside the mesh."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from meshstack import versions
from tools.offline.engine import Declared, Resource

RELEASE = "kubernetes:helm.sh/v3:Release"
# The pins the tests render (tests/test_helm_releases.py).
ADDON_CHARTS = {pin.chart: (pin.version, pin.repository) for pin in versions.ADDON_CHARTS}


@pytest.fixture
def local(engine) -> Declared:
    return engine.run("local")


def releases(declared: Declared) -> dict[str, Resource]:
    return {r.inputs["name"]: r for r in declared.of_type(RELEASE)}


def service(declared: Declared, name: str) -> dict:
    (found,) = [
        r.manifest
        for r in declared.of_type("kubernetes:core/v1:Service")
        if not r.read and r.manifest["metadata"]["name"] == name
    ]
    return found


def test_addon_charts_are_pinned_official_charts_in_istio_system(local):
    charts = releases(local)
    for chart, (version, repository) in ADDON_CHARTS.items():
        inputs = charts[chart].inputs
        assert (inputs["chart"], inputs["version"]) == (chart, version)
        assert inputs["repositoryOpts"]["repo"] == repository
        assert inputs["namespace"] == "istio-system"


def test_addons_install_beside_istiod_not_after_it(local):
    istiod = releases(local)["istiod"]
    namespace = local.named("istio-namespace")
    addons = [releases(local)[c] for c in ADDON_CHARTS]
    addons += [r for r in local.kube_objects() if r.name.startswith("addons-jaeger")]
    assert addons
    for addon in addons:
        assert local.depends_on(addon, namespace), addon.name
        assert not local.depends_on(addon, istiod), addon.name


def test_kiali_finds_prometheus_grafana_and_jaeger_where_they_listen(local):
    charts = releases(local)
    prometheus = charts["prometheus"].inputs["values"]["server"]
    grafana = charts["grafana"].inputs["values"]
    services = charts["kiali-server"].inputs["values"]["external_services"]

    def host_port(url: str) -> tuple[str, int]:
        parsed = urlparse(url)
        return parsed.hostname or "", parsed.port or 80

    assert host_port(services["prometheus"]["url"]) == (
        f"{prometheus['fullnameOverride']}.istio-system",
        prometheus["service"]["servicePort"],
    )
    assert services["grafana"]["enabled"] is True
    assert host_port(services["grafana"]["internal_url"]) == (
        f"{grafana['fullnameOverride']}.istio-system",
        grafana["service"]["port"],
    )
    tracing = services["tracing"]
    assert tracing["enabled"] is True and tracing["use_grpc"] is True
    host, port = host_port(tracing["internal_url"])
    ports = {p["name"]: p["port"] for p in service(local, host.split(".")[0])["spec"]["ports"]}
    assert ports["grpc-query"] == port
    # Grafana's data source is the same Prometheus.
    (source,) = grafana["datasources"]["datasources.yaml"]["datasources"]
    assert source["url"] == services["prometheus"]["url"]


def test_istio_sends_spans_to_the_jaeger_collector(local):
    mesh_config = releases(local)["istiod"].inputs["values"]["meshConfig"]
    (provider,) = mesh_config["extensionProviders"]
    collector = service(local, "jaeger-collector")
    assert provider["opentelemetry"]["service"] == (
        f"{collector['metadata']['name']}.istio-system.svc.cluster.local"
    )
    otlp = {p["name"]: p for p in collector["spec"]["ports"]}["grpc-otel"]
    assert provider["opentelemetry"]["port"] == otlp["port"]
    (telemetry,) = [r for r in local.istio_objects() if r.manifest["kind"] == "Telemetry"]
    assert telemetry.manifest["metadata"] == {"name": "mesh-default", "namespace": "istio-system"}
    (tracing,) = telemetry.manifest["spec"]["tracing"]
    assert tracing == {"providers": [{"name": provider["name"]}], "randomSamplingPercentage": 100}
    assert local.depends_on(telemetry, releases(local)["istiod"])


def test_jaeger_services_select_the_jaeger_pods_on_ports_they_open(local):
    (deployment,) = [
        r.manifest
        for r in local.of_type("kubernetes:apps/v1:Deployment")
        if r.manifest["metadata"]["name"] == "jaeger"
    ]
    template = deployment["spec"]["template"]
    assert template["metadata"]["labels"]["sidecar.istio.io/inject"] == "false"
    assert template["spec"]["containers"][0]["image"] == "docker.io/jaegertracing/jaeger:2.17.0"
    opened = {p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
    for name in ("tracing", "jaeger-collector"):
        spec = service(local, name)["spec"]
        assert spec["selector"].items() <= template["metadata"]["labels"].items()
        assert {p["targetPort"] for p in spec["ports"]} <= opened


def test_addon_pods_stay_out_of_the_mesh(local):
    charts = releases(local)
    no_sidecar = {"sidecar.istio.io/inject": "false"}
    assert charts["prometheus"].inputs["values"]["server"]["podLabels"] == no_sidecar
    assert charts["grafana"].inputs["values"]["podLabels"] == no_sidecar
    assert charts["kiali-server"].inputs["values"]["deployment"]["pod_labels"] == no_sidecar


def test_prometheus_runs_no_daemonset(local):
    # Serverless (virtual-node) clusters cannot run DaemonSets: the node exporter stays off.
    values = releases(local)["prometheus"].inputs["values"]
    assert values["prometheus-node-exporter"] == {"enabled": False}


def test_each_addon_can_be_switched_off(engine):
    declared = engine.run(
        "local",
        {"addons": {"grafana": {"enabled": False}, "jaeger": {"enabled": False}}},
    )
    charts = releases(declared)
    assert "grafana" not in charts and {"prometheus", "kiali-server"} <= set(charts)
    services = charts["kiali-server"].inputs["values"]["external_services"]
    assert services["grafana"]["enabled"] is False
    assert services["tracing"]["enabled"] is False
    assert not [r for r in declared if "jaeger" in r.name]
    assert "extensionProviders" not in charts["istiod"].inputs["values"]["meshConfig"]
    assert not [r for r in declared.istio_objects() if r.manifest["kind"] == "Telemetry"]
    assert {"kialiCommand"} == {k for k in declared.outputs if k.endswith("Command")}


def test_no_addons_at_all(engine):
    off = {"enabled": False}
    declared = engine.run(
        "local",
        {"addons": {n: off for n in ("kiali", "prometheus", "grafana", "jaeger")}},
    )
    assert set(releases(declared)) == {
        "istio-base",
        "istio-cni",
        "istiod",
        "istio-ingressgateway",
        "istio-egressgateway",
    }
