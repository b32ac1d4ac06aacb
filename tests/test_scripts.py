"""The README's commands as a user runs them: scripts/pulumi.sh picks the CLI and the stack's
backend as scripts/up.sh does (a stand-in `pulumi` on PATH records what it is given), and
scripts/up.sh checks the stack file and the Kubernetes context before it installs anything
(in a copy of the checkout whose .venv python and `curl` record their calls)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TOOLS, unavailable
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


SERVER = "https://127.0.0.1:6443"
KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: kind-test
contexts: [{name: kind-test, context: {cluster: kind-test, user: kind-test}}]
clusters: [{name: kind-test, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: kind-test, user: {}}]
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """What scripts/up.sh reads, copied; its .venv/bin/python logs each call to `calls` and
    runs this interpreter (installs succeed without installing: `pip install` is not run), and
    `curl` (the CLI's download) logs and fails. No `pulumi` on PATH."""
    root = tmp_path / "checkout"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for part in ("scripts", "tools", "stacks", "components"):
        shutil.copytree(REPO_ROOT / part, root / part, ignore=skip)
    for part in ("requirements.txt", "constraints.txt"):
        shutil.copy(REPO_ROOT / part, root / part)
    calls = root / "calls"
    tools = tmp_path / "bin"
    tools.mkdir()
    for name, script in {
        root / ".venv" / "bin" / "python": (
            f'echo "python $*" >> {calls}\n'
            f'case "$*" in *"pip install"*) exit 0;; esac\nexec {sys.executable} "$@"\n'
        ),
        tools / "curl": f'echo "curl $*" >> {calls}\nexit 7\n',
    }.items():
        name.parent.mkdir(parents=True, exist_ok=True)
        name.write_text(f"#!/bin/sh\n{script}")
        name.chmod(0o755)
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    return root


def up(
    checkout: Path, *args: str, kubeconfig: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """scripts/up.sh in the copy, and the calls it made (`python -m ...`, pip, curl)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "KUBE"))}
    env |= {"PATH": f"{checkout.parent / 'bin'}:/usr/bin:/bin", "KUBECONFIG": kubeconfig}
    env["PYTHON"] = sys.executable
    done = subprocess.run(
        [str(checkout / "scripts" / "up.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    calls = checkout / "calls"
    return done, calls.read_text().splitlines() if calls.is_file() else []


def _installs(calls: list[str]) -> list[str]:
    return [c for c in calls if "pip install" in c or c.startswith("curl")]


def test_up_stops_on_a_missing_kubernetes_context_before_installing_anything(checkout):
    done, calls = up(checkout, kubeconfig=str(checkout.parent / "absent"))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: no kubeconfig at {checkout.parent / 'absent'}.")
    assert "kind create cluster" in done.stderr
    assert done.stdout == "==> checking stacks/Pulumi.local.yaml\n"
    assert _installs(calls) == []


def test_up_stops_on_an_invalid_stack_file_before_installing_anything(checkout):
    """Every mistake at once, as `pulumi up` would refuse it (the typed config)."""
    broken = "config:\n  meshstack:scenario: local\n  meshstack:istio: {profil: demo}\n"
    (checkout / "stacks" / "Pulumi.broken.yaml").write_text(broken)
    done, calls = up(checkout, "broken", kubeconfig=str(checkout.parent / "kubeconfig"))
    assert done.returncode == 1
    assert done.stderr.startswith("error: Pulumi.broken.yaml: Invalid stack configuration")
    assert "meshstack:istio.profil is not a known setting here; did you mean 'profile'?" in (
        done.stderr
    )
    assert _installs(calls) == []


def test_up_checks_first_then_installs_then_fetches_the_cli_saying_each_step(checkout):
    kubeconfig = str(checkout.parent / "kubeconfig")
    done, calls = up(checkout, kubeconfig=kubeconfig)
    assert done.returncode == 1
    assert "could not download the Pulumi CLI from get.pulumi.com" in done.stderr
    steps = [c.split()[2] if c.startswith("python -m") else c.split()[0] for c in calls]
    assert [s for s in steps if s != "python"] == [
        "tools.stack_file",  # scenario
        "tools.stack_file",  # check
        "tools.kube_context",
        "pip",
        "curl",
    ]
    assert done.stdout.splitlines() == [
        "==> checking stacks/Pulumi.local.yaml",
        f"Deploying onto Kubernetes context 'kind-test' ({SERVER}) from {kubeconfig}.",
        "==> installing the pinned Python packages into .venv (about a minute the first time)...",
        "==> downloading the Pulumi CLI 3.272.0 from get.pulumi.com into .tools/pulumi...",
    ]


def _make(*args: str) -> str:
    if shutil.which("make") is None:
        unavailable("GNU make is not installed", TOOLS)
    done = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_make_alone_lists_every_target_with_what_it_does():
    phony = re.search(r"^\.PHONY: (.*)$", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert phony
    listed = dict(line.split(None, 2)[1:] for line in _make().splitlines())
    assert sorted(listed) == sorted(phony.group(1).split())
    assert all(len(description) > 10 for description in listed.values())


def test_make_benchmark_writes_the_page_only_when_asked():
    assert _make("-n", "benchmark").splitlines()[-1].split()[-2:] == ["-m", "tools.benchmark"]
    asked = _make("-n", "benchmark", "WRITE=1").splitlines()[-1].rstrip()
    assert asked.endswith("-m tools.benchmark --write docs/benchmark.md")
