"""Which of the values we hand a chart does the chart use? (pure; rendering is passed in)

Helm ignores a values key that no template reads, silently. A key is *used* when removing it
or changing it changes what the chart renders, or makes Helm refuse the release (a schema
or a template noticed it). Two kinds of rendered fields need care:

- debug copies: istiod writes every value it was given into the ConfigMap `values`; a change
  there proves nothing, so those fields are left out of the comparison;
- runtime configuration: fields a program reads when it runs (the sidecar injector's values,
  Kiali's config.yaml, grafana.ini, prometheus.yml). A key whose only effect is there is
  reported as `runtime`, for the caller to check against what that program reads.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

Path = tuple[str, ...]
# (kind, namespace, name, field path) → a scalar (or a whole string of a ConfigMap)
Flat = dict[tuple[str, ...], Any]
Usage = Literal["used", "runtime", "ignored"]


class Refused(Exception):
    """The renderer's way of saying Helm refused the values."""


def leaves(values: Mapping[str, Any], prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every leaf we set: a scalar, a list, or an empty mapping (lists are not entered)."""
    for key, value in values.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and value:
            yield from leaves(value, path)
        else:
            yield path, value


def without(values: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """`values` with the leaf at `path` removed (and parents it leaves empty)."""
    result = copy.deepcopy(dict(values))
    chain = [result]
    for key in path[:-1]:
        chain.append(chain[-1][key])
    del chain[-1][path[-1]]
    for depth in range(len(path) - 1, 0, -1):
        if chain[depth]:
            break
        del chain[depth - 1][path[depth - 1]]
    return result


def changed(value: Any) -> Any:
    """A different value of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return f"{value}x"
    if isinstance(value, list):
        return [*value, value[-1]] if value else ["x"]
    if isinstance(value, Mapping):
        return {**value, "x": "y"}
    return "x"


def with_changed(values: Mapping[str, Any], path: Path) -> dict[str, Any]:
    result = copy.deepcopy(dict(values))
    target = result
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = changed(target[path[-1]])
    return result


def _flatten(value: Any, prefix: tuple[str, ...], out: Flat) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, (*prefix, str(key)), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, (*prefix, f"[{index}]"), out)
    else:
        out[prefix] = value


def _parsed(text: str) -> Any:
    """A ConfigMap entry that is a YAML (or JSON) document, as data; other text as is."""
    try:
        document = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return text
    return document if isinstance(document, Mapping) else text


def flatten(objects: list[dict[str, Any]]) -> Flat:
    """Every rendered field by (kind, namespace, name, path). ConfigMap entries that are YAML
    documents are entered too, so that one random key in a config file (a signing key) does
    not hide every other key of it."""
    out: Flat = {}
    for obj in objects:
        rendered = obj
        metadata = rendered.get("metadata") or {}
        kind = rendered.get("kind", "")
        identity = (kind, metadata.get("namespace", ""), metadata.get("name", ""))
        data = rendered.get("data")
        if kind == "ConfigMap" and isinstance(data, Mapping):
            rendered = {**rendered, "data": {k: _parsed(v) for k, v in data.items()}}
        _flatten(rendered, identity, out)
    return out


def differences(before: Flat, after: Flat) -> set[tuple[str, ...]]:
    """Rendered fields that differ, less `checksum/…` annotations: charts hash other rendered
    content into them (to roll pods on a config change), so they add no effect of their own."""
    return {
        k
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k) and not k[-1].startswith("checksum/")
    }


@dataclass(frozen=True)
class FieldRule:
    """Rendered fields (kind, name prefix, field path) that are debug copies or runtime
    configuration, for one chart."""

    kind: str
    name_prefix: str
    field: tuple[str, ...]

    def covers(self, key: tuple[str, ...]) -> bool:
        kind, _, name, *field = key
        return (
            kind == self.kind
            and name.startswith(self.name_prefix)
            and tuple(field[: len(self.field)]) == self.field
        )


@dataclass(frozen=True)
class ChartFields:
    debug: tuple[FieldRule, ...] = ()
    runtime: tuple[FieldRule, ...] = ()


def classify(
    render: Callable[[Mapping[str, Any]], list[dict[str, Any]]],
    values: Mapping[str, Any],
    fields: ChartFields = ChartFields(),
    volatile: frozenset[tuple[str, ...]] = frozenset(),
) -> dict[Path, Usage]:
    """How the chart uses each leaf of `values`. `render` raises Refused when Helm refuses;
    `volatile` are rendered fields that differ between two identical renders (random
    passwords), left out like the debug copies."""
    baseline = flatten(render(values))

    def effect(variant: Mapping[str, Any]) -> Usage:
        try:
            rendered = flatten(render(variant))
        except Refused:
            return "used"
        changes = {
            k
            for k in differences(baseline, rendered) - volatile
            if not any(rule.covers(k) for rule in fields.debug)
        }
        if not changes:
            return "ignored"
        if all(any(rule.covers(k) for rule in fields.runtime) for k in changes):
            return "runtime"
        return "used"

    strength: tuple[Usage, ...] = ("ignored", "runtime", "used")
    result: dict[Path, Usage] = {}
    for path, _ in leaves(values):
        usage = effect(without(values, path))
        if usage != "used":
            other = effect(with_changed(values, path))
            usage = other if strength.index(other) > strength.index(usage) else usage
        result[path] = usage
    return result


def dotted(path: Path) -> str:
    """`global.multiCluster.clusterName`; keys with dots are quoted: `"grafana.ini".x`."""
    return ".".join(json.dumps(key) if "." in key else key for key in path)
