"""The `external-control-plane` stack (issue #33, item 1): its releases rendered by the real
Helm from the Istio 1.31 chart sources say Istio's external control plane model, its declared
objects wire the clusters together, and its config refuses what cannot work.

Chart facts come from the rendered output (tests/conftest.py `rendered`), not from our values:
shared/reference/charts/istiod (files/profile-remote.yaml, templates/deployment.yaml,
mutatingwebhook.yaml, validatingwebhookconfiguration.yaml, serviceaccount.yaml) and base.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from meshstack.istio import no_istiod_job
from stacks.config import ConfigError, ExternalControlPlaneStack
from tests.conftest import rendered
from tests.test_helm_releases import helm_releases
from tests.variants import typed_config
from tools.offline.engine import Declared, Resource, merged_config, to_pulumi_strings

STACK = "external-control-plane"
HOST = "istiod.mesh1.example.com"
NAMESPACE = "external-istiod"
GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService"


@pytest.fixture
def declared(engine) -> Declared:
    return engine.run(STACK)


def _release(declared: Declared, name: str) -> list[dict[str, Any]]:
    (release,) = [rel for r, rel in helm_releases(declared) if r.name == name]
    return rendered(release)


def _of(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _cluster(resource: Resource) -> str:
    """The cluster whose Kubernetes provider (`<cluster>-kubernetes`) applies it."""
    return resource.provider_urn.rsplit("::", 1)[-1].removesuffix("-kubernetes")


def _bundle(declared: Declared) -> str:
    return base64.b64encode(declared.outputs["rootCertPem"].encode()).decode()


@pytest.mark.parametrize("remote", ["gke-config", "gke-remote"])
def test_remotes_run_no_istiod_and_their_webhooks_call_the_host(engine, helm, declared, remote):
    objects = [
        *_release(declared, f"external-plane-{remote}-istiod"),
        *_release(declared, f"external-plane-{remote}-base"),
    ]
    assert _of(objects, "Deployment") == []
    (injector,) = _of(objects, "MutatingWebhookConfiguration")
    hooks = [hook["clientConfig"] for hook in injector["webhooks"]]
    assert {hook["url"] for hook in hooks} == {
        f"https://{HOST}:15017/inject/cluster/{remote}/net/network1"
    }
    assert {hook["caBundle"] for hook in hooks} == {_bundle(declared)}
    validators = {
        o["metadata"]["name"]: o["webhooks"][0]["clientConfig"]
        for o in _of(objects, "ValidatingWebhookConfiguration")
    }
    is_config = remote == "gke-config"
    # The config cluster alone holds istiod's account and the revision's validator.
    assert set(validators) == (
        {"istiod-default-validator", f"istio-validator-{NAMESPACE}"}
        if is_config
        else {"istiod-default-validator"}
    )
    assert {v["url"] for v in validators.values()} == {f"https://{HOST}:15017/validate"}
    accounts = {o["metadata"]["name"] for o in _of(objects, "ServiceAccount")}
    assert ("istiod" in accounts) == is_config


def test_external_istiod_serves_the_config_cluster_with_mounted_mesh_config(engine, helm, declared):
    objects = _release(declared, "external-plane-istiod")
    assert _of(objects, "MutatingWebhookConfiguration") == []
    assert _of(objects, "ValidatingWebhookConfiguration") == []
    (deployment,) = _of(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["EXTERNAL_ISTIOD"] == "true"
    assert env["CLUSTER_ID"] == "gke-config"
    assert env["ISTIOD_CUSTOM_HOST"] == HOST
    assert env["LOCAL_CLUSTER_SECRET_WATCHER"] == "true"
    assert env["KUBECONFIG"] == "/var/run/secrets/remote/config"
    # The webhooks it patches are the ones the config cluster's release renders.
    config_objects = _release(declared, "external-plane-gke-config-istiod")
    assert env["INJECTION_WEBHOOK_CONFIG_NAME"] in {
        o["metadata"]["name"] for o in _of(config_objects, "MutatingWebhookConfiguration")
    }
    assert env["VALIDATION_WEBHOOK_CONFIG_NAME"] in {
        o["metadata"]["name"] for o in _of(config_objects, "ValidatingWebhookConfiguration")
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert volumes["istio-kubeconfig"]["secret"]["secretName"] == "istio-kubeconfig"
    config_maps = {o["metadata"]["name"]: o for o in _of(objects, "ConfigMap")}
    # The mesh config and the injector's templates, rendered by this release, as files.
    assert mounts["config-volume"] == "/etc/istio/config"
    assert "mesh" in config_maps[volumes["config-volume"]["configMap"]["name"]]["data"]
    assert mounts["inject-volume"] == "/var/lib/istio/inject"
    assert "config" in config_maps[volumes["inject-volume"]["configMap"]["name"]]["data"]
    mesh = config_maps["istio"]["data"]["mesh"]
    assert f"discoveryAddress: {HOST}:15012" in mesh
    # HA: two instances at least, kept by a disruption budget.
    (autoscaler,) = _of(objects, "HorizontalPodAutoscaler")
    assert autoscaler["spec"]["minReplicas"] == 2
    assert _of(objects, "PodDisruptionBudget")


def test_the_gateway_passes_the_host_through_to_the_rendered_istiod(engine, helm, declared):
    istiod = _release(declared, "external-plane-istiod")
    ingress = _release(declared, "external-plane-ingress")
    (service,) = _of(istiod, "Service")
    service_host = f"{service['metadata']['name']}.{NAMESPACE}.svc.cluster.local"
    (gateway,) = declared.of_type(GATEWAY)
    (routes,) = declared.of_type(VIRTUAL_SERVICE)[:1]
    spec = gateway.inputs["spec"]
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in _of(ingress, "Deployment")]
    assert all(pod_labels[0].get(k) == v for k, v in spec["selector"].items())
    (ingress_service,) = _of(ingress, "Service")
    assert {p["port"] for p in ingress_service["spec"]["ports"]} >= {15012, 15017}
    assert {
        (s["port"]["number"], s["tls"]["mode"], tuple(s["hosts"])) for s in spec["servers"]
    } == {
        (15012, "PASSTHROUGH", (HOST,)),
        (15017, "PASSTHROUGH", (HOST,)),
    }
    served = {p["port"] for p in service["spec"]["ports"]}
    for route in routes.inputs["spec"]["tls"]:
        (destination,) = route["route"]
        assert destination["destination"]["host"] == service_host
        assert destination["destination"]["port"]["number"] in served


def test_the_clusters_are_wired_by_name_namespace_and_token(declared):
    namespaces = {
        (_cluster(r), r.inputs["metadata"]["name"]): r.inputs["metadata"]
        for r in declared.of_type("kubernetes:core/v1:Namespace")
        if r.inputs["metadata"]["name"] == NAMESPACE
    }
    annotations = {
        cluster: (meta.get("annotations") or {}).get("topology.istio.io/controlPlaneClusters")
        for (cluster, _), meta in namespaces.items()
    }
    # A further remote admits the instances, whose cluster ID is the config cluster's name.
    assert annotations == {"gke-external": None, "gke-config": None, "gke-remote": "gke-config"}
    secrets = {r.name: r for r in declared.of_type("kubernetes:core/v1:Secret")}
    token = secrets["external-plane-gke-config-istiod-token"]
    assert token.inputs["type"] == "kubernetes.io/service-account-token"
    assert token.inputs["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "istiod"
    }
    assert _cluster(token) == "gke-config"
    kubeconfig = secrets["external-plane-kubeconfig"]
    assert kubeconfig.inputs["metadata"] == {"name": "istio-kubeconfig", "namespace": NAMESPACE}
    assert _cluster(kubeconfig) == "gke-external"
    remote_secret = secrets["external-plane-membership-in-gke-external"]
    assert remote_secret.inputs["metadata"]["namespace"] == NAMESPACE
    assert remote_secret.inputs["metadata"]["labels"] == {"istio/multiCluster": "true"}
    reader = secrets["external-plane-membership-gke-remote-reader-token"]
    assert reader.inputs["metadata"]["namespace"] == NAMESPACE
    assert _cluster(reader) == "gke-remote"


def test_the_route_lives_in_the_config_cluster_only(declared):
    routes = [
        r
        for r in declared.of_type(VIRTUAL_SERVICE)
        + declared.of_type("kubernetes:networking.istio.io/v1:DestinationRule")
        if r.inputs["metadata"]["name"] == "hello-world-pinned"
    ]
    assert len(routes) == 2
    assert {_cluster(r) for r in routes} == {"gke-config"}


def _load(changes: dict[str, Any]) -> None:
    typed_config(STACK, changes)


def test_the_stack_file_is_the_model():
    config = typed_config(STACK, {})
    assert isinstance(config, ExternalControlPlaneStack)
    assert config.external.name == "gke-external"
    assert [c.name for c in config.remotes] == ["gke-config", "gke-remote"]


def test_config_refuses_what_cannot_work_in_one_message():
    clusters = merged_config(STACK, {})["meshstack:clusters"]
    changed = [
        {**clusters[0], "network": "network2"},
        {**clusters[1], "role": "external"},
        clusters[2],
    ]
    raw = to_pulumi_strings(
        merged_config(
            STACK,
            {
                "clusters": changed,
                "externalIstiod": {"host": HOST, "namespace": "istio-system", "replicas": 1},
                "istio": {"dataPlane": "ambient"},
            },
        )
    )
    from stacks import config as stack_config

    with pytest.raises(ConfigError) as refused:
        stack_config.load(raw)
    message = str(refused.value)
    for expected in (
        "clusters has 2 clusters of role external; exactly one is allowed",
        "clusters has 0 clusters of role config; exactly one is allowed",
        "clusters are on networks ['network1', 'network2']",
        "externalIstiod.replicas",
    ):
        assert expected in message, message


def test_config_refuses_a_taken_namespace_and_ambient():
    from stacks import config as stack_config

    raw = to_pulumi_strings(
        merged_config(
            STACK,
            {
                "externalIstiod": {"host": HOST, "namespace": "istio-system"},
                "istio": {"dataPlane": "ambient"},
            },
        )
    )
    with pytest.raises(ConfigError) as refused:
        stack_config.load(raw)
    message = str(refused.value)
    assert "externalIstiod.namespace = 'istio-system' is taken" in message
    assert "istio.dataPlane 'ambient' is not available here" in message


def test_config_refuses_a_host_that_is_not_a_dns_name():
    from stacks import config as stack_config

    raw = to_pulumi_strings(merged_config(STACK, {"externalIstiod": {"host": "10.0.0.1"}}))
    with pytest.raises(ConfigError, match=r"externalIstiod\.host"):
        stack_config.load(raw)


@pytest.mark.parametrize(("status", "passed"), [(404, True), (200, False), (403, False)])
def test_the_no_istiod_check_passes_only_when_istiod_is_absent(status, passed):
    assert no_istiod_job.verdict(status, NAMESPACE, "istiod")[0] is passed
