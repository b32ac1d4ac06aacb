"""A Pulumi YAML program of meshstack's components (tools/e2e/yaml/Pulumi.yaml), previewed by the
real CLI and the real YAML language host (`.tools/bin/pulumi-language-yaml`, `make tools`)
against the real control plane, with the component provider as an ambient plugin
(tools/e2e/plugins/pulumi-resource-meshstack: `python -m meshstack.provider`).

What it reaches today: the host asks the component provider for its schema and binds it; the
schema references the kubernetes 4.34.2 schema, and the only kubernetes provider built here is
4.25.0, so the binding is refused ("loader returned kubernetes@4.25.0; requested
kubernetes@4.34.2"). The report records the outcome; the run does not fail on it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tools.kubetools import REPO_ROOT, TOOLS_BIN

PROGRAM = REPO_ROOT / "tools" / "e2e" / "yaml" / "Pulumi.yaml"
PLUGINS = REPO_ROOT / "tools" / "e2e" / "plugins"
STACK = "e2e-yaml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_error(output: str) -> str:
    """The CLI's first `error:` line, without its colours; else its last line."""
    lines = [ANSI.sub("", line).strip() for line in output.splitlines()]
    errors = [line for line in lines if line.lower().startswith("error")]
    return errors[0] if errors else next((line for line in reversed(lines) if line), "")


def preview(kubeconfig: Path, out: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """`pulumi preview` of the program in a scratch directory: exit, seconds, and the error."""
    if not (TOOLS_BIN / "pulumi-language-yaml").is_file():
        return {"exit": None, "said": "pulumi-language-yaml is missing (make tools)"}
    work = out / "yaml-program"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy(PROGRAM, work / "Pulumi.yaml")
    (work / "state").mkdir()
    env = {
        **env,
        "PATH": f"{TOOLS_BIN}{os.pathsep}{PLUGINS}{os.pathsep}{env.get('PATH', '')}",
        "PULUMI_BACKEND_URL": f"file://{work / 'state'}",
    }

    def pulumi(*arguments: str) -> subprocess.CompletedProcess[str]:
        cli = [str(TOOLS_BIN / "pulumi"), *arguments, "--stack", STACK, "--non-interactive"]
        return subprocess.run(
            cli, cwd=work, env=env, capture_output=True, text=True, check=False, timeout=600
        )

    for step in (
        ("stack", "init"),
        ("config", "set", "--secret", "kubeconfig", kubeconfig.read_text()),
    ):
        done = pulumi(*step)
        if done.returncode:
            return {"exit": done.returncode, "said": first_error(done.stdout + done.stderr)}
    started = time.monotonic()
    done = pulumi("preview")
    seconds = round(time.monotonic() - started, 1)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "logs" / "yaml-program-preview.log").write_text(
        done.stdout + "\n--- stderr\n" + done.stderr
    )
    outcome: dict[str, Any] = {"exit": done.returncode, "seconds": seconds}
    if done.returncode:
        outcome["said"] = first_error(done.stdout + done.stderr)
    return outcome
