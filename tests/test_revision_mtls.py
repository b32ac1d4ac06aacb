"""The mTLS check between revisions side by side (stacks/scenarios/revision_mtls.py;
docs/day-2.md "Revisions and tags"): what local-canary declares for it, where it is not
built, its checks run by the check script (components/meshstack/verify/probe_job.py) against
recorded answers, and the move of `default` gated on it across `up`s."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from meshstack.verify import probe_job as probe
from stacks.config import ConfigError
from tools.offline.engine import Declared, OfflineEngine, Resource

OLD, NEW = "1-30-3", "1-31-0"
TWO = [{"name": OLD, "version": "1.30.3"}, {"name": NEW, "version": "1.31.0"}]
JOB = "kubernetes:batch/v1:Job"
PAGES = Path(__file__).parent / "data" / "productpage"


def canary(default: str = OLD, tag: str = NEW, revisions=TWO, **istio: Any) -> dict[str, Any]:
    return {"istio": {"revisions": revisions, "tags": {"default": default, "canary": tag}, **istio}}


def run(overrides: dict[str, Any] | None = None, before: dict | None = None) -> Declared:
    engine = OfflineEngine()
    engine.state.record = before
    return engine.run("local-canary", overrides)


def pod(job: Resource) -> dict[str, Any]:
    return job.inputs["spec"]["template"]


def checks_of(job: Resource) -> list[dict[str, Any]]:
    env = {e["name"]: e.get("value") for e in pod(job)["spec"]["containers"][0]["env"]}
    return json.loads(env["CHECKS"])


# --- what the stack declares ------------------------------------------------------------------


def test_a_pod_of_each_side_calls_the_other_under_strict_mtls():
    declared = run()
    namespace = declared.named("tag-canary-namespace").manifest["metadata"]
    assert namespace == {"name": "tag-canary", "labels": {"istio.io/rev": "canary"}}
    deployment = declared.named("tag-canary-hello-world-deployment").manifest
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    # The sample's answer names SERVICE_VERSION: the revision its pod was created for.
    assert container["env"] == [{"name": "SERVICE_VERSION", "value": NEW}]
    hello = declared.named("tag-canary-hello-world-deployment")
    assert declared.depends_on(hello, declared.named("istio-tag-canary"))

    forth, back = (declared.named(f"tag-canary-{n}-job") for n in ("mtls-check", "mtls-back-check"))
    # Injected through the canary tag, in its namespace; and in Bookinfo's (on `default`).
    assert (forth.inputs["metadata"]["namespace"], pod(forth)["metadata"]["labels"]) == (
        "tag-canary",
        {"app": "mtls-check", "istio.io/rev": "canary"},
    )
    assert back.inputs["metadata"]["namespace"] == "bookinfo"
    assert pod(back)["metadata"]["labels"]["sidecar.istio.io/inject"] == "true"
    (to_old,), (to_new,) = checks_of(forth), checks_of(back)
    assert to_old["url"] == "http://productpage.bookinfo:9080/productpage"
    assert to_old["name"] == (
        f"mTLS: a pod of revision {NEW} (tag canary) gets productpage of {OLD} (tag default)"
    )
    assert to_new["url"] == "http://hello-world.tag-canary:80/hello"
    assert to_new["expect"] == {"only": [NEW]}
    for job in (forth, back):
        for waited in ("bookinfo-productpage-v1", "tag-canary-hello-world-deployment"):
            assert declared.depends_on(job, declared.named(waited)), (job.name, waited)
        assert declared.depends_on(job, declared.named("istio-peer-authentication"))
    # The server's own proxy refuses plain text: the answers above came over mTLS.
    (plain,) = [
        c for c in checks_of(declared.named("bookinfo-check-job")) if "hello-world" in c["url"]
    ]
    assert (
        plain["name"] == "mTLS STRICT: hello-world on tag canary refuses a caller outside the mesh"
    )
    assert set(declared.outputs["verified"]) == {
        "bookinfo-check",
        "bookinfo-authz-check",
        "tag-canary-mtls-check",
        "tag-canary-mtls-back-check",
    }
    # Bookinfo's default-deny set admits the caller on the tag (its Job's own account).
    account = declared.named("tag-canary-mtls-check-account").inputs["metadata"]
    (rule,) = declared.named("bookinfo-authz-productpage").inputs["spec"]["rules"]
    admitted = [a for s in rule["from"] for a in s["source"].get("serviceAccounts", [])]
    assert f"{account['namespace']}/{account['name']}" in admitted


def test_moving_a_tag_runs_the_checks_again_and_rolls_the_server_onto_it():
    before, after = run(canary(tag=OLD)), run(canary())
    for name in ("tag-canary-mtls-check-job", "tag-canary-mtls-back-check-job"):
        # A Job whose spec changes is replaced: it runs again (meshstack/verify/mesh_check.py).
        assert checks_of(before.named(name)) != checks_of(after.named(name))
    deployment = "tag-canary-hello-world-deployment"
    env = [after.named(deployment), before.named(deployment)]
    assert [d.manifest["spec"]["template"]["spec"]["containers"][0]["env"] for d in env] == [
        [{"name": "SERVICE_VERSION", "value": NEW}],
        [{"name": "SERVICE_VERSION", "value": OLD}],
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"mtls": "PERMISSIVE"},
        {"dataPlane": "ambient", "ambient": {"revision": OLD}, "ingressServiceType": "ClusterIP"},
    ],
    ids=["permissive", "ambient"],
)
def test_not_built_where_it_proves_nothing(overrides):
    declared = run(canary(**overrides))
    assert not [r for r in declared.resources if r.name.startswith("tag-canary")]
    assert "mtlsChecked" not in declared.outputs["deployed"]["istio"]
    off = run(canary() | {"verify": {"enabled": False}})
    assert not [r for r in off.resources if r.name.startswith("tag-canary")]


# --- the checks run by the script against recorded answers -------------------------------------

PRODUCTPAGE = probe.Answer(200, (PAGES / "reviews-v1.html").read_text())
# What the caller's own Envoy answers when it cannot reach the server (a failed TLS handshake
# among them): its local reply (envoyproxy/envoy source/common/router/router.cc).
HANDSHAKE_FAILED = probe.Answer(
    503,
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "failure, transport failure reason: TLS_error",
)


def hello(revision: str) -> probe.Answer:
    # samples/helloworld/src/app.py: 'Hello version: %s, instance: %s\n'
    return probe.Answer(200, f"Hello version: {revision}, instance: hello-world-5c9-q8v\n")


def verdicts(check: dict[str, Any], *answers: probe.Answer) -> list[str]:
    replies = itertools.cycle(answers)
    return probe.run(
        [check],
        lambda _timeout: lambda *_: next(replies),
        0,
        clock=itertools.count(0, 10).__next__,
        nap=lambda _: None,
        log=lambda _: None,
    )


def test_the_script_passes_the_answers_of_a_working_mesh_only():
    declared = run()
    (to_old,) = checks_of(declared.named("tag-canary-mtls-check-job"))
    (to_new,) = checks_of(declared.named("tag-canary-mtls-back-check-job"))
    assert verdicts(to_old, PRODUCTPAGE) == []
    (failure,) = verdicts(to_old, HANDSHAKE_FAILED)
    assert "expected only productpage; saw HTTP 503, not recognised x3" in failure
    assert verdicts(to_new, hello(NEW)) == []
    # The old pod still answering (the roll not done), or the caller's proxy failing: no.
    (stale,) = verdicts(to_new, hello(OLD))
    assert f"expected only {NEW}; saw {OLD} x3" in stale
    (failed,) = verdicts(to_new, HANDSHAKE_FAILED)
    assert "HTTP 503, not recognised" in failed


# --- `default` moves only after the check (stacks/config/previous.py) -----------------------


def refusal(overrides: dict[str, Any], before: dict[str, Any]) -> str:
    engine = OfflineEngine()
    engine.state.record = before
    with pytest.raises(ConfigError) as caught:
        engine.run("local-canary", overrides)
    assert not engine.monitor.recorded
    return str(caught.value)


def test_default_moves_only_to_a_revision_the_check_proved_with_its_own():
    added = run(canary(tag=OLD)).outputs["deployed"]  # both tags on 1.30.3
    assert "mtlsChecked" not in added["istio"]
    message = refusal(canary(default=NEW), added)
    assert (
        f"meshstack:istio.tags.default '{NEW}': no `pulumi up` of this stack has shown yet that "
        f"pods of revision '{NEW}' and of '{OLD}' (where `default` is now) talk over mTLS"
    ) in message
    # A record of the last session's package (no mtlsChecked) reads the same way.
    older = {"istio": {"revisions": [OLD, NEW], "tags": {"default": OLD, "canary": NEW}}}
    assert "no `pulumi up` of this stack has shown yet" in refusal(canary(default=NEW), older)


def test_the_proof_is_kept_for_a_rollback_and_dropped_with_a_revision():
    checked = run(canary()).outputs["deployed"]
    moved = run(canary(default=NEW), checked).outputs["deployed"]
    assert moved["istio"]["mtlsChecked"] == [[OLD, NEW]]  # both on 1.31.0 now: kept
    # Rollback: `default` back to 1.30.3, which the check proved with 1.31.0.
    back = run(canary(default=OLD, tag=NEW), moved).outputs["deployed"]
    assert back["istio"]["tags"]["default"] == OLD
    dropped = run(canary(NEW, NEW, revisions=TWO[1:]), moved).outputs["deployed"]
    assert "mtlsChecked" not in dropped["istio"]
