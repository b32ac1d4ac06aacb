"""The `local` stack's graph: what it declares, on which provider, in which order."""

from __future__ import annotations

import pytest
import yaml

from meshstack.apps.bookinfo_routing import routing_scenario
from tests.conftest import rendered, unavailable
from tools import charts
from tools.offline.engine import Declared, Resource
from tools.offline.fakes import FAKE_LB_IP

RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE = "kubernetes:core/v1:Service"


@pytest.fixture
def local(engine) -> Declared:
    return engine.run("local")


def release(declared: Declared, release_name: str) -> Resource:
    (found,) = [r for r in declared.of_type(RELEASE) if r.inputs["name"] == release_name]
    return found


def test_every_kubernetes_resource_uses_the_stack_provider(local):
    (provider,) = local.of_type("pulumi:providers:kubernetes")
    kube = [r for r in local if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider_urn == provider.urn for r in kube)
    assert "kubeconfig" in provider.secret_inputs


ISTIO_CHARTS = "https://blob.istio.io/istio-release/charts"


def test_istio_charts_are_pinned_and_from_the_current_repository(local):
    charts = {
        r.inputs["name"]: r.inputs
        for r in local.of_type(RELEASE)
        if r.inputs["repositoryOpts"]["repo"] == ISTIO_CHARTS
    }
    assert set(charts) == {
        "istio-base",
        "istio-cni",
        "istiod",
        "istio-ingressgateway",
        "istio-egressgateway",
    }
    for inputs in charts.values():
        assert inputs["version"] == "1.31.0"
        assert inputs["namespace"] == "istio-system"
        assert inputs["atomic"] is True
    istiod = charts["istiod"]["values"]
    assert istiod["profile"] == "demo"
    assert istiod["global"]["hub"] == "docker.io/istio" and istiod["global"]["tag"] == "1.31.0"
    # istio-cni by default (nodes run DaemonSets): the injector adds istio-validation, not
    # istio-init with NET_ADMIN and NET_RAW (istiod chart values pilot.cni.enabled).
    assert istiod["pilot"] == {"cni": {"enabled": True}}
    assert charts["istio-cni"]["values"]["global"]["networkPolicy"] == {"enabled": True}
    assert charts["istio-ingressgateway"]["values"]["service"]["type"] == "ClusterIP"
    assert charts["istio-egressgateway"]["values"]["service"]["type"] == "ClusterIP"


def test_install_order_follows_istio_helm_docs(local):
    base, istiod = release(local, "istio-base"), release(local, "istiod")
    assert local.depends_on(istiod, base)
    for gateway in ("istio-ingressgateway", "istio-egressgateway"):
        assert local.depends_on(release(local, gateway), istiod)


def test_injected_workloads_and_istio_objects_wait_for_istiod(local):
    istiod = release(local, "istiod")
    injected = [
        r
        for r in local.of_type("kubernetes:apps/v1:Deployment")
        if r.manifest["metadata"]["namespace"] == "bookinfo"
    ]
    waiting = injected + local.istio_objects()
    # 6 Deployments; gateway, VS bookinfo, 4 DestinationRules, 4 routes, PeerAuthentication,
    # the tracing Telemetry; Bookinfo's allow-nothing and its 4 services' policies.
    assert len(waiting) == 6 + 12 + 5
    assert all(local.depends_on(r, istiod) for r in waiting)


def test_no_needless_wait_for_istiod(local):
    istiod = release(local, "istiod")
    for kind in ("Service", "ServiceAccount", "Namespace"):
        for resource in local.of_type(f"kubernetes:core/v1:{kind}"):
            if not resource.read:
                assert not local.depends_on(resource, istiod), resource.name
    assert not local.depends_on(release(local, "istio-base"), istiod)


def test_bookinfo_namespace_is_injected(local):
    namespace = local.named("bookinfo-namespace").manifest
    assert namespace["metadata"] == {"name": "bookinfo", "labels": {"istio-injection": "enabled"}}


def test_revision_switches_injection_label_and_istiod_name(engine):
    declared = engine.run("local", {"istio": {"revision": "canary"}})
    labels = declared.named("bookinfo-namespace").manifest["metadata"]["labels"]
    assert labels == {"istio.io/rev": "canary"}
    assert release(declared, "istiod-canary").inputs["values"]["revision"] == "canary"


