"""Ambient revisions (istio.revisions with dataPlane ambient, istio.ambient.revision;
docs/day-2.md "Ambient"): an istiod per revision as in sidecar mode, one istio-cni and one
ztunnel at the declared revision, installed and upgraded after its istiod (ztunnel last),
waypoints and Gateway API gateways on the `default` tag, the steps refused against the last
`up`, and the releases rendered side by side by the real Helm from both versions' charts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from stacks.config import ConfigError
from tests.conftest import rendered
from tools import charts
from tools.offline.engine import Declared, OfflineEngine

STACK = "local-ambient"
OLD, NEW = "1-30-3", "1-31-0"
TWO = [{"name": OLD, "version": "1.30.3"}, {"name": NEW, "version": "1.31.0"}]
HELM = charts.RELEASE_TYPE


def ambient(
    node: str | None = OLD, default: str = OLD, revisions=TWO, **istio: Any
) -> dict[str, Any]:
    """The local-ambient stack's istio config with revisions (a test fixture, no stack file)."""
    config: dict[str, Any] = {
        "dataPlane": "ambient",
        "ingressServiceType": "ClusterIP",
        "revisions": revisions,
        "tags": {"default": default},
        **istio,
    }
    if node is not None:
        config["ambient"] = {"revision": node}
    return {"istio": config}


def refusal(overrides: dict[str, Any], previous: dict[str, Any] | None = None) -> str:
    engine = OfflineEngine()
    engine.state.record = previous
    with pytest.raises(ConfigError) as caught:
        engine.run(STACK, overrides)
    assert not engine.monitor.recorded  # refused before anything is registered
    return str(caught.value)


def run(overrides: dict[str, Any], previous: dict[str, Any] | None = None) -> Declared:
    engine = OfflineEngine()
    engine.state.record = previous
    return engine.run(STACK, overrides)


def releases(declared: Declared) -> dict[str, Any]:
    return {r.name: r for r in declared.of_type(HELM) if r.name.startswith("istio")}


# --- config ---------------------------------------------------------------------------------


def test_ambient_revisions_need_the_node_components_revision():
    message = refusal(ambient(node=None))
    assert (
        "meshstack:istio.revisions with dataPlane ambient needs istio.ambient.revision: the "
        f"revision istio-cni and ztunnel run (one of each per cluster serves every revision), "
        f"one of {OLD}, {NEW}"
    ) in message


def test_a_node_revision_that_is_not_declared_is_refused_with_every_other_mistake():
    message = refusal(ambient(node="1-29-0", revision="x"))
    assert "meshstack:istio.revision does not apply with istio.revisions" in message
    assert (
        f"meshstack:istio.ambient.revision '1-29-0' names no revision of istio.revisions "
        f"({OLD}, {NEW})"
    ) in message
    assert "a revision is dropped only once ztunnel has moved off it" in message


def test_ambient_revisions_outside_local_are_refused():
    """multi-primary-ambient builds istio-cni and ztunnel per cluster without the order above
    (stacks/config/mesh.py AMBIENT_REVISIONS): refused before anything is registered."""
    engine = OfflineEngine()
    with pytest.raises(ConfigError) as caught:
        engine.run("multi-primary-ambient", ambient(node=OLD))
    assert not engine.monitor.recorded
    assert "istio.revisions with dataPlane ambient is built by this package for the `local` " in (
        str(caught.value)
    )


def test_istio_ambient_outside_ambient_revisions_is_refused():
    sidecar = ambient()
    sidecar["istio"]["dataPlane"] = "sidecar"
    assert "meshstack:istio.ambient applies with dataPlane ambient only" in refusal(sidecar)
    alone = {"istio": {"dataPlane": "ambient", "ambient": {"revision": OLD}}}
    assert "meshstack:istio.ambient needs istio.revisions" in refusal(alone)


# --- the graph --------------------------------------------------------------------------------


