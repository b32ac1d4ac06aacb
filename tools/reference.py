"""`make docs`: the generated reference beside the README, checked current by the tests.

    python -m tools.reference [--check]

- `docs/reference/config-<scenario>.md`: every `meshstack:` key of a scenario, from its typed
  model (stacks/config): the key path, what it accepts (the words the config's errors use),
  the default and the field's docstring.
- `docs/reference/outputs.md`: every stack output of every committed stack, from the offline
  engine: its name, whether it is secret, and its value there (fakes for what a cloud computes).
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from stacks.config import PROJECT, SCENARIO_MODELS
from stacks.config.fields import PATTERN_HELP, VALIDATOR_HELP
from tools.stack_file import REPO_ROOT, committed_stacks

REFERENCE = REPO_ROOT / "docs" / "reference"
MAX_DEFAULT = 60


@dataclass(frozen=True)
class Key:
    path: str
    accepts: str
    default: str
    meaning: str


def keys(model: type[BaseModel], prefix: str = "") -> Iterator[Key]:
    """Each leaf key of `model`, depth first in declaration order; sub-models expanded."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        nested = _model_of(field.annotation)
        if nested is not None:
            is_list = any(typing.get_origin(m) is list for m in _members(field.annotation))
            yield from keys(nested, f"{path}[]." if is_list else f"{path}.")
            continue
        if name == "scenario":
            continue
        yield Key(path, accepts(field), default(field), (field.description or "").strip())


def _members(annotation: Any) -> tuple[Any, ...]:
    """The annotation and, for an optional one, what it is when set."""
    return (annotation, *typing.get_args(annotation))


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for member in _members(annotation):
        # A list of models, maybe unset: its item.
        candidate = typing.get_args(member)[0] if typing.get_origin(member) is list else member
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def accepts(field: FieldInfo) -> str:
    words = _type_words(field.annotation, field.metadata)
    bounds = [f"≥ {m.ge}" for m in field.metadata if isinstance(m, Ge)]
    bounds += [f"≤ {m.le}" for m in field.metadata if isinstance(m, Le)]
    return f"{words} ({', '.join(bounds)})" if bounds else words


def _type_words(annotation: Any, metadata: list[Any]) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return _type_words(base, [*extra, *metadata])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        words = " or ".join(_type_words(a, metadata) for a in members)
        return f"{words}, or unset"
    if origin is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"a list of {_type_words(item, [])}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"a map of {_type_words(key, [])} → {_type_words(value, [])}"
    for item in reversed(metadata):
        pattern = getattr(item, "pattern", None)
        if pattern in PATTERN_HELP:
            return PATTERN_HELP[pattern]
        if isinstance(item, AfterValidator):
            words = VALIDATOR_HELP.get(item.func)
            if words:
                return words
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    elif isinstance(value, list):
        value = [v.model_dump(by_alias=True) if isinstance(v, BaseModel) else v for v in value]
    text = "unset" if value is None else json.dumps(value, ensure_ascii=False)
    return f"`{text if len(text) <= MAX_DEFAULT else text[: MAX_DEFAULT - 1] + '…'}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def config_page(scenario: str) -> str:
    model = SCENARIO_MODELS[scenario]
    lines = [
        f"# `{scenario}`: configuration reference",
        "",
        "Generated by `make docs` from the typed model in `stacks/config/` (do not edit). Keys go "
        f"in the stack file under `config:` as `{PROJECT}:<key>`; nested keys are YAML maps "
        f"(`{PROJECT}:istio: {{version: 1.31.0}}`) or `pulumi config set --path "
        f"'{PROJECT}:istio.version' 1.31.0`. What is checked, and how mistakes are reported: "
        "[configuration](../configuration.md).",
        "",
        f"`{PROJECT}:scenario: {scenario}` selects this model.",
        "",
        "| key | accepts | default | meaning |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{k.path}` | {_cell(k.accepts)} | {_cell(k.default)} | {_cell(k.meaning)} |"
        for k in keys(model)
    ]
    return "\n".join(lines) + "\n"


def outputs_page() -> str:
    from tools.offline.engine import OfflineEngine
    from tools.stack_file import stack_config

    lines = [
        "# Stack outputs",
        "",
        "Generated by `make docs` from the offline engine (do not edit): each committed stack's "
        "outputs, with the value it has offline. Values a cloud computes (ids, addresses) are "
        "the engine's placeholders; secrets are `[secret]` (read them with `--show-secrets`).",
        "",
    ]
    for stack in committed_stacks():
        declared = OfflineEngine(stack).run(stack)
        scenario = stack_config(stack)[f"{PROJECT}:scenario"]
        lines += [f"## `{stack}` ({scenario})", "", "| output | value |", "|---|---|"]
        for name, value in sorted(declared.outputs.items()):
            shown = "[secret]" if name in declared.secret_outputs else json.dumps(value)
            if len(shown) > 160:
                shown = shown[:159] + "…"
            lines.append(f"| `{name}` | `{_cell(shown)}` |")
        lines.append("")
    return "\n".join(lines)


def pages() -> dict[Path, str]:
    found = {REFERENCE / f"config-{s}.md": config_page(s) for s in SCENARIO_MODELS}
    found[REFERENCE / "outputs.md"] = outputs_page()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) docs/reference/.")
    parser.add_argument("--check", action="store_true", help="fail if a page is not current")
    args = parser.parse_args(argv)
    stale = []
    for path, text in pages().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(REPO_ROOT))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    if stale:
        print("not current (run `make docs`): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
