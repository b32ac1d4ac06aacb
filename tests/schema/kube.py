"""Strict Kubernetes OpenAPI validation from the schemas kubernetes-validate ships.

kubernetes-validate re-reads its definitions for every object; this keeps one validator per
kind, so a whole stack validates in milliseconds.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema

# Kubernetes minor the stacks target (Istio 1.31 supports 1.32-1.36).
KUBERNETES_VERSION = "1.34.0"
_SCHEMAS = resources.files("kubernetes_validate") / "kubernetes-json-schema"


def _load(name: str) -> Any:
    return json.loads((_SCHEMAS / f"v{KUBERNETES_VERSION}-local-strict" / name).read_text())


@functools.cache
def _registry() -> referencing.Registry:
    definitions = referencing.Resource.from_contents(
        _load("_definitions.json"), default_specification=referencing.jsonschema.DRAFT7
    )
    return definitions @ referencing.Registry()


@functools.cache
def _validator(kind: str, api_version: str) -> jsonschema.Draft202012Validator:
    group_version = api_version.split("/")
    group = group_version[0].split(".")[0] if len(group_version) == 2 else ""
    version = group_version[-1]
    file_name = (
        f"{kind.lower()}-{group}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    )
    schema = _load(file_name)
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def kubernetes_errors(manifest: dict[str, Any]) -> list[str]:
    """Every schema violation of one object, as `path: message` lines (empty when valid)."""
    validator = _validator(manifest["kind"], manifest["apiVersion"])
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]
