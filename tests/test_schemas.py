"""Every object each stack declares is valid against its API schema.

Kubernetes objects: the Kubernetes OpenAPI schema in strict mode (unknown fields fail), for
the lowest and the highest Kubernetes the stacks support.
Istio objects: the CRDs of the pinned Istio release (its `base` chart's crd-all.gen.yaml),
strict. (Chart values are checked by rendering: tests/test_helm_releases.py.)
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from stacks.config import SCENARIOS
from tests.schema.asm import asm_errors
from tests.schema.crd import crd_errors
from tests.schema.kube import SUPPORTED, kubernetes_errors
from tests.variants import params
from tools.stack_file import committed_stacks, stack_config

ASM_API = "istio.alibabacloud.com/"


def test_every_scenario_has_a_stack_file():
    scenarios = {stack_config(s)["meshstack:scenario"] for s in committed_stacks()}
    assert scenarios == set(SCENARIOS)


@pytest.mark.parametrize(("stack", "overrides"), params())
def test_kubernetes_objects_are_schema_valid(engine, stack, overrides):
    declared = engine.run(stack, overrides)
    plain = [
        r
        for r in declared.kube_objects()
        if ".istio.io/" not in r.type
        and ASM_API not in r.type
        and r not in declared.gateway_api_objects()
    ]
    assert plain, "the stack declares no Kubernetes object"
    problems = {
        f"{r.name} (Kubernetes {kubernetes})": kubernetes_errors(r.manifest, kubernetes)
        for r in plain
        for kubernetes in SUPPORTED
    }
    assert {name: errs for name, errs in problems.items() if errs} == {}


@pytest.mark.parametrize(("stack", "overrides"), params())
def test_istio_objects_are_schema_valid(engine, istio_crds, stack, overrides):
    objects = engine.run(stack, overrides).istio_objects()
    assert objects, "the stack declares no Istio object"
    problems = {r.name: crd_errors(r.manifest, istio_crds) for r in objects}
    assert {name: errs for name, errs in problems.items() if errs} == {}


@pytest.mark.parametrize(("stack", "overrides"), params())
def test_gateway_api_objects_are_schema_valid(engine, gateway_api_crds, stack, overrides):
    """Against the CRDs of the Gateway API release Istio builds against (v1.6.0, strict)."""
    objects = engine.run(stack, overrides).gateway_api_objects()
    problems = {r.name: crd_errors(r.manifest, gateway_api_crds) for r in objects}
    assert {name: errs for name, errs in problems.items() if errs} == {}


def test_gateway_api_check_reports_typos(gateway_api_crds: list[Path]):
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "reviews"},
        "spec": {"parentRefs": [{"name": "reviews", "kind": "Service", "group": ""}]},
    }
    assert crd_errors(route, gateway_api_crds) == []
    route["spec"]["rules"] = [{"backendRef": [{"name": "reviews-v1", "port": 9080}]}]
    assert any("backendRef" in e for e in crd_errors(route, gateway_api_crds))


def test_asm_objects_are_schema_valid(engine):
    objects = [r for r in engine.run("two-cluster-retention").kube_objects() if ASM_API in r.type]
    assert [r.manifest["kind"] for r in objects] == ["IstioGateway"]
    assert {r.name: asm_errors(r.manifest) for r in objects} == {objects[0].name: []}


# The validators themselves must catch the mistakes they exist for.


def test_kubernetes_check_reports_unknown_fields_and_wrong_types():
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "replicass": 1,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "spec": {"containers": [{"name": "x", "ports": [{"containerPort": "80"}]}]}
            },
        },
    }
    errors = "\n".join(kubernetes_errors(deployment))
    assert "'replicass' was unexpected" in errors
    assert "containerPort" in errors or "'80' is not of type" in errors


def test_istio_check_reports_typos_enums_types_and_unknown_kinds(istio_crds: list[Path]):
    good = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "reviews"},
        "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]},
    }
    typo = copy.deepcopy(good)
    typo["spec"]["subsett"] = typo["spec"].pop("subsets")
    enum = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default"},
        "spec": {"mtls": {"mode": "STRCT"}},
    }
    weight = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "r"},
        "spec": {
            "hosts": ["r"],
            "http": [{"route": [{"destination": {"host": "r"}, "weight": "50"}]}],
        },
    }
    unknown_kind = {**good, "kind": "DestinationRules"}
    errors = [crd_errors(o, istio_crds) for o in (good, typo, enum, weight, unknown_kind)]
    assert errors[0] == []
    assert any("subsett" in e for e in errors[1])
    assert any("STRCT" in e for e in errors[2])
    assert any("weight" in e for e in errors[3])
    assert any("DestinationRules" in e for e in errors[4])


def test_asm_check_reports_unknown_fields_and_bad_values():
    gateway = {
        "apiVersion": "istio.alibabacloud.com/v1beta1",
        "kind": "IstioGateway",
        "metadata": {"name": "ingressgateway", "namespace": "default"},
        "spec": {
            "gatewayType": "ingres",
            "clusterIds": ["c1"],
            "ports": [{"name": "http2", "port": "80"}],
            "serviceAnnotation": {},
        },
    }
    errors = "\n".join(asm_errors(gateway))
    assert "'istio-system' was expected" in errors
    assert "'ingres' is not one of" in errors
    assert "'80' is not of type 'integer'" in errors
    assert "'serviceAnnotation' was unexpected" in errors
