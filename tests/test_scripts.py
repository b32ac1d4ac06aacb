"""The README's commands as a user runs them: scripts/pulumi.sh picks the CLI and the stack's
backend as scripts/up.sh does (a stand-in `pulumi` on PATH records what it is given)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tools.stack_file import REPO_ROOT

FAKE_PULUMI = (
    "#!/bin/sh\n"
    'echo "args=$* backend=${PULUMI_BACKEND_URL-} pass=${PULUMI_CONFIG_PASSPHRASE-unset}"\n'
)


@pytest.fixture
def fake_cli(tmp_path: Path) -> dict[str, str]:
    cli = tmp_path / "pulumi"
    cli.write_text(FAKE_PULUMI)
    cli.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    return {**env, "PATH": f"{tmp_path}:{env['PATH']}"}


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO_ROOT / "scripts" / "pulumi.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_local_stack_commands_use_the_file_backend(fake_cli):
    done = run("local", "stack", "output", "productpageUrl", env=fake_cli)
    assert done.returncode == 0, done.stderr
    backend = f"file://{REPO_ROOT}/.pulumi-state"
    assert done.stdout.strip() == (
        f"args=stack output productpageUrl --stack local backend={backend} pass="
    )


def test_cloud_stack_commands_use_the_backend_you_logged_in_to(fake_cli):
    done = run("vm", "stack", "output", "kubeconfig", "--show-secrets", env=fake_cli)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "args=stack output kubeconfig --show-secrets --stack vm backend= pass=unset"
    )


def test_a_wrong_call_says_how_to_call_it(fake_cli):
    done = run(env=fake_cli)
    assert done.returncode == 1 and "usage: scripts/pulumi.sh STACK" in done.stderr
    done = run("no-such-stack", "stack", "output", env=fake_cli)
    assert done.returncode == 1 and "no-such-stack" in done.stderr
