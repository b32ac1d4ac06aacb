"""Istio revisions side by side and revision tags (istio.revisions, istio.tags;
docs/day-2.md "Revisions and tags"): the config's refusals, the steps refused against the
last `up`, the graph (an istiod per revision, a release per tag, base's defaultRevision), and
both revisions rendered together by the real Helm from their own chart sources."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from meshstack import versions
from stacks.config import ConfigError, load
from stacks.config.revisions import RevisionConfig, skew_problems
from tests.conftest import CHART_SOURCES, rendered, unavailable
from tools import charts
from tools.e2e import canary as real
from tools.e2e import lifecycle
from tools.offline.engine import OfflineEngine

OLD, NEW = "1-30-3", "1-31-0"
TWO = [{"name": OLD, "version": "1.30.3"}, {"name": NEW, "version": "1.31.0"}]


def canary(default: str = OLD, canary_tag: str | None = NEW, revisions=TWO) -> dict[str, Any]:
    tags = {"default": default} | ({"canary": canary_tag} if canary_tag else {})
    return {"istio": {"revisions": revisions, "tags": tags}}


def refusal(engine: OfflineEngine, overrides: dict[str, Any], stack: str = "local") -> str:
    with pytest.raises(ConfigError) as caught:
        engine.run(stack, overrides)
    assert not engine.monitor.recorded  # refused before anything is registered
    return str(caught.value)


# --- config ---------------------------------------------------------------------------------


def test_every_mistake_of_revisions_and_tags_in_one_message(engine):
    message = refusal(
        engine,
        {
            "istio": {
                "revision": "x",
                "revisions": [TWO[0], {"name": OLD, "version": "1.31.0"}],
                "tags": {"canary": "1-29-0"},
            }
        },
    )
    for words in (
        "meshstack:istio.revision does not apply with istio.revisions",
        f"meshstack:istio.revisions names ['{OLD}'] more than once",
        "meshstack:istio.tags {'canary': '1-29-0'} has no 'default' tag",
        "meshstack:istio.tags.canary '1-29-0' names no revision of istio.revisions",
    ):
        assert words in message


def test_a_tag_on_a_dropped_revision_is_refused(engine):
    # Dropping 1-30-3 while `default` still names it.
    message = refusal(engine, canary(revisions=TWO[1:], canary_tag=None))
    assert f"meshstack:istio.tags.default '{OLD}' names no revision of istio.revisions" in message
    assert "a revision is dropped only once no tag names it" in message


def test_tags_need_revisions_and_default_is_no_revision_name(engine):
    assert "istio.tags {'default': 'x'} needs istio.revisions" in refusal(
        engine, {"istio": {"tags": {"default": "x"}}}
    )
    named_default = canary(revisions=[{"name": "default", "version": "1.31.0"}], default="default")
    assert "name 'default' is the name of Istio's default tag" in refusal(
        OfflineEngine(), named_default
    )


def test_names_whose_helm_releases_helm_would_refuse_are_refused(engine):
    # Helm: a release name of at most 53 characters (pkg/chart/v2/util/validate_name.go).
    long_revision, long_tag = "r" * 47, "t" * 41
    revisions = [{"name": long_revision, "version": "1.31.0"}]
    tags = {"default": long_revision, long_tag: long_revision}
    message = refusal(engine, {"istio": {"revisions": revisions, "tags": tags}})
    assert (
        f"istio.revisions name '{long_revision}' is too long: its Helm release istiod-" in message
    )
    assert "would have 54 characters, and Helm takes at most 53; use at most 46" in message
    assert f"istio.tags '{long_tag}' is too long" in message and "use at most 40" in message


def test_a_version_whose_charts_the_tests_do_not_render_is_refused(engine):
    revisions = [{"name": "old", "version": "1.29.4"}, {"name": NEW, "version": "1.31.0"}]
    message = refusal(engine, canary(default=NEW, canary_tag=None, revisions=revisions))
    assert "meshstack:istio.revisions[0].version = '1.29.4': Istio 1.29 is not one" in message


def test_revisions_more_than_one_minor_apart_are_refused():
    # Every version the config accepts is 1.30 or 1.31; the rule is checked on its own:
    # istio.io supported releases, "Control Plane/Data Plane Skew" (one minor ahead at most).
    spread = [
        RevisionConfig.model_construct(name="a", version="1.29.4"),
        RevisionConfig.model_construct(name="b", version="1.31.0"),
    ]
    (problem,) = skew_problems(spread)
    assert "(a: 1.29.4, b: 1.31.0) span more than one minor release" in problem
    assert skew_problems(spread[1:]) == []
    assert skew_problems([RevisionConfig(**r) for r in TWO]) == []


def test_other_scenarios_refuse_revisions():
    # dataPlane ambient: tests/test_ambient_revisions.py; built for local, multi-cluster,
    # two-cluster-retention and vm (tests/test_revisions_multi_cluster.py).
    assert "istio.revisions is not built by this package for this scenario yet" in refusal(
        OfflineEngine(), canary(), stack="single-cluster"
    )


# --- steps between runs (stacks/config/previous.py) ----------------------------------------


def run_after(previous: dict[str, Any], overrides: dict[str, Any]):
    engine = OfflineEngine()
    engine.state.record = previous
    return engine, engine.run("local", overrides)


def deployed(overrides: dict[str, Any]) -> dict[str, Any]:
    return OfflineEngine().run("local", overrides).outputs["deployed"]


def test_the_record_keeps_revisions_and_tags():
    # With the pair of revisions the mTLS check proved (tests/test_revision_mtls.py).
    assert deployed(canary())["istio"] == {
        "revisions": [OLD, NEW],
        "tags": {"default": OLD, "canary": NEW},
        "mtlsChecked": [[OLD, NEW]],
    }


# The upgrade of issue #32, one `up` each: 1.30.3 alone, add 1.31.0, move canary, move
# default, drop 1.30.3 (tools/e2e/lifecycle.py runs the same steps for real).
UPGRADE = [
    canary(canary_tag=OLD, revisions=TWO[:1]),
    canary(canary_tag=OLD),
    canary(),
    canary(default=NEW),
    canary(default=NEW, revisions=TWO[1:]),
]


def test_the_upgrade_in_steps_is_accepted():
    steps = UPGRADE
    before = deployed(steps[0])
    for step in steps[1:]:
        _, declared = run_after(before, step)
        before = declared.outputs["deployed"]
    assert before["istio"] == {"revisions": [NEW], "tags": {"default": NEW, "canary": NEW}}


def test_dropping_a_revision_in_the_up_that_moves_its_last_tag_is_refused():
    engine = OfflineEngine()
    engine.state.record = deployed(canary())
    message = refusal(engine, canary(default=NEW, canary_tag=None, revisions=TWO[1:]))
    assert f"meshstack:istio.revisions drops '{OLD}', which tag(s) 'default' named" in message


def test_the_one_step_swap_is_refused():
    engine = OfflineEngine()
    engine.state.record = deployed(canary(canary_tag=None, revisions=TWO[:1]))
    message = refusal(engine, canary(default=NEW, canary_tag=None, revisions=TWO[1:]))
    assert f"meshstack:istio.revisions '{NEW}': this stack's istiod runs revision '{OLD}'" in (
        message
    )


def test_switching_a_running_istiod_between_revision_and_revisions_is_refused():
    engine = OfflineEngine()
    engine.state.record = deployed({"istio": {"revision": OLD}})
    message = refusal(engine, canary())
    assert "deployed without istio.revisions; switching between istio.revision and" in message


# --- the graph --------------------------------------------------------------------------------


def releases(overrides: dict[str, Any]) -> dict[str, Any]:
    declared = OfflineEngine().run("local", overrides)
    return {r.name: r for r in declared.of_type(charts.RELEASE_TYPE) if r.name.startswith("istio")}


def test_an_istiod_per_revision_and_a_release_per_tag_named_by_them():
    found = releases(canary())
    for revision, version in ((OLD, "1.30.3"), (NEW, "1.31.0")):
        istiod = found[f"istio-istiod-{revision}"]
        assert (istiod.inputs["name"], istiod.inputs["version"]) == (f"istiod-{revision}", version)
        assert istiod.inputs["values"]["revision"] == revision
        assert istiod.inputs["values"]["global"]["tag"] == version
        assert any(d.endswith("Release::istio-base") for d in istiod.dependencies)
    base = found["istio-base"]
    # Base at the newest version (its CRDs), its validator on the default tag's revision.
    assert (base.inputs["version"], base.inputs["values"]) == ("1.31.0", {"defaultRevision": OLD})
    for tag, revision, version in (("default", OLD, "1.30.3"), ("canary", NEW, "1.31.0")):
        release = found[f"istio-tag-{tag}"]
        assert release.inputs["name"] == f"revision-tag-{tag}"
        assert release.inputs["chart"] == f"{versions.TAG_CHARTS}/{version}/{versions.TAG_CHART}"
        assert release.inputs["values"] == {"revision": revision, "revisionTags": [tag]}
        # Promotion gated by its revision's check (test_a_tag_moves_only_after_its_check).
        assert any(d.endswith(f"::istio-check-{revision}-job") for d in release.dependencies)
    # The gateways follow the default tag: injected once its webhook exists.
    assert any(d.endswith("::istio-tag-default") for d in found["istio-ingress"].dependencies)
    assert "revision" not in found["istio-ingress"].inputs["values"]


def test_moving_a_tag_updates_its_release_and_base_in_place_and_renames_nothing():
    before, after = releases(canary()), releases(canary(default=NEW))
    assert before.keys() == after.keys()
    changed = {
        name
        for name in before
        if (before[name].inputs, before[name].dependencies)
        != (after[name].inputs, after[name].dependencies)
    }
    # The gateways follow the default tag: their pod annotation restarts them onto it.
    assert changed == {"istio-tag-default", "istio-base", "istio-ingress", "istio-egress"}
    annotation = {"meshstack.io/istio-revision": NEW}
    assert after["istio-ingress"].inputs["values"]["podAnnotations"] == annotation
    assert after["istio-base"].inputs["values"] == {"defaultRevision": NEW}
    assert after["istio-tag-default"].inputs["name"] == "revision-tag-default"


def test_adding_a_revision_leaves_the_running_ones_as_they_are():
    alone, both = releases(canary(canary_tag=None, revisions=TWO[:1])), releases(canary())
    for name in ("istio-istiod-1-30-3", "istio-tag-default"):
        assert alone[name].inputs == both[name].inputs
    assert set(both) - set(alone) == {"istio-istiod-1-31-0", "istio-tag-canary"}


def test_the_cni_runs_the_oldest_revision_and_moves_up_when_it_is_dropped():
    """Sidecar mode: istio-cni is supported at its control plane's version or one minor
    behind (istio.io/latest/docs/ambient/upgrade/helm), never ahead: with 1.30.3 and 1.31.0
    side by side it runs 1.30.3, and the drop of 1.30.3 upgrades it in place."""
    for overrides, version in (
        (canary(canary_tag=None, revisions=TWO[:1]), "1.30.3"),
        (canary(), "1.30.3"),
        (canary(default=NEW), "1.30.3"),
        (canary(default=NEW, canary_tag=None, revisions=TWO[1:]), "1.31.0"),
    ):
        cni = releases(overrides)["istio-cni"]
        assert (cni.inputs["version"], cni.inputs["values"]["global"]["tag"]) == (version, version)


# --- rendered side by side by the real Helm ----------------------------------------------------


def rendered_side_by_side(overrides: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        name: rendered(charts.Release.of(release.inputs))
        for name, release in releases(overrides).items()
    }


def identity(o: dict[str, Any]) -> tuple[str, str, str]:
    return (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])


@pytest.mark.parametrize("default", [OLD, NEW], ids=["default-on-1.30.3", "default-on-1.31.0"])
def test_both_revisions_render_together_without_conflict(default):
    by_release = rendered_side_by_side(canary(default=default))
    owners = Counter(identity(o) for objects in by_release.values() for o in objects)
    assert [o for o, n in owners.items() if n > 1] == []  # no object in two releases
    objects = [o for objects in by_release.values() for o in objects]
    services = {o["metadata"]["name"] for o in objects if o["kind"] == "Service"}
    hooks = {
        o["metadata"]["name"]: hook
        for o in objects
        if o["kind"] in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
        for hook in o["webhooks"]
    }
    called = {hook["clientConfig"]["service"]["name"] for hook in hooks.values()}
    assert called <= services, called - services  # each webhook's Service exists
    # The default tag's injector and base's validator call the same istiod.
    tag, validator = hooks["istio-revision-tag-default"], hooks["istiod-default-validator"]
    assert tag["clientConfig"]["service"]["name"] == f"istiod-{default}"
    assert validator["clientConfig"]["service"]["name"] == f"istiod-{default}"
    # Each tag's webhook selects the namespaces of its tag, its Service its revision's istiod.
    canary_hook = next(o for o in objects if o["metadata"]["name"] == "istio-revision-tag-canary")
    assert canary_hook["metadata"]["labels"]["istio.io/rev"] == NEW
    canary_service = next(
        o for o in objects if o["metadata"]["name"] == "istiod-revision-tag-canary"
    )
    assert canary_service["spec"]["selector"]["istio.io/rev"] == NEW


def test_the_tag_chart_renders_only_the_tag_objects():
    release = releases(canary())["istio-tag-canary"]
    objects = rendered(charts.Release.of(release.inputs))
    assert sorted(identity(o) for o in objects) == [
        ("MutatingWebhookConfiguration", "", "istio-revision-tag-canary"),
        ("Service", "istio-system", "istiod-revision-tag-canary"),
    ]


def test_make_charts_derives_a_tag_chart_per_pinned_istio_release(tmp_path):
    try:
        written = charts.derive_tag_charts(tmp_path)
    except charts.ChartUnavailable as missing:
        unavailable(str(missing), CHART_SOURCES)
    assert written == [
        str(tmp_path / version / versions.TAG_CHART) for version in versions.ISTIO_VERSIONS
    ]
    for version in versions.ISTIO_VERSIONS:
        chart = tmp_path / version / versions.TAG_CHART
        assert f"version: {version}" in (chart / "Chart.yaml").read_text()
        assert sorted(p.name for p in (chart / "templates").iterdir()) == [
            "revision-tags-mwc.yaml",
            "revision-tags-svc.yaml",
            "zzz_profile.yaml",
        ]


# --- promotion gated by checks ------------------------------------------------------------------


def test_a_tag_moves_only_after_its_revisions_check():
    declared = OfflineEngine().run("local", canary())
    jobs = {j.name: j for j in declared.of_type("kubernetes:batch/v1:Job")}
    for revision, version in ((OLD, "1.30.3"), (NEW, "1.31.0")):
        job = jobs[f"istio-check-{revision}-job"]
        assert job.inputs["metadata"] == {
            "name": f"revision-check-{revision}",
            "namespace": "istio-system",
        }
        env = {
            e["name"]: e["value"]
            for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        # A pod of that revision's injector, with that version's proxy.
        assert env["PROBE_LABELS"] == f'{{"istio.io/rev": "{revision}"}}'
        assert env["PROXY_TAG"] == version
        assert any(d.endswith(f"::istio-istiod-{revision}") for d in job.dependencies)


def test_the_package_s_workloads_name_their_tag_s_revision_and_restart_when_it_moves():
    def pods(overrides):
        declared = OfflineEngine().run("local", overrides)
        return {
            d.name: d.inputs["spec"]["template"]["metadata"].get("annotations", {})
            for d in declared.of_type("kubernetes:apps/v1:Deployment")
            if d.name.startswith("bookinfo")
        }

    before, after = pods(canary()), pods(canary(default=NEW))
    assert before and all(a["meshstack.io/istio-revision"] == OLD for a in before.values())
    assert all(a["meshstack.io/istio-revision"] == NEW for a in after.values())
    plain = pods({})  # without revision tags: no annotation (the 8 stacks' plans unchanged)
    assert all("meshstack.io/istio-revision" not in a for a in plain.values())


# --- the e2e run (tools/e2e/canary.py) ------------------------------------------------------


def test_the_real_run_takes_the_steps_checked_here(tmp_path):
    from tools.offline.engine import to_pulumi_strings

    directory = charts.charts_dir()
    if not (directory / "istiod" / "Chart.yaml").is_file():
        unavailable(f"no chart sources in {directory}", CHART_SOURCES)
    old_charts = charts.chart_source("istiod", "1.30.3").parent
    sources = {"1.30.3": old_charts, "1.31.0": directory}
    (tmp_path / "g.yaml").write_text("")
    base = lifecycle.stack_config(real.STACK, tmp_path / "k", directory, tmp_path / "g.yaml")
    for (_, revisions, tags), offline in zip(real.STEPS, UPGRADE, strict=True):
        config = real.config_of(base, revisions, tags, sources)
        loaded = load(to_pulumi_strings(config)).istio
        assert [r.model_dump(include={"name", "version"}) for r in loaded.declared_revisions()] == (
            offline["istio"]["revisions"]
        )
        assert loaded.tags == offline["istio"]["tags"]
        assert loaded.tag_charts == versions.TAG_CHARTS  # the default, relative
        by_version = {r.version: r.chart_repository for r in loaded.declared_revisions()}
        assert all(by_version[v] == f"file://{sources[v]}" for v in by_version)
