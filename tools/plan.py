"""The offline plan: what a stack's program declares, as one sorted, readable file per stack.

    python -m tools.plan [STACK ...] [--out plans] [--check]

Runs each stack's program under the offline engine (Pulumi mocks, no cloud, no CLI) and writes
`plans/<stack>.yaml`: every resource with its type, name, parent, provider, dependencies,
resource options (those set) and inputs (Kubernetes objects as the manifests they apply), the
data sources it reads, and the stack outputs. Secrets are redacted. Two runs give
byte-identical files, so a pull request's diff of `plans/` shows reviewers exactly what a
change declares, without credentials.

It is not a cloud preview: what the cloud computes (ids, addresses, endpoints, the versions it
offers) is a placeholder from `tools/offline/fakes.py`, and nothing is compared with live state.
`--check` writes nothing and fails when a committed plan is out of date.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from stacks.config import ConfigError
from tools.offline.engine import Declared, Resource, run_stack
from tools.stack_file import REPO_ROOT, StackFileError, selected_stacks, stack_names

PLANS_DIR = REPO_ROOT / "plans"
REDACTED = "[secret]"

HEADER = """\
# Offline plan of stack `{stack}`: NOT a cloud preview.
# Written by `make plan` (tools/plan.py) from stacks/Pulumi.{stack}.yaml under Pulumi mocks.
# Values the cloud computes (ids, addresses, endpoints, offered versions) are placeholders
# from tools/offline/fakes.py; secrets are shown as "{redacted}". Do not edit: regenerate.
"""


def redact(value: Any, secret_paths: Iterable[str]) -> Any:
    """`value` with every dotted path in `secret_paths` (as the engine records them, e.g.
    `stringData.token`, `values.a[0].b`) replaced by a placeholder."""
    secret = set(secret_paths)

    def walk(item: Any, path: str) -> Any:
        if path in secret:
            return REDACTED
        if isinstance(item, dict):
            return {k: walk(v, f"{path}.{k}" if path else k) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(item)]
        return item

    return walk(value, "")


class _References:
    """Short, unambiguous names for resources: the resource name, or `name (type)` when two
    resources of the stack share a name."""

    def __init__(self, declared: Declared) -> None:
        counts = Counter(r.name for r in declared)
        self._by_urn = {
            r.urn: r.name if counts[r.name] == 1 else f"{r.name} ({r.type})" for r in declared
        }

    def __call__(self, urn: str) -> str:
        return self._by_urn.get(urn, "stack")


def canonical(value: Any) -> Any:
    """`value` with every mapping's keys sorted, so the file does not depend on the order the
    program (or protobuf) produced them."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def _camel(snake: str) -> str:
    first, *rest = snake.split("_")
    return first + "".join(word.title() for word in rest)


def _resource_entry(resource: Resource, ref: _References) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": resource.type, "name": resource.name}
    if resource.read:
        entry["read"] = resource.inputs["id"]
    parent = ref(resource.parent)
    if parent != "stack":
        entry["parent"] = parent
    if resource.provider:
        entry["provider"] = ref(resource.provider_urn)
    if resource.dependencies:
        entry["dependsOn"] = sorted({ref(u) for u in resource.dependencies})
    options = {
        _camel(key): list(value) if isinstance(value, tuple) else value
        for key, value in asdict(resource.options).items()
        if value not in (None, False, 0, "", ())
    }
    if options:
        entry["options"] = canonical(options)
    if resource.inputs and not resource.read:
        entry["inputs"] = canonical(redact(resource.inputs, resource.secret_inputs))
    return entry


def plan_document(stack: str, declared: Declared) -> str:
    """The plan file's text for one evaluated stack."""
    ref = _References(declared)
    resources = sorted(declared, key=lambda r: (r.type, r.name, r.urn))
    document = {
        "stack": stack,
        "resourceCount": len(declared.created),
        "resources": [_resource_entry(r, ref) for r in resources],
        "dataSources": sorted(
            (
                {"function": i.token, "provider": ref(i.provider_urn), "args": canonical(i.args)}
                for i in declared.invokes
            ),
            key=lambda d: yaml.safe_dump(d, sort_keys=True),
        ),
        "outputs": canonical(
            {
                key: REDACTED if key in declared.secret_outputs else value
                for key, value in declared.outputs.items()
            }
        ),
    }
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=100)
    return HEADER.format(stack=stack, redacted=REDACTED) + body


def plan(stack: str) -> str:
    return plan_document(stack, run_stack(stack))


def synced(path: Path, text: str, *, check: bool) -> bool:
    """Writes a generated file; with `check`, writes nothing and says whether it is current."""
    if check:
        return path.is_file() and path.read_text() == text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the offline plan of each stack.")
    parser.add_argument("stacks", nargs="*", help=f"default: all ({', '.join(stack_names())})")
    parser.add_argument("--out", type=Path, default=PLANS_DIR, help="directory (default plans/)")
    parser.add_argument("--check", action="store_true", help="fail if a plan file is stale")
    args = parser.parse_args(argv)

    stale = []
    for stack in selected_stacks(parser, args.stacks):
        path = args.out / f"{stack}.yaml"
        try:
            text = plan(stack)
        except (ConfigError, StackFileError) as err:
            # What `pulumi up` would say, without a traceback around it.
            print(f"{stack}: {err}", file=sys.stderr)
            return 1
        if not synced(path, text, check=args.check):
            stale.append(path)
        elif not args.check:
            print(f"wrote {path} (offline plan, not a cloud preview)")
    for path in stale:
        print(f"stale: {path}: run `make plan` and commit the result", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
