"""From Pulumi's config strings to a validated stack, or one message with every mistake."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from stacks.config.fields import (
    PATTERN_HELP,
    PROJECT,
    Model,
)
from stacks.config.stack import _STACK_ADAPTER, SCENARIO_MODELS, SCENARIOS, AnyStack


class ConfigError(ValueError):
    """A user mistake in the stack configuration. The message is meant to be shown as is."""


def parse_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn Pulumi's `meshstack:<key>` strings into Python values.

    Pulumi hands object values over as JSON text and scalars as plain strings; other
    namespaces (provider settings such as `kubernetes:context`) are not ours and are skipped.
    """
    prefix = f"{PROJECT}:"
    values: dict[str, Any] = {}
    for full_key, value in raw.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                values[key] = json.loads(value)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{full_key}: value is not valid JSON ({err.msg})") from None
        else:
            values[key] = value
    return values


def load(raw: Mapping[str, Any]) -> AnyStack:
    """Validate a stack's configuration; raise one ConfigError listing every mistake."""
    values = parse_raw(raw)
    try:
        stack = _STACK_ADAPTER.validate_python(values)
    except ValidationError as err:
        raise ConfigError(_describe(err, values)) from None
    return stack


def _describe(err: ValidationError, values: Mapping[str, Any]) -> str:
    lines = [_describe_one(e, values) for e in err.errors(include_url=False)]
    header = "Invalid stack configuration" + (
        " (1 problem):" if len(lines) == 1 else f" ({len(lines)} problems):"
    )
    return "\n".join([header, *(f"  - {line}" for line in lines)])


def _describe_one(error: Any, values: Mapping[str, Any]) -> str:
    loc = [
        part
        for part in error["loc"]
        if not isinstance(part, str) or not part.startswith("function-")
    ]
    # The discriminated union puts the scenario tag first; it is not a key the user wrote.
    if loc and loc[0] in SCENARIOS:
        loc = loc[1:]
    key = _key_name(loc)
    kind = error["type"]
    given = error.get("input")
    if kind == "union_tag_not_found" and not loc:
        return f"{PROJECT}:scenario is required; allowed: {', '.join(SCENARIOS)}"
    if kind == "union_tag_invalid":
        return (
            f"{PROJECT}:scenario = {values.get('scenario')!r} is not a scenario; "
            f"allowed: {', '.join(SCENARIOS)}"
        )
    if kind == "missing":
        return f"{key} is required"
    if kind == "extra_forbidden":
        return f"{key} is not a known setting here; allowed: {_allowed_keys(loc, values)}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        if not loc or message.startswith(f"{PROJECT}:"):  # it names its keys itself
            return message
        if isinstance(given, (str, int, float, bool)):
            return f"{key} = {given!r}: {message}"
        return f"{key}: {message}"
    expected = _expected(error)
    return f"{key} = {given!r}: {expected}"


def _key_name(loc: list[Any]) -> str:
    text = PROJECT + ":"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if i else "") + str(part)
    return text


def _expected(error: Any) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] == "literal_error":
        return f"expected one of {ctx.get('expected')}"
    if error["type"] == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return f"expected {PATTERN_HELP.get(pattern, 'a value matching ' + pattern)}"
    if error["type"] in ("dict_type", "model_type", "model_attributes_type"):
        return "expected an object (a YAML mapping)"
    return str(error["msg"]).removeprefix("Value error, ")


def _allowed_keys(loc: list[Any], values: Mapping[str, Any]) -> str:
    """The camelCase keys the model accepts at `loc` (the parent of the unknown key)."""
    model: Any = SCENARIO_MODELS.get(str(values.get("scenario")))
    if model is None:
        return "(unknown)"
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return "(unknown)"
        model = _model_of(field.annotation)
        if model is None:
            return "(unknown)"
    return ", ".join(sorted(f.alias for f in model.model_fields.values() if f.alias))


def _model_of(annotation: Any) -> type[Model] | None:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
