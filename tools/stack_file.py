"""The stack files (stacks/Pulumi.<stack>.yaml): which exist, and their `config:` block.

    python -m tools.stack_file scenario STACK    # what scripts/up.sh asks
    python -m tools.stack_file clouds STACK
    python -m tools.stack_file check STACK       # the typed config, as `pulumi up` checks it

A file that is not YAML of Pulumi's shape is a StackFileError naming the file and the line.
`check` needs only PyYAML, pydantic and the package's pure modules (no Pulumi SDK, no cloud):
scripts/up.sh runs it before it installs anything else.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
STACKS_DIR = REPO_ROOT / "stacks"
PROJECT = "meshstack"
CLOUDS = {
    "single-cluster": "alibaba",
    "two-cluster-retention": "alibaba",
    "vm": "gcp",
    "external-control-plane": "gcp",
}
CLUSTER_CLOUDS = {"ack": "alibaba", "gke": "gcp"}


class StackFileError(ValueError):
    """A stack file that is not YAML of Pulumi's shape; the message says where."""


def stack_names() -> list[str]:
    """Every stack file here, the user's own copies included."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS_DIR.glob("Pulumi.*.yaml"))


def committed_stacks() -> list[str]:
    """The stack files the repository holds (what its tests, plans and workflows cover); a
    copy a user made for another instance is not one of them. All files outside git."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "Pulumi.*.yaml"],
            cwd=STACKS_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return stack_names()
    return sorted(name[len("Pulumi.") : -len(".yaml")] for name in listed) or stack_names()


def selected_stacks(parser: argparse.ArgumentParser, requested: Iterable[str]) -> list[str]:
    """The stacks a command line names (all when none), or the parser's usage error."""
    requested = list(requested)
    unknown = sorted(set(requested) - set(stack_names()))
    if unknown:
        parser.error(f"no stack file for {unknown}; stacks: {', '.join(stack_names())}")
    return requested or stack_names()


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` block of a stack file, as Python values."""
    path = STACKS_DIR / f"Pulumi.{stack}.yaml"
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" line {where.line + 1}, column {where.column + 1}:" if where else ""
        problem = getattr(err, "problem", None) or str(err)
        raise StackFileError(f"{path.name}:{at} not valid YAML ({problem})") from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise StackFileError(
            f"{path.name}: a stack file is a YAML mapping with a `config:` mapping of "
            f"{PROJECT}:<key> settings (see stacks/Pulumi.local.yaml)"
        )
    return dict(document["config"])


def clouds(config: dict[str, Any]) -> list[str]:
    """The clouds a stack builds in (whose credentials `pulumi up` needs)."""
    scenario = config.get(f"{PROJECT}:scenario")
    if scenario in ("multi-cluster", "multi-mesh"):
        clusters = config.get(f"{PROJECT}:clusters") or [
            c for mesh in config.get(f"{PROJECT}:meshes") or [] for c in mesh.get("clusters", [])
        ]
        return sorted({CLUSTER_CLOUDS.get(c.get("cloud"), "") for c in clusters} - {""})
    return [CLOUDS[scenario]] if scenario in CLOUDS else []


def to_pulumi_strings(config: Mapping[str, Any]) -> dict[str, str]:
    """What the CLI hands a program: scalars as strings, objects as JSON."""
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict | list):
            out[key] = json.dumps(value)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def config_problems(config: Mapping[str, Any]) -> str | None:
    """What the typed config's checks refuse (stacks.config.load: every mistake, in one
    message), all but the cloud's answers (versions, zones), which need its credentials."""
    # Imported here: the other questions need only PyYAML.
    from stacks.config import ConfigError, load

    try:
        load(
            to_pulumi_strings(config),
            is_secret=lambda key: isinstance(config.get(key), dict) and "secure" in config[key],
        )
    except ConfigError as err:
        return str(err)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="What a stack file says, for scripts/up.sh.")
    parser.add_argument("question", choices=["scenario", "clouds", "check"])
    parser.add_argument("stack")
    args = parser.parse_args(argv)
    try:
        config = stack_config(args.stack)
    except (StackFileError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.question == "check":
        problems = config_problems(config)
        if problems:
            print(f"error: Pulumi.{args.stack}.yaml: {problems}", file=sys.stderr)
            return 1
    elif args.question == "scenario":
        print(config.get(f"{PROJECT}:scenario", ""))
    elif args.question == "clouds":
        print(" ".join(clouds(config)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
