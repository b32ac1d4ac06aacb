"""Changes that are safe only in steps are compared with what the stack's last `up` deployed
(stacks/config/previous.py): each `up` exports the record, the next reads it back before
anything is registered."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from stacks.config import ConfigError
from stacks.config.previous import Deployed, StateUnavailable
from stacks.state import CliStackState
from tools.offline.engine import OfflineEngine

CANARY = {"istio": {"revision": "canary"}}


def test_every_up_exports_the_revisions_it_runs(engine):
    assert engine.run("local").outputs["deployed"]["istio"] == {"revisions": ["default"]}
    fresh = OfflineEngine()
    assert fresh.run("local", CANARY).outputs["deployed"]["istio"] == {"revisions": ["canary"]}


def test_asm_runs_no_istiod_of_the_stack(engine):
    assert engine.run("two-cluster-retention").outputs["deployed"]["istio"] == {"revisions": []}


def test_changing_the_revision_of_a_running_istiod_in_one_step_is_refused(engine):
    # The hazard of issue #32: the istiod release's Helm name changes, so pulumi-kubernetes
    # replaces it in this one `up` while the pods it injected keep running on it.
    engine.state.record = {"istio": {"revisions": ["default"]}}
    with pytest.raises(ConfigError) as caught:
        engine.run("local", CANARY)
    message = str(caught.value)
    assert "meshstack:istio.revision 'canary': this stack's istiod runs revision 'default'" in (
        message
    )
    assert not engine.monitor.recorded  # refused before anything, the provider included


def test_the_same_revision_again_and_a_first_up_are_not_refused(engine):
    engine.state.record = {"istio": {"revisions": ["canary"]}}
    assert engine.run("local", CANARY).outputs["deployed"]["istio"]["revisions"] == ["canary"]
    fresh = OfflineEngine()
    fresh.state.record = None
    fresh.run("local", CANARY)


def test_a_record_of_an_older_package_reads_as_nothing_to_compare_with():
    assert Deployed.of({"something": "else"}) == Deployed()
    assert Deployed.of(None) == Deployed()


def test_an_unreadable_state_is_a_problem_of_the_message(engine):
    class Broken:
        def deployed(self):
            raise StateUnavailable("the backend said no")

    engine.state = Broken()  # type: ignore[assignment]
    with pytest.raises(ConfigError) as caught:
        engine.run("local")
    assert "could not read what this stack's last `pulumi up` deployed: the backend said no" in (
        str(caught.value)
    )


def fake_cli(tmp_path: Path, script: str) -> None:
    cli = tmp_path / "pulumi"
    cli.write_text(f"#!/bin/sh\n{script}\n")
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)


def test_the_cli_is_asked_for_the_stacks_outputs_without_secrets(engine, tmp_path, monkeypatch):
    # The real CLI is exercised by the e2e lifecycle (tools/e2e/lifecycle.py); here, the call.
    args = tmp_path / "args"
    record = {"istio": {"revisions": ["default"]}}
    fake_cli(
        tmp_path,
        f"echo \"$@\" > {args}\necho '{json.dumps({'deployed': record, 'k': '[secret]'})}'",
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert CliStackState().deployed() == record
    called = args.read_text().split()
    assert called[:3] == ["stack", "output", "--json"]
    assert "--show-secrets" not in called
    assert called[-2:] == ["--stack", "test"]  # the engine fixture's stack, no organization


def test_a_failing_cli_says_why(engine, tmp_path, monkeypatch):
    fake_cli(tmp_path, "echo 'error: no stack named x' >&2; exit 255")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(StateUnavailable, match="no stack named x"):
        CliStackState().deployed()
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(StateUnavailable, match="not on PATH"):
        CliStackState().deployed()


SWITCHED = {"membership": {"readerTokens": ["initial", "g2"], "activeReaderToken": "g2"}}
DROPPED = {"membership": {"readerTokens": ["g2"], "activeReaderToken": "g2"}}


def test_a_multi_cluster_up_records_the_active_reader_token(engine):
    deployed = engine.run("multi-primary").outputs["deployed"]
    assert deployed["membership"] == {"activeReaderToken": "initial"}
    assert "membership" not in OfflineEngine().run("local").outputs["deployed"]


def test_switching_and_dropping_the_used_reader_token_in_one_up_is_refused(engine):
    engine.state.record = {"membership": {"activeReaderToken": "initial"}}
    with pytest.raises(ConfigError) as caught:
        engine.run("multi-primary", DROPPED)
    assert (
        "meshstack:membership.readerTokens ['g2'] drops 'initial', the generation the remote "
        "secrets used"
    ) in str(caught.value)
    # The steps one at a time: switch (the old one still listed), then drop it.
    switch = OfflineEngine()
    switch.state.record = {"membership": {"activeReaderToken": "initial"}}
    switch.run("multi-primary", SWITCHED)
    drop = OfflineEngine()
    drop.state.record = {"membership": {"activeReaderToken": "g2"}}
    drop.run("multi-primary", DROPPED)


def _policies(declared) -> set[str]:
    return {
        r.manifest["metadata"]["name"] for r in declared if r.type.endswith(":AuthorizationPolicy")
    }


def test_a_new_stack_gets_bookinfos_default_deny_and_records_it(engine):
    engine.state.record = None
    declared = engine.run("local")
    assert declared.outputs["deployed"]["bookinfo"] == {"authorization": "default-deny"}
    assert {"allow-nothing", "productpage", "details", "reviews", "ratings"} <= _policies(declared)


def test_a_running_bookinfo_without_the_record_keeps_running_without_it(engine):
    # A record of the release before bookinfo.authorization: Bookinfo ran with no policy.
    engine.state.record = {"istio": {"revisions": ["default"]}}
    declared = engine.run("local")
    assert declared.outputs["deployed"]["bookinfo"] == {"authorization": "none"}
    assert not _policies(declared)
    assert not [r for r in declared if r.name.startswith("bookinfo-authz-check")]


def test_a_running_stack_keeps_what_it_had_unless_set(engine):
    engine.state.record = {"istio": {"revisions": ["default"]}, "bookinfo": {}}
    # Bookinfo did not run: enabling it is a first Bookinfo.
    assert engine.run("local").outputs["deployed"]["bookinfo"]["authorization"] == "default-deny"
    had = OfflineEngine()
    had.state.record = {"istio": {"revisions": ["default"]}, "bookinfo": {"authorization": "none"}}
    assert not _policies(had.run("local"))
    turned_on = OfflineEngine()
    turned_on.state.record = {"istio": {"revisions": ["default"]}}
    on = turned_on.run("local", {"bookinfo": {"authorization": "default-deny"}})
    assert "allow-nothing" in _policies(on)


def test_a_disabled_bookinfo_is_recorded_as_not_running(engine):
    record = engine.run("local", {"bookinfo": {"enabled": False}}).outputs["deployed"]
    assert record["bookinfo"] == {}


def test_without_mtls_bookinfo_gets_no_policies_unless_asked_and_asking_is_refused(engine):
    # Callers are admitted by their mTLS identity: with DISABLE none has one.
    declared = engine.run("local", {"istio": {"mtls": "DISABLE"}})
    assert declared.outputs["deployed"]["bookinfo"] == {"authorization": "none"}
    assert not _policies(declared)
    with pytest.raises(ConfigError) as caught:
        OfflineEngine().run(
            "local", {"istio": {"mtls": "DISABLE"}, "bookinfo": {"authorization": "default-deny"}}
        )
    assert "istio.mtls is DISABLE" in str(caught.value)
