"""The `multi-mesh` stack (issue #33 item 2): two meshes with their own roots and trust
domains, federated through mesh-b's gateway (docs/stacks/multi-mesh.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from meshstack.istio import values as istio_values
from meshstack.istio.federation import service_entry_spec
from meshstack.verify import probe_job
from tests.conftest import rendered
from tools import charts
from tools.offline.engine import Declared, Resource
from tools.offline.fakes import FAKE_LB_IP

RELEASE = "kubernetes:helm.sh/v3:Release"
HOST = "hello-world.sample.mesh-b.federation"
GATEWAY_ID = "spiffe://mesh-b.example/ns/istio-system/sa/istio-federationgateway"


@pytest.fixture
def declared(engine) -> Declared:
    return engine.run("multi-mesh")


def on(declared: Declared, cluster: str, type_: str) -> list[Resource]:
    urn = declared.named(f"{cluster}-kubernetes").urn
    return [r for r in declared.of_type(type_) if r.provider_urn == urn]


def mesh_config(declared: Declared, cluster: str) -> dict[str, Any]:
    return declared.named(f"{cluster}-istio-istiod").inputs["values"]["meshConfig"]


def istio(declared: Declared, cluster: str, kind: str, name: str) -> dict[str, Any]:
    (found,) = [
        r.manifest
        for r in declared.istio_objects()
        if r.provider_urn == declared.named(f"{cluster}-kubernetes").urn
        and (r.manifest["kind"], r.manifest["metadata"]["name"]) == (kind, name)
    ]
    return found


def test_each_mesh_has_its_own_root_and_intermediate(declared):
    roots = {r.name for r in declared.of_type("tls:index/selfSignedCert:SelfSignedCert")}
    assert roots == {"mesh-a-ca-root-mesh-a-cert", "mesh-b-ca-root-mesh-b-cert"}
    for cluster, root in (("ack-west", "mesh-a"), ("gke-west", "mesh-b")):
        (intermediate,) = [
            r
            for r in declared.of_type("tls:index/locallySignedCert:LocallySignedCert")
            if r.name.startswith(f"{root}-ca-{cluster}-")
        ]
        assert declared.depends_on(intermediate, declared.named(f"{root}-ca-root-{root}-cert"))
    outputs = declared.outputs["meshes"]
    assert {m: o["trustDomain"] for m, o in outputs.items()} == {
        "mesh-a": "mesh-a.example",
        "mesh-b": "mesh-b.example",
    }
    assert outputs["mesh-a"]["rootCertPem"] != outputs["mesh-b"]["rootCertPem"]


def test_each_istiod_imports_the_other_root_for_the_other_trust_domain_only(declared):
    a, b = mesh_config(declared, "ack-west"), mesh_config(declared, "gke-west")
    roots = declared.outputs["meshes"]
    assert a["trustDomain"] == "mesh-a.example" and b["trustDomain"] == "mesh-b.example"
    assert a["caCertificates"] == [
        {"pem": roots["mesh-b"]["rootCertPem"], "trustDomains": ["mesh-b.example"]}
    ]
    assert b["caCertificates"] == [
        {"pem": roots["mesh-a"]["rootCertPem"], "trustDomains": ["mesh-a.example"]}
    ]
    # Without both flags the imported PEM reaches no proxy.
    for cluster in ("ack-west", "gke-west"):
        istiod = declared.named(f"{cluster}-istio-istiod").inputs["values"]
        assert istiod["pilot"]["env"]["ISTIO_MULTIROOT_MESH"] == "true"
        assert istiod["meshConfig"]["defaultConfig"]["proxyMetadata"] == {
            "PROXY_CONFIG_XDS_AGENT": "true"
        }


def test_imported_roots_without_multi_root_are_refused():
    mesh = istio_values.MeshSettings(imported_roots=({"pem": "x", "trustDomains": ["t"]},))
    with pytest.raises(ValueError, match="multi_root"):
        istio_values.istiod_values(istio_values.IstioRelease(), mesh)


def test_the_same_service_and_namespace_run_in_both_meshes(declared):
    for cluster in ("ack-west", "gke-west"):
        (service,) = [
            r.manifest["metadata"]
            for r in on(declared, cluster, "kubernetes:core/v1:Service")
            if not r.read and r.manifest["metadata"]["name"] == "hello-world"
        ]
        assert service["namespace"] == "sample"


def test_mesh_b_exposes_hello_world_in_mutual_tls_and_admits_one_account_of_mesh_a(declared):
    (release,) = [
        r
        for r in on(declared, "gke-west", RELEASE)
        if r.inputs["name"] == "istio-federationgateway"
    ]
    assert [p["port"] for p in release.inputs["values"]["service"]["ports"]] == [15021, 15443]
    gateway = istio(declared, "gke-west", "Gateway", "gke-west-federation-gateway")["spec"]
    assert gateway["servers"] == [
        {
            "port": {"number": 15443, "name": "https-federation", "protocol": "HTTPS"},
            "tls": {"mode": "ISTIO_MUTUAL"},
            "hosts": [HOST],
        }
    ]
    routes = istio(declared, "gke-west", "VirtualService", "gke-west-federation-routes")["spec"]
    assert routes["http"][0]["route"][0]["destination"] == {
        "host": "hello-world.sample.svc.cluster.local",
        "port": {"number": 80},
    }
    callers = istio(declared, "gke-west", "AuthorizationPolicy", "gke-west-federation-callers")[
        "spec"
    ]
    assert callers["action"] == "ALLOW" and callers["selector"] == {
        "matchLabels": {"istio": "federationgateway"}
    }
    assert callers["rules"] == [
        {"from": [{"source": {"principals": ["mesh-a.example/ns/sample/sa/federated-caller"]}}]}
    ]
    workload = istio(declared, "gke-west", "AuthorizationPolicy", "gke-west-federation-workload")
    assert workload["metadata"]["namespace"] == "sample"
    assert workload["spec"]["rules"] == [
        {
            "from": [
                {
                    "source": {
                        "principals": ["mesh-b.example/ns/istio-system/sa/istio-federationgateway"]
                    }
                }
            ]
        }
    ]


def test_mesh_a_reaches_the_gateway_by_its_identity(declared):
    name = "ack-west-federated-mesh-b"
    entry = istio(declared, "ack-west", "ServiceEntry", name)["spec"]
    assert entry["hosts"] == [HOST] and entry["resolution"] == "STATIC"
    assert entry["endpoints"] == [{"address": FAKE_LB_IP, "ports": {"http": 15443}}]
    assert istio(declared, "ack-west", "DestinationRule", name)["spec"] == {
        "host": HOST,
        "trafficPolicy": {
            "tls": {"mode": "ISTIO_MUTUAL", "sni": HOST, "subjectAltNames": [GATEWAY_ID]}
        },
    }
    assert declared.outputs["federation"]["gatewayIdentity"] == GATEWAY_ID
    assert declared.outputs["federation"]["gatewayAddress"] == FAKE_LB_IP


def test_a_load_balancer_host_name_is_resolved_by_dns():
    assert service_entry_spec(HOST, 80, "lb.example.com", 15443)["resolution"] == "DNS"
    assert service_entry_spec(HOST, 80, "203.0.113.7", 15443)["resolution"] == "STATIC"


def test_three_callers_in_mesh_a_prove_who_gets_in(declared):
    jobs = {
        j.manifest["metadata"]["name"]: j.manifest["spec"]["template"]
        for j in on(declared, "ack-west", "kubernetes:batch/v1:Job")
    }
    assert set(jobs) == {"federated-caller", "other-caller", "unrooted-caller"}
    proxy = {
        name: json.loads(t["metadata"]["annotations"]["proxy.istio.io/config"])["proxyMetadata"]
        for name, t in jobs.items()
    }
    assert proxy == {
        "federated-caller": {"ISTIO_META_DNS_CAPTURE": "true"},
        "other-caller": {"ISTIO_META_DNS_CAPTURE": "true"},
        # The only difference: its proxy does not take the imported root.
        "unrooted-caller": {"ISTIO_META_DNS_CAPTURE": "true", "PROXY_CONFIG_XDS_AGENT": "false"},
    }
    for name, template in jobs.items():
        assert template["spec"]["serviceAccountName"] == name
        assert template["metadata"]["labels"]["sidecar.istio.io/inject"] == "true"
        (container,) = template["spec"]["containers"]
        checks = json.loads({e["name"]: e["value"] for e in container["env"]}["CHECKS"])
        expected = {
            "federated-caller": [(200, "responder"), (200, "responder")],
            "other-caller": [(403, "denied")],
            "unrooted-caller": [(503, "untrusted")],
        }[name]
        assert [(c["classes"][0]["status"], c["classes"][0]["label"]) for c in checks] == expected
        assert checks[0]["url"] == f"http://{HOST}/hello"


def test_the_denied_and_untrusted_answers_are_told_apart(declared):
    """The callers' answer classes, as declared, against Envoy's answers: the gateway's
    403 (tests/integration/security/authz_test.go) and the 503 of a failed upstream TLS
    verification."""
    first_check = {
        j.manifest["metadata"]["name"]: json.loads(
            {
                e["name"]: e["value"]
                for e in j.manifest["spec"]["template"]["spec"]["containers"][0]["env"]
            }["CHECKS"]
        )[0]
        for j in on(declared, "ack-west", "kubernetes:batch/v1:Job")
    }
    untrusted = probe_job.Answer(
        503,
        "upstream connect error or disconnect/reset before headers. reset reason: remote "
        "connection failure, transport failure reason: TLS_error:|268435581:SSL routines:"
        "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end",
    )
    denied = probe_job.Answer(403, "RBAC: access denied")
    admitted = probe_job.Answer(200, "Hello version: gke-west, instance: hello-world-1")
    holds = {
        name: [
            probe_job.classify(answer, check["classes"]) in check["expect"]["only"]
            for answer in (admitted, denied, untrusted)
        ]
        for name, check in first_check.items()
    }
    assert holds == {
        "federated-caller": [True, False, False],
        "other-caller": [False, True, False],
        "unrooted-caller": [False, False, True],
    }


def test_the_checks_wait_for_both_meshes_and_the_way_between(declared):
    job = declared.named("ack-west-federated-caller-check-job")
    for target in (
        "gke-west-federation-release",
        "ack-west-federated-mesh-b-entry",
        "ack-west-federated-mesh-b-tls",
        "gke-west-hello-world-deployment",
        "ack-west-hello-world-deployment",
    ):
        assert declared.depends_on(job, declared.named(target)), target


def test_stack_file_is_what_the_docs_describe():
    from tools.stack_file import stack_config

    config = stack_config("multi-mesh")
    clouds = {m["name"]: {c["cloud"] for c in m["clusters"]} for m in config["meshstack:meshes"]}
    assert clouds == {"mesh-a": {"ack"}, "mesh-b": {"gke"}}
    assert yaml.safe_dump(config)


def test_the_gateway_runs_as_the_identity_mesh_a_checks(declared, helm):
    """The real Helm render of the federation gateway's release: its pods run as the service
    account whose SPIFFE ID the DestinationRule names, carry the label the Gateway and the
    AuthorizationPolicy select, and its Service serves the federation port."""
    (release,) = [
        charts.Release.of(r.inputs)
        for r in on(declared, "gke-west", RELEASE)
        if r.inputs["name"] == "istio-federationgateway"
    ]
    objects = rendered(release)
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]
    assert f"spiffe://mesh-b.example/ns/istio-system/sa/{pod['spec']['serviceAccountName']}" == (
        GATEWAY_ID
    )
    assert pod["metadata"]["labels"]["istio"] == "federationgateway"
    (service,) = [o for o in objects if o["kind"] == "Service"]
    assert {p["port"]: p["targetPort"] for p in service["spec"]["ports"]} == {
        15021: 15021,
        15443: 15443,
    }
    assert service["spec"]["type"] == "LoadBalancer"


def test_a_mesh_may_span_several_clusters(engine):
    """mesh-b over two GKE clusters: one multi-cluster mesh under mesh-b's root, whose every
    cluster may answer the federated call."""
    from tools.stack_file import stack_config

    meshes = stack_config("multi-mesh")["meshstack:meshes"]
    second = dict(
        meshes[1]["clusters"][0],
        name="gke-east",
        nodeCidr="10.128.16.0/20",
        podCidr="10.140.0.0/14",
        serviceCidr="10.136.16.0/20",
    )
    meshes = [meshes[0], {**meshes[1], "clusters": [*meshes[1]["clusters"], second]}]
    declared = engine.run("multi-mesh", {"meshes": meshes})
    assert declared.named("mesh-b-membership").type == "meshstack:istio:MeshMembership"
    assert not [r for r in declared.resources if r.name == "mesh-a-membership"]
    intermediates = {
        r.name
        for r in declared.of_type("tls:index/locallySignedCert:LocallySignedCert")
        if r.name.startswith("mesh-b-ca-")
    }
    assert intermediates == {
        "mesh-b-ca-gke-west-mesh-b-cert",
        "mesh-b-ca-gke-east-mesh-b-cert",
    }
    job = declared.named("ack-west-federated-caller-check-job")
    (container,) = job.manifest["spec"]["template"]["spec"]["containers"]
    checks = json.loads({e["name"]: e["value"] for e in container["env"]}["CHECKS"])
    assert checks[0]["expect"]["only"] == ["gke-west", "gke-east"]
    assert mesh_config(declared, "gke-east")["trustDomain"] == "mesh-b.example"