def test_bookinfo_workloads_match_upstream_shape(local):
    deployments = {
        r.manifest["metadata"]["name"]: r.manifest
        for r in local.of_type("kubernetes:apps/v1:Deployment")
        if r.manifest["metadata"]["namespace"] == "bookinfo"
    }
    assert set(deployments) == {
        "details-v1",
        "ratings-v1",
        "reviews-v1",
        "reviews-v2",
        "reviews-v3",
        "productpage-v1",
    }
    reviews = deployments["reviews-v2"]["spec"]["template"]["spec"]
    assert reviews["serviceAccountName"] == "bookinfo-reviews"
    (container,) = reviews["containers"]
    assert container["image"] == "docker.io/istio/examples-bookinfo-reviews-v2:1.20.3"
    assert container["env"] == [{"name": "LOG_DIR", "value": "/tmp/logs"}]
    assert {v["mountPath"] for v in container["volumeMounts"]} == {
        "/tmp",
        "/opt/ol/wlp/output",
        "/opt/ol/wlp/usr/servers/defaultServer/configDropins/defaults",
    }
    services = [
        r.manifest["spec"]["ports"]
        for r in local.of_type("kubernetes:core/v1:Service")
        if not r.read and r.manifest["metadata"]["namespace"] == "bookinfo"
    ]
    assert services and all(ports == [{"port": 9080, "name": "http"}] for ports in services)


def test_reviews_versions_are_a_parameter(engine):
    declared = engine.run("local", {"bookinfo": {"reviewsVersions": ["v1"], "routing": "all-v1"}})
    names = {
        r.manifest["metadata"]["name"]
        for r in declared.of_type("kubernetes:apps/v1:Deployment")
        if r.manifest["metadata"]["namespace"] == "bookinfo"
    }
    assert names == {"details-v1", "ratings-v1", "reviews-v1", "productpage-v1"}


def test_mesh_wide_mtls_is_strict_by_default(local):
    (peer,) = [r for r in local.istio_objects() if r.manifest["kind"] == "PeerAuthentication"]
    assert peer.manifest["metadata"] == {"name": "default", "namespace": "istio-system"}
    assert peer.manifest["spec"] == {"mtls": {"mode": "STRICT"}}


def test_nothing_waits_for_a_load_balancer_address_that_kind_never_gives(local, helm):
    """kind and minikube give a LoadBalancer Service no address without an add-on. Helm's wait
    (pulumi-kubernetes provider/pkg/provider/helm_release.go: `client.Wait = !SkipAwait`)
    counts such a Service as not ready (helm v3.20.2 pkg/kube/ready.go, serviceReady), so an
    atomic release would wait out its timeout and be uninstalled. By default the local stack
    makes no LoadBalancer Service at all: none declared, none rendered by its charts."""
    services = [s.manifest for s in local.of_type(SERVICE) if not s.read]
    for release in local.of_type(RELEASE):
        services += [
            o for o in rendered(charts.Release.of(release.inputs)) if o["kind"] == "Service"
        ]
    types = {s["metadata"]["name"]: s["spec"].get("type", "ClusterIP") for s in services}
    assert "istio-ingressgateway" in types and "grafana" in types
    assert "LoadBalancer" not in types.values()
    assert not [r for r in local.resources if r.read]  # no address to read back


def test_without_a_load_balancer_the_outputs_say_how_to_reach_bookinfo(local):
    assert "ingressGatewayAddress" not in local.outputs
    assert local.outputs["productpageUrl"] == (
        "kubectl -n istio-system port-forward svc/istio-ingressgateway 8080:80, "
        "then open http://localhost:8080/productpage"
    )


def test_a_node_port_gateway_says_where_its_port_is(engine):
    outputs = engine.run("local", {"istio": {"ingressServiceType": "NodePort"}}).outputs
    assert outputs["productpageUrl"].startswith(
        "kubectl -n istio-system get svc istio-ingressgateway -o jsonpath="
    )
    assert outputs["productpageUrl"].endswith(
        "port-forward svc/istio-ingressgateway 8080:80, then open http://localhost:8080/productpage"
    )


