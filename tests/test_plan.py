"""The offline plan (`make plan`): current, deterministic, secrets redacted, readable."""

from __future__ import annotations

import pulumi
import pytest
import yaml

from tools import plan
from tools.offline.engine import OfflineEngine
from tools.stack_file import committed_stacks


@pytest.mark.parametrize("stack", committed_stacks())
def test_committed_plan_is_current(stack: str) -> None:
    """The committed file was written by another process (another hash seed, another
    registration order): equality is the determinism check, and keeps plans/ reviewable."""
    committed = plan.PLANS_DIR / f"{stack}.yaml"
    assert committed.is_file(), f"{committed} missing: run `make plan`"
    assert plan.plan(stack) == committed.read_text(), f"{committed} is stale: run `make plan`"


def test_two_runs_in_one_process_are_identical() -> None:
    assert plan.plan("vm") == plan.plan("vm")


def test_plan_says_it_is_not_a_preview_and_lists_every_resource() -> None:
    text = plan.plan("local")
    assert text.startswith("# Offline plan of stack `local`: NOT a cloud preview.")
    document = yaml.safe_load(text)
    declared = OfflineEngine("local").run("local")
    assert len(document["resources"]) == len(declared.resources)
    assert document["resourceCount"] == len(declared.created) > 0
    assert [(r["type"], r["name"]) for r in document["resources"]] == sorted(
        (r.type, r.name) for r in declared
    )


def test_secret_inputs_and_outputs_are_redacted() -> None:
    document = yaml.safe_load(plan.plan("vm"))
    token_secret = next(
        r
        for r in document["resources"]
        if r["type"] == "kubernetes:core/v1:Secret" and "stringData" in r.get("inputs", {})
    )
    assert token_secret["inputs"]["stringData"] == plan.REDACTED
    assert document["outputs"]["kubeconfig"] == plan.REDACTED
    providers = [r for r in document["resources"] if r["type"] == "pulumi:providers:kubernetes"]
    assert providers and all(p["inputs"]["kubeconfig"] == plan.REDACTED for p in providers)


def test_redact_follows_dotted_and_indexed_paths() -> None:
    value = {"a": {"b": "x", "c": [{"d": "y"}, {"d": "z"}]}, "e": "kept"}
    assert plan.redact(value, ["a.b", "a.c[1].d"]) == {
        "a": {"b": plan.REDACTED, "c": [{"d": "y"}, {"d": plan.REDACTED}]},
        "e": "kept",
    }


def test_references_disambiguate_shared_names(engine: OfflineEngine) -> None:
    def program() -> None:
        first = pulumi.CustomResource("test:index:A", "same", {})
        pulumi.CustomResource(
            "test:index:B", "same", {"x": 1}, opts=pulumi.ResourceOptions(depends_on=[first])
        )

    document = yaml.safe_load(plan.plan_document("t", engine.run_program(program)))
    b = next(r for r in document["resources"] if r["type"] == "test:index:B")
    assert b["dependsOn"] == ["same (test:index:A)"]


def test_check_mode_reports_a_stale_file(tmp_path) -> None:
    (tmp_path / "local.yaml").write_text("stale\n")
    assert plan.main(["local", "--check", "--out", str(tmp_path)]) == 1
    assert plan.main(["local", "--out", str(tmp_path)]) == 0
    assert plan.main(["local", "--check", "--out", str(tmp_path)]) == 0