def test_one_cni_and_one_ztunnel_run_the_declared_revision_after_its_istiod():
    declared = run(ambient())
    found = releases(declared)
    cni, ztunnel = found["istio-cni"], found["istio-ztunnel"]
    for release in (cni, ztunnel):
        assert release.inputs["version"] == "1.30.3"  # the revision's chart
    assert cni.inputs["values"]["global"]["tag"] == "1.30.3"
    # The chart's `revision`: ztunnel dials istiod-1-30-3 (test_rendered_side_by_side...).
    assert (ztunnel.inputs["values"]["revision"], ztunnel.inputs["values"]["tag"]) == (
        OLD,
        "1.30.3",
    )
    istiod = found[f"istio-istiod-{OLD}"]
    check = declared.named(f"istio-check-{OLD}-job")
    # istiod → (its check) → istio-cni → ztunnel, each waiting for the one before.
    assert declared.depends_on(cni, istiod) and declared.depends_on(cni, check)
    assert declared.depends_on(ztunnel, cni) and declared.depends_on(ztunnel, check)
    # The other revision's istiod is not theirs to wait for.
    assert not declared.depends_on(ztunnel, found[f"istio-istiod-{NEW}"])
    # Workloads wait for ztunnel; the waypoint also for the `default` tag's istiod, which
    # deploys it.
    waypoint = declared.named("bookinfo-waypoint")
    assert declared.depends_on(waypoint, ztunnel)
    assert declared.depends_on(waypoint, found["istio-tag-default"])
    for deployment in declared.of_type("kubernetes:apps/v1:Deployment"):
        if deployment.manifest["metadata"]["namespace"] == "bookinfo":
            assert declared.depends_on(deployment, ztunnel), deployment.name


def test_moving_the_node_revision_upgrades_cni_and_ztunnel_in_place_and_nothing_else():
    before, after = releases(run(ambient(default=NEW))), releases(run(ambient(NEW, NEW)))
    assert before.keys() == after.keys()  # nothing renamed: an in-place update
    changed = {n for n in before if before[n].inputs != after[n].inputs}
    assert changed == {"istio-cni", "istio-ztunnel"}
    assert after["istio-ztunnel"].inputs["values"]["revision"] == NEW
    assert after["istio-cni"].inputs["version"] == "1.31.0"


def test_waypoints_and_gateway_api_gateways_follow_the_default_tag():
    # istiod deploys a Gateway (a waypoint too) when it is "mine": one without an istio.io/rev
    # label, in a namespace without one, belongs to the istiod of the `default` tag
    # (istio/istio release-1.31 pkg/revisions/tag_watcher.go 133-157 IsMine,
    # pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go 356): moving the tag moves
    # them, and none names a revision that could be dropped under it.
    declared = run(ambient())
    gateways = declared.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert {g.name for g in gateways} == {"bookinfo-waypoint", "bookinfo-routing-gateway"}
    for gateway in gateways:
        assert "istio.io/rev" not in (gateway.manifest["metadata"].get("labels") or {})
    namespace = declared.named("bookinfo-namespace").manifest["metadata"]
    assert "istio.io/rev" not in namespace["labels"]


# --- steps between runs (stacks/config/previous.py) ----------------------------------------

# One `up` each: 1.30.3 alone; add 1.31.0; move the `default` tag (the waypoints and
# gateways); move istio-cni and ztunnel; drop 1.30.3.
UPGRADE = [
    ambient(revisions=TWO[:1]),
    ambient(),
    ambient(default=NEW),
    ambient(NEW, NEW),
    ambient(NEW, NEW, revisions=TWO[1:]),
]


def test_the_ambient_upgrade_in_steps_is_accepted_and_recorded():
    before = run(UPGRADE[0]).outputs["deployed"]
    assert before["istio"] == {"revisions": [OLD], "tags": {"default": OLD}, "ambientRevision": OLD}
    for step in UPGRADE[1:]:
        before = run(step, before).outputs["deployed"]
    assert before["istio"] == {"revisions": [NEW], "tags": {"default": NEW}, "ambientRevision": NEW}


def test_dropping_the_revision_ztunnel_ran_in_the_up_that_moves_it_is_refused():
    previous = run(ambient(default=NEW)).outputs["deployed"]
    message = refusal(ambient(NEW, NEW, revisions=TWO[1:]), previous)
    assert (
        f"meshstack:istio.revisions drops '{OLD}', the revision istio-cni and ztunnel ran in "
        "this stack's last `pulumi up`: move istio.ambient.revision in one `up`, then drop"
    ) in message


# --- rendered side by side by the real Helm ----------------------------------------------------


def identity(o: dict[str, Any]) -> tuple[str, str, str]:
    return (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])


def env_of(objects: list[dict[str, Any]], kind: str, container: str) -> dict[str, str]:
    (workload,) = [o for o in objects if o["kind"] == kind]
    (found,) = [
        c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == container
    ]
    return {e["name"]: e.get("value", "") for e in found["env"]}


