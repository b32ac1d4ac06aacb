"""Custom resources validated against the upstream CRDs that define them.

The OpenAPI schema of each served version (`spec.versions[].schema.openAPIV3Schema`) is
checked with jsonschema, made strict the way `kubectl apply --validate=strict` is: a field
the schema does not declare is an error (the API server would prune it silently), except
under `x-kubernetes-preserve-unknown-fields`. CEL rules (`x-kubernetes-validations`) are not
evaluated. `metadata` is checked against Kubernetes' strict ObjectMeta.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.schema.kube import object_meta_errors

Key = tuple[str, str, str]  # (group, version, kind)


def _strict(schema: Any) -> Any:
    """A copy of an OpenAPI v3 schema in which objects admit only declared properties."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in strict
        and "additionalProperties" not in strict
        and not strict.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


def _documents(paths: Iterable[Path]) -> Iterable[dict[str, Any]]:
    for path in paths:
        yield from (d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d)


@functools.cache
def _validators(paths: tuple[Path, ...]) -> dict[Key, jsonschema.Draft7Validator]:
    validators: dict[Key, jsonschema.Draft7Validator] = {}
    for crd in _documents(paths):
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd["spec"]
        for version in spec["versions"]:
            if version.get("served", True):
                schema = _strict(version["schema"]["openAPIV3Schema"])
                # The API server's own part of every object (metadata: object_meta_errors).
                schema["properties"] |= {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                }
                key = (spec["group"], version["name"], spec["names"]["kind"])
                validators[key] = jsonschema.Draft7Validator(schema)
    return validators


def crd_errors(manifest: Mapping[str, Any], crd_files: Iterable[Path]) -> list[str]:
    """Every schema violation of one custom resource (empty when valid)."""
    group, _, version = manifest["apiVersion"].rpartition("/")
    validator = _validators(tuple(crd_files)).get((group, version, manifest["kind"]))
    if validator is None:
        return [f"no CRD serves {manifest['apiVersion']} {manifest['kind']}"]
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ] + object_meta_errors(manifest.get("metadata", {}))