def test_a_load_balancer_when_asked_for_points_the_outputs_at_its_address(engine):
    """Docker Desktop, k3d, MetalLB: the user asks, the release waits for the address."""
    declared = engine.run("local", {"istio": {"ingressServiceType": "LoadBalancer"}})
    # The address is whatever the cloud gave the read-back Service; the URL is built from it.
    assert declared.outputs["ingressGatewayAddress"] == FAKE_LB_IP
    assert declared.outputs["productpageUrl"] == f"http://{FAKE_LB_IP}/productpage"


def test_bookinfo_gateway_uses_the_helm_gateway_port_and_selector(local):
    (gateway,) = [r for r in local.istio_objects() if r.manifest["kind"] == "Gateway"]
    assert gateway.manifest["spec"]["selector"] == {"istio": "ingressgateway"}
    assert gateway.manifest["spec"]["servers"][0]["port"]["number"] == 80


UPSTREAM = {
    "all-v1": ["virtual-service-all-v1.yaml"],
    "jason-v2": ["virtual-service-all-v1.yaml", "virtual-service-reviews-test-v2.yaml"],
    "reviews-80-20": ["virtual-service-all-v1.yaml", "virtual-service-reviews-80-20.yaml"],
    "reviews-50-v3": ["virtual-service-all-v1.yaml", "virtual-service-reviews-50-v3.yaml"],
    "reviews-v3": ["virtual-service-all-v1.yaml", "virtual-service-reviews-v3.yaml"],
    "ratings-delay": [
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-test-v2.yaml",
        "virtual-service-ratings-test-delay.yaml",
    ],
    "ratings-abort": [
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-test-v2.yaml",
        "virtual-service-ratings-test-abort.yaml",
    ],
}


@pytest.mark.parametrize("scenario", sorted(UPSTREAM))
def test_routing_scenarios_equal_upstream_samples(scenario, istio_reference):
    expected = {}
    for file_name in UPSTREAM[scenario]:  # later files replace earlier ones, as kubectl apply does
        text = (istio_reference / "bookinfo" / "networking" / file_name).read_text()
        for document in yaml.safe_load_all(text):
            if document and document["kind"] == "VirtualService":
                expected[document["metadata"]["name"]] = document["spec"]
    assert routing_scenario(scenario) == expected


def test_gateway_virtual_service_and_rules_equal_upstream(local, istio_reference):
    networking = istio_reference / "bookinfo" / "networking"
    upstream = {
        (d["kind"], d["metadata"]["name"]): d["spec"]
        for f in ("bookinfo-gateway.yaml", "destination-rule-all.yaml")
        for d in yaml.safe_load_all((networking / f).read_text())
        if d
    }
    # The Helm gateway chart listens on 80, istioctl's gateway on 8080 (the sample's port).
    upstream[("Gateway", "bookinfo-gateway")]["servers"][0]["port"]["number"] = 80
    declared = {
        (r.manifest["kind"], r.manifest["metadata"]["name"]): r.manifest["spec"]
        for r in local.istio_objects()
    }
    for key, spec in upstream.items():
        assert declared[key] == spec, key


def test_charts_from_a_local_directory_are_installed_and_rendered_from_it(engine):
    """istio.chartRepository / addons.*.repository `file:///<dir>` (what `make charts` pulls):
    every release names its folder as the chart, with no repository, and Helm renders it."""
    directory = charts.charts_dir()
    if not (directory / "istiod" / "Chart.yaml").is_file():
        unavailable(f"no chart sources in {directory}: run `make charts`")
    local = f"file://{directory}"
    addon = {"repository": local}
    declared = engine.run(
        "local",
        {
            "istio": {"chartRepository": local},
            "addons": {"kiali": addon, "prometheus": addon, "grafana": addon},
        },
    )
    releases = declared.of_type(RELEASE)
    assert len(releases) == 8
    for resource in releases:
        assert "repositoryOpts" not in resource.inputs
        assert resource.inputs["chart"].startswith(f"{directory}/")
    assert rendered(charts.Release.of(release(declared, "istiod").inputs))
