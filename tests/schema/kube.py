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

from meshstack.versions import ISTIO_SUPPORTS_KUBERNETES

# The Kubernetes minors the stacks support: every Istio minor's range (Istio 1.31: 1.32-1.36).
_MINORS = [minor for bounds in ISTIO_SUPPORTS_KUBERNETES.values() for minor in bounds]
LOWEST, HIGHEST = f"1.{min(_MINORS)}.0", f"1.{max(_MINORS)}.0"
SUPPORTED = (LOWEST, HIGHEST)
_SCHEMAS = resources.files("kubernetes_validate") / "kubernetes-json-schema"


def _load(kubernetes: str, name: str) -> Any:
    return json.loads((_SCHEMAS / f"v{kubernetes}-local-strict" / name).read_text())


@functools.cache
def _registry(kubernetes: str) -> referencing.Registry:
    definitions = referencing.Resource.from_contents(
        _load(kubernetes, "_definitions.json"), default_specification=referencing.jsonschema.DRAFT7
    )
    return definitions @ referencing.Registry()


@functools.cache
def _validator(
    kind: str, api_version: str, kubernetes: str
) -> jsonschema.Draft202012Validator | None:
    group_version = api_version.split("/")
    group = group_version[0].split(".")[0] if len(group_version) == 2 else ""
    version = group_version[-1]
    file_name = (
        f"{kind.lower()}-{group}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    )
    try:
        schema = _load(kubernetes, file_name)
    except FileNotFoundError:
        return None
    return jsonschema.Draft202012Validator(schema, registry=_registry(kubernetes))


def _errors(validator: jsonschema.Validator, value: Any, prefix: str = "") -> list[str]:
    return [
        f"{prefix}{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(value)
    ]


def kubernetes_errors(manifest: dict[str, Any], kubernetes: str = LOWEST) -> list[str]:
    """Every schema violation of one object, as `path: message` lines (empty when valid),
    against the strict schema of Kubernetes `kubernetes` (e.g. "1.32.0")."""
    validator = _validator(manifest["kind"], manifest["apiVersion"], kubernetes)
    if validator is None:
        return [f"Kubernetes {kubernetes} serves no {manifest['apiVersion']} {manifest['kind']}"]
    return _errors(validator, manifest)


def object_meta_errors(metadata: dict[str, Any], kubernetes: str = LOWEST) -> list[str]:
    """Violations of the `metadata` of any object (a custom resource's included)."""
    validator = _validator("ObjectMeta", "meta.k8s.io/v1", kubernetes)
    assert validator is not None
    return _errors(validator, metadata, "metadata.")
