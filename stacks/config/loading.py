"""From Pulumi's config strings to a validated stack, or one message with every mistake.

`load` checks, in order, and reports everything it finds in one `ConfigError`:
1. the keys themselves: a namespace that misses `meshstack` by a letter (Pulumi would ignore
   the key), a dotted key written without `pulumi config set --path`, a cloud credential in
   plain text;
2. every value against the typed models (`fields` and the scenario modules), then the
   checks across fields; where a field is wrong, it is set aside and the cross-field checks
   run again on the rest, so that both kinds of mistake show at once;
3. what only the cloud knows (versions, zones: `lookups`), once the rest is valid.
Messages name the key, show the value (shortened, non-ASCII characters pointed out) and say
what is allowed, in words, not in pydantic's.
"""

from __future__ import annotations

import copy
import difflib
import json
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from stacks.config.fields import PATTERN_HELP, PROJECT, Model
from stacks.config.lookups import Catalog, resolve
from stacks.config.previous import (
    Deployed,
    StackState,
    StateUnavailable,
    settled,
    step_problems,
)
from stacks.config.stack import _STACK_ADAPTER, SCENARIO_MODELS, SCENARIOS, AnyStack

# Provider settings that are credentials: only ever `pulumi config set --secret`.
CREDENTIAL_KEYS = (
    "alicloud:accessKey",
    "alicloud:secretKey",
    "alicloud:securityToken",
    "gcp:credentials",
    "gcp:accessToken",
)
# An Alibaba key pair comes from one source (meshstack.alicloud.credentials): both or neither.
KEY_PAIR = {"alicloud:accessKey": "alicloud:secretKey", "alicloud:secretKey": "alicloud:accessKey"}
# Every refusal starts so (tools and tests recognise it).
HEADER = "Invalid stack configuration"
# Values longer than this are shortened in messages.
SHOWN_LENGTH = 60


class ConfigError(ValueError):
    """A user mistake in the stack configuration. The message is meant to be shown as is."""


