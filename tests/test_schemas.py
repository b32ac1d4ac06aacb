"""Every object each stack declares is valid against its API schema.

Kubernetes objects: the Kubernetes OpenAPI schema in strict mode (unknown fields fail).
Istio objects: Istio's API schema (models generated from its CRDs), unknown fields included.
Gateway chart values: the chart's own strict values.schema.json (upstream reference data).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from stacks.config import SCENARIOS
from tests.schema.asm import asm_errors
from tests.schema.istio_api import istio_errors
from tests.schema.kube import kubernetes_errors
from tools.offline.engine import stack_config, stack_names

# Every stack file as it is, plus the variants that declare different kinds of objects.
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    *((stack, {}) for stack in stack_names()),
    ("two-cluster-retention", {"controlPlane": "istio"}),
    # Multi-network: the network gateway and the cross-network Gateway.
    ("vm", {"mesh": {"network": "network1"}, "vm": {"network": "vm-network"}}),
]
VARIANT_IDS = [
    "-".join([s, *(f"{k}={v}" if isinstance(v, str) else k for k, v in o.items())])
    for s, o in VARIANTS
]
ASM_API = "istio.alibabacloud.com/"


def test_every_scenario_has_a_stack_file():
    scenarios = {stack_config(s)["meshstack:scenario"] for s in stack_names()}
    assert scenarios == set(SCENARIOS)


@pytest.mark.parametrize(("stack", "overrides"), VARIANTS, ids=VARIANT_IDS)
def test_kubernetes_objects_are_schema_valid(engine, stack, overrides):
    declared = engine.run(stack, overrides)
    plain = [
        r for r in declared.kube_objects() if ".istio.io/" not in r.type and ASM_API not in r.type
    ]
    assert plain, "the stack declares no Kubernetes object"
    problems = {r.name: kubernetes_errors(r.manifest) for r in plain}
    assert {name: errs for name, errs in problems.items() if errs} == {}


@pytest.mark.parametrize(("stack", "overrides"), VARIANTS, ids=VARIANT_IDS)
def test_istio_objects_are_schema_valid(engine, stack, overrides):
    objects = engine.run(stack, overrides).istio_objects()
    assert objects, "the stack declares no Istio object"
    errors = istio_errors([r.manifest for r in objects])
    assert {objects[i].name: errs for i, errs in errors.items()} == {}


def test_asm_objects_are_schema_valid(engine):
    objects = [r for r in engine.run("two-cluster-retention").kube_objects() if ASM_API in r.type]
    assert [r.manifest["kind"] for r in objects] == ["IstioGateway"]
    assert {r.name: asm_errors(r.manifest) for r in objects} == {objects[0].name: []}


def installs_istio_charts(stack: str, overrides: dict[str, Any]) -> bool:
    """False for the managed ASM control plane: ASM runs its own gateways."""
    settings = {**stack_config(stack), **{f"meshstack:{k}": v for k, v in overrides.items()}}
    return settings.get("meshstack:controlPlane") != "asm"


CHART_VARIANTS = [v for v in VARIANTS if installs_istio_charts(*v)]


@pytest.mark.parametrize(
    ("stack", "overrides"),
    CHART_VARIANTS,
    ids=[VARIANT_IDS[VARIANTS.index(v)] for v in CHART_VARIANTS],
)
def test_gateway_chart_values_satisfy_the_chart_schema(engine, stack, overrides, istio_reference):
    schema = json.loads((istio_reference / "charts" / "gateway.values.schema.json").read_text())
    releases = [
        r
        for r in engine.run(stack, overrides).of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"].endswith("gateway")
    ]
    assert releases
    for release in releases:
        jsonschema.Draft7Validator(schema).validate(release.inputs["values"])


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


def test_istio_check_reports_typos_enums_types_and_unknown_kinds():
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
    errors = istio_errors([good, typo, enum, weight, unknown_kind])
    assert 0 not in errors
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
