"""The GitHub workflows: lint-clean (actionlint), and in step with the stacks they preview."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import TOOLS, unavailable
from tools.stack_file import REPO_ROOT, committed_stacks, stack_config

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent))


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if ACTIONLINT is None:
        unavailable("actionlint is not installed (requirements-dev.txt)", TOOLS)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        [ACTIONLINT, "-no-color", *map(str, files)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_workflows_pass_actionlint() -> None:
    result = _actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  preview:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ github.event.pull_request.titel }}\n"
        "    needs: missing\n"
    )
    result = _actionlint(broken)
    assert result.returncode == 1 and "missing" in result.stdout


def _preview_job() -> dict:
    return yaml.safe_load((WORKFLOWS / "preview.yml").read_text())["jobs"]["preview"]


def test_preview_covers_every_cloud_stack_with_its_cloud() -> None:
    cloud_of_scenario = {
        "single-cluster": "alibaba",
        "two-cluster-retention": "alibaba",
        "vm": "gcp",
        "external-control-plane": "gcp",
    }
    cloud_of_cluster = {"ack": "alibaba", "gke": "gcp"}

    def clouds(stack: str) -> str:
        config = stack_config(stack)
        if config["meshstack:scenario"] == "multi-cluster":
            return " ".join(
                sorted({cloud_of_cluster[c["cloud"]] for c in config["meshstack:clusters"]})
            )
        if config["meshstack:scenario"] == "multi-mesh":
            every = [c for mesh in config["meshstack:meshes"] for c in mesh["clusters"]]
            return " ".join(sorted({cloud_of_cluster[c["cloud"]] for c in every}))
        return cloud_of_scenario[config["meshstack:scenario"]]

    matrix = {row["stack"]: row["cloud"] for row in _preview_job()["strategy"]["matrix"]["include"]}
    cloud_stacks = {
        s for s in committed_stacks() if stack_config(s)["meshstack:scenario"] != "local"
    }
    assert set(matrix) == cloud_stacks
    assert matrix == {s: clouds(s) for s in cloud_stacks}


def test_preview_runs_the_policy_pack_and_comments() -> None:
    steps = _preview_job()["steps"]
    step = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions"))
    assert step["with"]["command"] == "preview"
    assert step["with"]["policyPacks"] == "policy"
    assert step["with"]["comment-on-pr"] is True
    assert (REPO_ROOT / step["with"]["policyPacks"] / "PulumiPolicy.yaml").is_file()


def test_test_workflow_runs_ci() -> None:
    steps = yaml.safe_load((WORKFLOWS / "test.yml").read_text())["jobs"]["test"]["steps"]
    assert any(s.get("run") == ".ci/run" for s in steps)


def _workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_preview_holds_no_long_lived_cloud_key() -> None:
    """Each cloud and Pulumi Cloud are reached through OIDC federation (docs/ci-trust.md)."""
    text = (WORKFLOWS / "preview.yml").read_text()
    secrets = set(re.findall(r"secrets\.(\w+)", text))
    # The passphrase encrypts stack secrets of a self-managed backend; it opens no cloud.
    assert secrets <= {"PULUMI_CONFIG_PASSPHRASE"}, secrets
    assert "GITHUB_ENV" not in text
    job = _workflow("preview.yml")["jobs"]["preview"]
    assert job["permissions"]["id-token"] == "write"
    uses = {step.get("uses", "").split("@")[0] for step in job["steps"]}
    assert {
        "pulumi/auth-actions",
        "google-github-actions/auth",
        "aliyun/configure-aliyun-credentials-action",
    } <= uses


def test_release_publishes_by_trusted_publishing_from_a_checked_tag() -> None:
    workflow = _workflow("release.yml")
    assert workflow[True]["push"]["tags"] == ["v*.*.*"]  # YAML reads the key `on` as True
    publish = workflow["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert any(
        s.get("uses", "").startswith("pypa/gh-action-pypi-publish") for s in publish["steps"]
    )
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text()
    build = " ".join(s.get("run", "") for s in workflow["jobs"]["build"]["steps"])
    assert "CHANGELOG.md" in build and "pyproject.toml" in build


def _uses() -> list[tuple[str, str]]:
    """(workflow, `uses:` line) for every step of every workflow."""
    return [
        (path.name, line.strip())
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for line in path.read_text().splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]


def test_every_action_is_pinned_by_commit_with_its_release_named() -> None:
    """A tag or branch can be moved to other code; a commit cannot (GitHub's security
    hardening guide: pin actions to a full-length commit SHA)."""
    uses = _uses()
    assert len(uses) >= 10
    for workflow, line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), (
            f"{workflow}: {line}"
        )


def test_credentials_outlive_the_preview_job() -> None:
    """Each short-lived credential the preview job obtains lasts as long as the job may run:
    the Alibaba STS session (configure-aliyun-credentials-action `role-session-expiration`,
    default 1800 s) and the Pulumi Cloud token (pulumi/auth-actions `token-expiration`, s)."""
    job = _preview_job()
    timeout = job["timeout-minutes"] * 60
    steps = {step.get("uses", "").split("@")[0]: step.get("with", {}) for step in job["steps"]}
    alibaba = steps["aliyun/configure-aliyun-credentials-action"]
    assert timeout <= alibaba["role-session-expiration"] <= 3600  # RAM's default maximum
    assert steps["pulumi/auth-actions"]["token-expiration"] >= timeout