def parse_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn Pulumi's `meshstack:<key>` strings into Python values.

    Pulumi hands object values over as JSON text and scalars as plain strings; other
    namespaces (provider settings such as `kubernetes:context`) are not ours and are skipped.
    """
    values, problems = _parse(raw)
    if problems:
        raise ConfigError(_message(problems))
    return values


def _parse(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    prefix = f"{PROJECT}:"
    values: dict[str, Any] = {}
    problems = []
    for full_key, value in raw.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                values[key] = json.loads(value)
            except json.JSONDecodeError as err:
                problems.append(f"{full_key}: value is not valid JSON ({err.msg})")
        else:
            values[key] = value
    return values, problems


def key_problems(raw: Mapping[str, Any], is_secret: Callable[[str], bool]) -> list[str]:
    """Mistakes in the keys, before their values are read."""
    problems = []
    for full_key in raw:
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT and _near(namespace, PROJECT):
            problems.append(
                f"{full_key}: {namespace!r} is not this project's namespace, so Pulumi hands "
                f"the key to nobody; did you mean {PROJECT}:{key}?"
            )
        if namespace == PROJECT and "." in key:
            top = key.split(".", 1)[0]
            problems.append(
                f"{full_key} is one key with a dot in its name (`pulumi config set` without "
                f"--path writes that): nest it under {PROJECT}:{top}, or set it with "
                f"`pulumi config set --path '{PROJECT}:{key}' <value>`"
            )
        if full_key in KEY_PAIR and raw.get(KEY_PAIR[full_key]) in (None, ""):
            problems.append(
                f"{full_key} is set but {KEY_PAIR[full_key]} is not: set both (as secrets) or "
                "neither (the environment's ALIBABA_CLOUD_* keys are then used)"
            )
        if full_key in CREDENTIAL_KEYS and not is_secret(full_key):
            problems.append(
                f"{full_key} is in the stack file in plain text: remove it and run "
                f"`pulumi config set --secret {full_key} <value>` (or use the environment)"
            )
    return problems


def load(
    raw: Mapping[str, Any],
    *,
    catalog: Catalog | None = None,
    is_secret: Callable[[str], bool] = lambda _key: False,
    state: StackState | None = None,
) -> AnyStack:
    """Validate a stack's configuration; raise one ConfigError listing every mistake.

    With a `catalog`, the cloud's answers are checked too and minor versions resolved; with a
    `state`, the changes from what the last `up` deployed (stacks/config/previous.py)."""
    values, problems = _parse(raw)
    problems = key_problems(raw, is_secret) + problems
    stack, found, set_aside = _validate(values)
    problems += found
    if stack is not None and catalog is not None:
        stack, cloud = resolve(stack, catalog)
        problems += [p for p in cloud if not _names_any(p, set_aside)]
    if stack is not None and state is not None:
        stack, steps = _after_last_up(stack, state)
        problems += [p for p in steps if not _names_any(p, set_aside)]
    if problems or stack is None:
        raise ConfigError(_message(problems))
    return stack


def _after_last_up(stack: AnyStack, state: StackState) -> tuple[AnyStack, list[str]]:
    """The stack with the defaults the last `up` decides, and the steps it must not skip."""
    try:
        record = state.deployed()
    except StateUnavailable as error:
        return stack, [f"could not read what this stack's last `pulumi up` deployed: {error}"]
    return settled(stack, record), step_problems(stack, Deployed.of(record))


def _validate(values: dict[str, Any]) -> tuple[AnyStack | None, list[str], set[str]]:
    """The stack (or, with wrong fields set aside, the rest of it), every problem, and the
    keys set aside."""
    try:
        return _STACK_ADAPTER.validate_python(values), [], set()
    except ValidationError as err:
        errors = err.errors(include_url=False)
        problems = [line for e in errors for line in _describe_one(e, values)]
    remaining, set_aside = copy.deepcopy(values), set()
    for error in errors:
        loc = _user_loc(error)
        if loc and _remove(remaining, loc):
            set_aside.add(_key_name(loc))
    try:
        stack = _STACK_ADAPTER.validate_python(remaining)
    except ValidationError as err:
        # Cross-field checks that could run on what is left, if they name no key set aside.
        more = [
            line
            for e in err.errors(include_url=False)
            if e["type"] == "value_error"
            for line in _describe_one(e, remaining)
            if not _names_any(line, set_aside)
        ]
        return None, problems + [m for m in more if m not in problems], set_aside
    return stack, problems, set_aside


def _names_any(line: str, keys: set[str]) -> bool:
    return any(key in line for key in keys)


def _remove(values: Any, loc: list[Any]) -> bool:
    """Delete the value at `loc` (so that its default applies); False if there is none."""
    target = values
    for part in loc[:-1]:
        try:
            target = target[part]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        del target[loc[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _message(problems: list[str]) -> str:
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return "\n".join([f"{HEADER} ({count}):", *(f"  - {p}" for p in problems)])


def _user_loc(error: Any) -> list[Any]:
    loc = [
        part
        for part in error["loc"]
        if not isinstance(part, str) or not part.startswith("function-")
    ]
    # The discriminated union puts the scenario tag first; it is not a key the user wrote.
    if loc and loc[0] in SCENARIOS:
        loc = loc[1:]
    return loc


def _describe_one(error: Any, values: Mapping[str, Any]) -> list[str]:
    """One error as the lines a user reads (a cross-field error may hold several)."""
    loc = _user_loc(error)
    key = _key_name(loc)
    kind = error["type"]
    given = error.get("input")
    if kind == "union_tag_not_found" and not loc:
        return [f"{PROJECT}:scenario is required; allowed: {', '.join(SCENARIOS)}"]
    if kind == "union_tag_invalid":
        return [
            f"{PROJECT}:scenario = {_value(values.get('scenario'))} is not a scenario; "
            f"allowed: {', '.join(SCENARIOS)}"
        ]
    if kind == "missing":
        return [f"{key} is required"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc, values)
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        return [f"{key} is not a known setting here; {hint}allowed: {', '.join(allowed)}"]
    if kind == "value_error":
        lines = str(error["msg"]).removeprefix("Value error, ").split("\n")
        return [
            line
            if not loc or line.startswith(f"{PROJECT}:")  # it names its keys itself
            else f"{key} = {_value(given)}: {line}"
            if isinstance(given, str | int | float | bool)
            else f"{key}: {line}"
            for line in lines
        ]
    return [f"{key} = {_value(given)}: {_expected(error, given)}"]


def _value(given: Any) -> str:
    """A value as a message shows it: shortened, with non-ASCII characters named."""
    if given is None:
        return "nothing"
    text = json.dumps(given, ensure_ascii=False) if isinstance(given, list | dict) else repr(given)
    if len(text) > SHOWN_LENGTH:
        text = text[: SHOWN_LENGTH - 1] + "…"
    foreign = sorted({c for c in str(given) if ord(c) > 127})
    if foreign:
        named = ", ".join(f"{c!r} ({unicodedata.name(c, f'U+{ord(c):04X}')})" for c in foreign)
        text += f" (contains the non-ASCII {named})"
    return text


def _key_name(loc: list[Any]) -> str:
    text = PROJECT + ":"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if i else "") + str(part)
    return text


# pydantic's error types, in the words of a stack file.
EXPECTED = {
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "string_type": "expected text",
    "list_type": "expected a list",
    "dict_type": "expected an object (a YAML mapping)",
    "model_type": "expected an object (a YAML mapping)",
    "model_attributes_type": "expected an object (a YAML mapping)",
}


def _expected(error: Any, given: Any) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "string_type" and isinstance(given, int | float) and not isinstance(given, bool):
        return (
            f'expected text; write it in quotes ("{given}"): YAML reads it as a number, '
            "and a version such as 1.30 would become 1.3"
        )
    if kind in EXPECTED:
        return EXPECTED[kind]
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return f"expected {PATTERN_HELP.get(pattern, 'a value matching ' + pattern)}"
    limits = {
        "greater_than_equal": f"expected at least {ctx.get('ge')}",
        "less_than_equal": f"expected at most {ctx.get('le')}",
        "too_short": f"expected at least {ctx.get('min_length')} item(s)",
        "too_long": f"expected at most {ctx.get('max_length')} item(s)",
        "string_too_short": f"expected at least {ctx.get('min_length')} character(s)",
    }
    return limits.get(kind, str(error["msg"]).removeprefix("Value error, "))


def _allowed_keys(loc: list[Any], values: Mapping[str, Any]) -> list[str]:
    """The camelCase keys the model accepts at `loc` (the parent of the unknown key)."""
    model: Any = SCENARIO_MODELS.get(str(values.get("scenario")))
    if model is None:
        return []
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return sorted(f.alias for f in model.model_fields.values() if f.alias)


def _model_of(annotation: Any) -> type[Model] | None:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _near(word: str, target: str) -> bool:
    return difflib.SequenceMatcher(None, word, target).ratio() >= 0.75