@pytest.mark.parametrize("node", [OLD, NEW], ids=["nodes-on-1.30.3", "nodes-on-1.31.0"])
def test_rendered_side_by_side_ztunnel_dials_its_revisions_istiod(node):
    by_release = {
        name: rendered(charts.Release.of(release.inputs))
        for name, release in releases(run(ambient(node))).items()
    }
    owners = Counter(identity(o) for objects in by_release.values() for o in objects)
    assert [o for o, n in owners.items() if n > 1] == []  # no object in two releases
    version = {OLD: "1.30.3", NEW: "1.31.0"}[node]
    ztunnel = by_release["istio-ztunnel"]
    env = env_of(ztunnel, "DaemonSet", "istio-proxy")
    address = f"istiod-{node}.istio-system.svc:15012"
    assert (env["XDS_ADDRESS"], env["CA_ADDRESS"]) == (address, address)
    # That Service exists: its revision's istiod release renders it.
    services = {
        o["metadata"]["name"] for o in by_release[f"istio-istiod-{node}"] if o["kind"] == "Service"
    }
    assert f"istiod-{node}" in services
    (daemon_set,) = [o for o in ztunnel if o["kind"] == "DaemonSet"]
    (proxy,) = daemon_set["spec"]["template"]["spec"]["containers"]
    assert proxy["image"].endswith(f"/ztunnel:{version}-distroless")
    # The disruption model docs/day-2.md describes: the chart's own strategy, a new pod
    # beside the old on each node before the old one drains (ztunnel values.yaml).
    assert daemon_set["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    (cni,) = [o for o in by_release["istio-cni"] if o["kind"] == "DaemonSet"]
    assert cni["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        f"/install-cni:{version}-distroless"
    )


# --- the e2e run (tools/e2e/ambient_canary.py) ------------------------------------------------


def test_the_real_run_takes_the_steps_checked_here(tmp_path):
    from stacks.config import load
    from tests.conftest import CHART_SOURCES, unavailable
    from tools.e2e import ambient_canary as real
    from tools.e2e import lifecycle
    from tools.offline.engine import to_pulumi_strings

    directory = charts.charts_dir()
    if not (directory / "istiod" / "Chart.yaml").is_file():
        unavailable(f"no chart sources in {directory}", CHART_SOURCES)
    sources = {"1.30.3": charts.chart_source("istiod", "1.30.3").parent, "1.31.0": directory}
    (tmp_path / "g.yaml").write_text("")
    base = lifecycle.stack_config(real.STACK, tmp_path / "k", directory, tmp_path / "g.yaml")
    for (_, revisions, default, node), offline in zip(real.STEPS, UPGRADE, strict=True):
        loaded = load(to_pulumi_strings(real.config_of(base, revisions, default, node, sources)))
        istio = loaded.istio
        assert [r.model_dump(include={"name", "version"}) for r in istio.declared_revisions()] == (
            offline["istio"]["revisions"]
        )
        assert istio.tags == offline["istio"]["tags"]
        assert istio.ambient is not None
        assert istio.ambient.revision == offline["istio"]["ambient"]["revision"]
        assert istio.data_plane == "ambient"
    # The step refused before "move cni and ztunnel": that step with 1.30.3 dropped.
    assert real.REFUSED[:3] == ((real.NEW,), NEW, NEW)
    previous = run(UPGRADE[2]).outputs["deployed"]
    assert real.REFUSED[3] in refusal(ambient(NEW, NEW, revisions=TWO[1:]), previous)


def test_the_real_run_passes_only_with_every_step_in_place_and_ztunnel_moved():
    from tools.e2e import ambient_canary as real

    steps = [
        {"step": s[0], "exit": 0, "seconds": 1, "changes": {}, "replaces": []} for s in real.STEPS
    ]
    good = {
        "steps": steps,
        "refused": {"exit": 1, "said": True},
        "ztunnel": {
            "xds": f"istiod-{NEW}.istio-system.svc:15012",
            "image": "docker.io/istio/ztunnel:1.31.0-distroless",
        },
        "destroy": {"exit": 0, "leftovers": []},
    }
    assert real.passed(good)
    replaced = [
        {**s, "replaces": ["urn:...::kubernetes:helm.sh/v3:Release::istio-ztunnel"]} for s in steps
    ]
    old_istiod = {"xds": f"istiod-{OLD}.istio-system.svc:15012", "image": good["ztunnel"]["image"]}
    for bad in (
        {"steps": replaced},
        {"ztunnel": old_istiod},
        {"refused": {"exit": 0, "said": False}},
        {"destroy": {"exit": 0, "leftovers": ["Namespace/bookinfo"]}},
    ):
        assert not real.passed({**good, **bad}), bad
