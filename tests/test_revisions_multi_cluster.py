"""Istio revisions in a mesh of several clusters and for a VM (docs/day-2.md "Revisions and
tags"): an istiod per revision and the tag releases in every primary, each revision's
remote-profile release and the tags in a remote, the east-west gateway routing each
revision's istiod by SNI host (istio/istio samples/multicluster/expose-istiod-rev.yaml.tmpl),
the VM on the `default` tag's revision; rendered side by side by the real Helm."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from meshstack.istio import vm_files
from stacks.config import ConfigError
from tests.conftest import rendered
from tests.variants import CANARY
from tools import charts
from tools.offline.engine import Declared, OfflineEngine
from tools.offline.fakes import FAKE_INTERNAL_ADDRESS

OLD, NEW = "1-30-3", "1-31-0"
PRIMARY, REMOTE = "gke-primary", "gke-remote"
REMOTE_PATH = f"/inject/cluster/{REMOTE}/net/network1"  # the default network


def canary(default: str = OLD, canary_tag: str = NEW, drop: str | None = None) -> dict[str, Any]:
    istio = CANARY["istio"]
    revisions = [r for r in istio["revisions"] if r["name"] != drop]
    return {"istio": {"revisions": revisions, "tags": {"default": default, "canary": canary_tag}}}


def run(stack: str, overrides: dict[str, Any], record: dict[str, Any] | None = None) -> Declared:
    engine = OfflineEngine()
    if record is not None:
        engine.state.record = record
    return engine.run(stack, overrides)


def releases(declared: Declared, cluster: str = "") -> dict[str, Any]:
    prefix = f"{cluster}-" if cluster else ""
    return {
        r.name.removeprefix(prefix): r
        for r in declared.of_type(charts.RELEASE_TYPE)
        if r.name.startswith(prefix)
    }


@pytest.fixture(scope="module")
def primary_remote() -> Declared:
    return run("primary-remote", canary())


# --- config ---------------------------------------------------------------------------------


def on_kubernetes_1_35(stack: str) -> dict[str, Any]:
    """The stack's clusters at Kubernetes 1.35 where they pin one: Istio 1.30 supports 1.32
    to 1.35 (multi-primary's ACK cluster pins 1.36)."""
    clusters = [
        {**c, "kubernetesVersion": "1.35"} if "kubernetesVersion" in c else c
        for c in _clusters(stack)
    ]
    return {"clusters": clusters}


@pytest.mark.parametrize("stack", ["multi-primary", "primary-remote", "vm"])
def test_revisions_are_built_for_multi_cluster_meshes_and_the_vm(stack):
    pinned = on_kubernetes_1_35(stack) if stack == "multi-primary" else {}
    declared = run(stack, canary() | pinned)
    assert declared.outputs["deployed"]["istio"] == {
        "revisions": [OLD, NEW],
        "tags": {"default": OLD, "canary": NEW},
    }


def test_a_revision_is_declared_once_for_the_mesh():
    # One istio block for every cluster: a cluster of its own revisions is no key at all.
    config = canary() | {
        "clusters": [
            {**c, "istio": canary(default=NEW)["istio"]} if c["name"] == REMOTE else c
            for c in _clusters("primary-remote")
        ]
    }
    with pytest.raises(ConfigError) as caught:
        run("primary-remote", config)
    assert "meshstack:clusters[1].istio" in str(caught.value)


def test_rules_about_istio_releases_judge_every_revision():
    # istio.version (the pinned 1.31.0) does not apply beside istio.revisions: each
    # revision's version is judged. 1.30.3 mishandles a rotated remote secret (#61043).
    rotating = {"membership": {"readerTokens": ["initial", "g2"], "activeReaderToken": "initial"}}
    with pytest.raises(ConfigError) as caught:
        run("primary-remote", canary() | rotating)
    message = str(caught.value)
    assert "meshstack:membership.readerTokens ['initial', 'g2'] rotates" in message
    assert "(meshstack:istio.revisions[0].version '1.30.3')" in message
    assert "istio.revisions[1]" not in message
    # Istio 1.30 supports Kubernetes 1.32 to 1.35 (versions.ISTIO_SUPPORTS_KUBERNETES).
    with pytest.raises(ConfigError) as caught:
        run("vm", canary() | {"cluster": {"kubernetesVersion": "1.36"}})
    assert "outside what Istio 1.30 supports" in str(caught.value)
    assert "another meshstack:istio.revisions[0].version" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        run("multi-primary", canary())  # its ACK cluster pins Kubernetes 1.36
    assert "meshstack:clusters[0].kubernetesVersion '1.36' is outside what Istio 1.30" in str(
        caught.value
    )
    # Unset, the cluster runs the package's default (ACK: versions.ALIBABA_KUBERNETES, 1.36),
    # which is judged the same way.
    unpinned = [
        {k: v for k, v in c.items() if k != "kubernetesVersion"} for c in _clusters("multi-primary")
    ]
    with pytest.raises(ConfigError) as caught:
        run("multi-primary", canary() | {"clusters": unpinned})
    assert (
        "meshstack:clusters[0].kubernetesVersion (unset: the default) '1.36' is outside what "
        "Istio 1.30"
    ) in str(caught.value)


TWO_CLUSTER = {"controlPlane": "istio"}


def test_two_cluster_retention_runs_revisions_with_its_own_istio_only():
    declared = run(
        "two-cluster-retention",
        TWO_CLUSTER | canary() | on_kubernetes_1_35("two-cluster-retention"),
    )
    for cluster in ("m1c1", "m1c2"):
        found = releases(declared, cluster)
        assert {f"istio-istiod-{OLD}", f"istio-istiod-{NEW}", "istio-tag-default"} <= set(found)
    pods = [
        d.inputs["spec"]["template"]["metadata"].get("annotations", {})
        for d in declared.of_type("kubernetes:apps/v1:Deployment")
        if "bookinfo" in d.name
    ]
    assert pods and all(a["meshstack.io/istio-revision"] == OLD for a in pods)
    with pytest.raises(ConfigError) as caught:
        run("two-cluster-retention", canary())  # controlPlane asm
    assert "istio.revisions does not apply with controlPlane asm" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        run("two-cluster-retention", TWO_CLUSTER | canary())  # its clusters at Kubernetes 1.36
    assert "outside what Istio 1.30 supports" in str(caught.value)


def _clusters(stack: str) -> list[dict[str, Any]]:
    from tools.offline.engine import merged_config

    return json.loads(json.dumps(merged_config(stack, {})["meshstack:clusters"]))


def test_dropping_a_revision_a_remote_still_runs_on_is_refused():
    # The remote's pods, injected by the old revision's istiod in the primary, still run on
    # it until they restart: the drop waits for the `up` after the tags moved.
    before = run("primary-remote", canary()).outputs["deployed"]
    with pytest.raises(ConfigError) as caught:
        run("primary-remote", canary(default=NEW, drop=OLD), before)
    assert f"meshstack:istio.revisions drops '{OLD}', which tag(s) 'default' named" in str(
        caught.value
    )
    moved = run("primary-remote", canary(default=NEW), before).outputs["deployed"]
    assert run("primary-remote", canary(default=NEW, drop=OLD), moved).outputs["deployed"]


def test_dropping_the_revision_the_vm_dials_is_refused():
    before = run("vm", canary()).outputs["deployed"]
    with pytest.raises(ConfigError) as caught:
        run("vm", canary(default=NEW, drop=OLD), before)
    assert f"drops '{OLD}', which tag(s) 'default' named" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        run("vm", canary(default=OLD, drop=OLD))  # a tag on a revision no longer declared
    assert f"istio.tags.default '{OLD}' names no revision" in str(caught.value)


# --- the graph --------------------------------------------------------------------------------


def test_every_primary_runs_an_istiod_per_revision_and_the_tags(primary_remote):
    found = releases(primary_remote, PRIMARY)
    for revision, version in ((OLD, "1.30.3"), (NEW, "1.31.0")):
        istiod = found[f"istio-istiod-{revision}"]
        assert (istiod.inputs["name"], istiod.inputs["version"]) == (f"istiod-{revision}", version)
        assert istiod.inputs["values"]["revision"] == revision
        assert istiod.inputs["values"]["global"]["externalIstiod"] is True  # serves the remote
    for tag, revision in (("default", OLD), ("canary", NEW)):
        values = found[f"istio-tag-{tag}"].inputs["values"]
        assert values == {"revision": revision, "revisionTags": [tag]}
    assert found["istio-base"].inputs["values"] == {"defaultRevision": OLD}


def test_a_remote_gets_each_revisions_remote_release_and_the_tags(primary_remote):
    found = releases(primary_remote, REMOTE)
    gateway = releases(primary_remote, PRIMARY)["eastwest-release"]
    address = gateway.inputs["values"]["service"]["loadBalancerIP"]
    for revision, version in ((OLD, "1.30.3"), (NEW, "1.31.0")):
        remote = found[f"istio-istiod-{revision}"]
        assert (remote.inputs["name"], remote.inputs["version"]) == (f"istiod-{revision}", version)
        values = remote.inputs["values"]
        assert (values["profile"], values["revision"]) == ("remote", revision)
        assert values["global"]["remotePilotAddress"] == address
        assert values["istiodRemote"]["injectionPath"] == REMOTE_PATH
    for tag, revision in (("default", OLD), ("canary", NEW)):
        values = found[f"istio-tag-{tag}"].inputs["values"]
        assert values == {
            "revision": revision,
            "revisionTags": [tag],
            "istiodRemote": {"injectionPath": REMOTE_PATH},
        }
    assert found["istio-base"].inputs["values"] == {"defaultRevision": OLD, "profile": "remote"}


def test_a_remote_tag_moves_after_its_revisions_check_in_the_remote(primary_remote):
    jobs = {j.name: j for j in primary_remote.of_type("kubernetes:batch/v1:Job")}
    primary = releases(primary_remote, PRIMARY)
    remote = releases(primary_remote, REMOTE)
    for tag, revision in (("default", OLD), ("canary", NEW)):
        check = jobs[f"{REMOTE}-istio-check-{revision}-job"]
        assert check.inputs["metadata"]["name"] == f"revision-check-{revision}"
        assert check.provider == remote[f"istio-istiod-{revision}"].provider  # in the remote
        # What answers the remote's injection of that revision: the primary's istiod of it,
        # through the east-west gateway.
        for target in (remote[f"istio-istiod-{revision}"], primary[f"istio-istiod-{revision}"]):
            assert primary_remote.depends_on(check, target)
        # The gateway's route of that revision's SNI host (and its release).
        for target in (f"{PRIMARY}-eastwest-istiod-vs-{revision}", f"{PRIMARY}-eastwest-release"):
            assert primary_remote.depends_on(check, primary_remote.named(target))
        assert primary_remote.depends_on(remote[f"istio-tag-{tag}"], check)


def test_moving_a_tag_in_a_remote_is_one_in_place_update():
    before, after = run("primary-remote", canary()), run("primary-remote", canary(default=NEW))
    old, new = releases(before), releases(after)
    assert old.keys() == new.keys()  # nothing renamed, nothing replaced
    changed = {n for n in old if old[n].inputs != new[n].inputs}
    assert changed == {
        f"{cluster}-{role}"
        for cluster in (PRIMARY, REMOTE)
        for role in ("istio-tag-default", "istio-base")
    } | {f"{PRIMARY}-istio-ingress", f"{PRIMARY}-eastwest-release"}
    # The gateways follow the default tag: their pods restart onto its revision.
    annotation = {"meshstack.io/istio-revision": NEW}
    assert new[f"{PRIMARY}-eastwest-release"].inputs["values"]["podAnnotations"] == annotation


def test_moving_default_runs_every_clusters_check_again_after_its_helloworld_moved():
    """The gate across clusters: each cluster's hello-world-check names the `default` tag's
    revision, so a move replaces its Job (it runs again), after every cluster's helloworld
    rolled onto the new revision (meshstack/apps/hello_world.py responders_check)."""
    before, after = run("primary-remote", canary()), run("primary-remote", canary(default=NEW))
    for cluster in (PRIMARY, REMOTE):
        job = after.named(f"{cluster}-hello-world-check-job")
        template = job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
        (checks,) = [json.loads(e["value"]) for e in template if e["name"] == "CHECKS"]
        assert [c["name"] for c in checks] == [
            f"hello-world answers from every cluster: {PRIMARY}, {REMOTE} (revision {NEW})"
        ]
        assert job.inputs != before.named(f"{cluster}-hello-world-check-job").inputs
        for each in (PRIMARY, REMOTE):
            app = after.named(f"{each}-hello-world-deployment")
            pod = app.inputs["spec"]["template"]["metadata"]
            assert pod["annotations"]["meshstack.io/istio-revision"] == NEW
            assert after.depends_on(job, app), (job.name, app.name)


# --- the east-west gateway: an SNI host per revision ---------------------------------------------


def expose_istiod_rev(revision: str) -> dict[str, Any]:
    """istio/istio samples/multicluster/expose-istiod-rev.yaml.tmpl (master 86c9f01, unchanged
    since 8605747), its VirtualService `istiod-vs-{{.Revision}}` for `revision`."""
    host = f"istiod-{revision}.istio-system.svc"
    return {
        "hosts": ["*"],
        "gateways": ["istiod-gateway"],
        "tls": [
            {
                "match": [{"port": port, "sniHosts": [host, f"{host}.cluster.local"]}],
                "route": [
                    {"destination": {"host": f"{host}.cluster.local", "port": {"number": target}}}
                ],
            }
            for port, target in ((15012, 15012), (15017, 443))
        ],
    }


@pytest.mark.parametrize("stack", ["primary-remote", "vm"])
def test_the_eastwest_gateway_routes_each_revisions_istiod_by_its_sni_host(stack):
    declared = run(stack, canary())
    prefix = {"primary-remote": f"{PRIMARY}-", "vm": ""}
    services = {
        r.manifest["metadata"]["name"]: r.manifest["spec"]
        for r in declared.istio_objects()
        if r.manifest["kind"] == "VirtualService"
    }
    assert services == {f"istiod-vs-{rev}": expose_istiod_rev(rev) for rev in (OLD, NEW)}
    gateway = declared.named(f"{prefix[stack]}eastwest-istiod-gateway").manifest
    assert [s["port"]["number"] for s in gateway["spec"]["servers"]] == [15012, 15017]
    # Without revisions: the one VirtualService of expose-istiod.yaml (plans unchanged).
    plain = {r.manifest["metadata"]["name"] for r in run(stack, {}).istio_objects()}
    assert {"istiod-gateway", "istiod-vs"} <= plain


# --- the VM ----------------------------------------------------------------------------------


def vm_files_of(declared: Declared) -> dict[str, str]:
    (instance,) = declared.of_type("gcp:compute/instance:Instance")
    return json.loads(instance.inputs["metadata"]["meshstack-mesh-files"])


def test_the_vm_dials_the_default_tags_revision_and_follows_its_move():
    before, after = vm_files_of(run("vm", canary())), vm_files_of(run("vm", canary(default=NEW)))
    for files, revision in ((before, OLD), (after, NEW)):
        host = f"istiod-{revision}.istio-system.svc"
        assert f"discoveryAddress: {host}:15012" in files[vm_files.MESH_CONFIG_PATH]
        assert f"CA_ADDR='{host}:15012'" in files[vm_files.CLUSTER_ENV_PATH]
        # istiod's name resolves to the east-west gateway's reserved address.
        assert files[vm_files.HOSTS_ADDENDUM] == f"{FAKE_INTERNAL_ADDRESS} {host}\n"
    # The files the VM's timer compares change, so it rewrites them and restarts the sidecar
    # (mesh_files_vm.py; run for real in tests/test_vm_files.py).
    changed = {path for path in before if before[path] != after[path]}
    paths = (vm_files.MESH_CONFIG_PATH, vm_files.CLUSTER_ENV_PATH, vm_files.HOSTS_ADDENDUM)
    assert changed == set(paths)


def test_the_vm_installs_the_default_tags_version():
    # Not istio.version (the pinned 1.31.0), which does not apply beside istio.revisions.
    (instance,) = run("vm", canary()).of_type("gcp:compute/instance:Instance")
    script = instance.inputs["metadata"]["startup-script"]
    assert vm_files.sidecar_package_url("1.30.3") in script
    assert vm_files.sidecar_package_url("1.31.0") not in script


# --- rendered side by side by the real Helm ----------------------------------------------------


def identity(o: dict[str, Any]) -> tuple[str, str, str]:
    return (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])


def rendered_cluster(declared: Declared, cluster: str) -> dict[str, list[dict[str, Any]]]:
    return {
        name: rendered(charts.Release.of(release.inputs))
        for name, release in releases(declared, cluster).items()
    }


def webhooks(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {
        o["metadata"]["name"]: o["webhooks"]
        for o in objects
        if o["kind"] in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
    }


@pytest.mark.parametrize("default", [OLD, NEW], ids=["default-on-1.30.3", "default-on-1.31.0"])
@pytest.mark.parametrize("cluster", [PRIMARY, REMOTE])
def test_each_cluster_renders_both_revisions_without_conflict(default, cluster):
    declared = run("primary-remote", canary(default=default))
    by_release = rendered_cluster(declared, cluster)
    owners = Counter(identity(o) for objects in by_release.values() for o in objects)
    assert [o for o, n in owners.items() if n > 1] == []  # no object in two releases
    objects = [o for objects in by_release.values() for o in objects]
    services = {o["metadata"]["name"] for o in objects if o["kind"] == "Service"}
    hooks = webhooks(objects)
    called = {h["clientConfig"]["service"]["name"] for each in hooks.values() for h in each}
    assert called <= services, called - services  # each webhook's Service exists here
    # The default tag's injector and base's validator call the same istiod.
    for name in ("istio-revision-tag-default", "istiod-default-validator"):
        assert {h["clientConfig"]["service"]["name"] for h in hooks[name]} == {f"istiod-{default}"}
    canary_hooks = hooks["istio-revision-tag-canary"]
    assert {h["clientConfig"]["service"]["name"] for h in canary_hooks} == {f"istiod-{NEW}"}


def test_a_remotes_webhooks_reach_their_revisions_istiod_through_the_gateway():
    declared = run("primary-remote", canary())
    address = releases(declared, PRIMARY)["eastwest-release"].inputs["values"]["service"][
        "loadBalancerIP"
    ]
    objects = [o for each in rendered_cluster(declared, REMOTE).values() for o in each]
    for revision in (OLD, NEW):
        # istiod-<revision> here is the remote release's Service with the gateway's address
        # (istiod chart templates/remote-istiod-service.yaml, remote-istiod-endpointslices.yaml).
        (slice_,) = [
            o
            for o in objects
            if o["kind"] == "EndpointSlice"
            and o["metadata"]["labels"].get("kubernetes.io/service-name") == f"istiod-{revision}"
        ]
        assert [a for e in slice_["endpoints"] for a in e["addresses"]] == [address]
    injectors = {
        name: each
        for name, each in webhooks(objects).items()
        if name.startswith(("istio-sidecar-injector", "istio-revision-tag"))
    }
    assert set(injectors) == {
        f"istio-sidecar-injector-{OLD}",
        f"istio-sidecar-injector-{NEW}",
        "istio-revision-tag-default",
        "istio-revision-tag-canary",
    }
    for name, each in injectors.items():
        revision = NEW if NEW in name or name.endswith("canary") else OLD
        for hook in each:
            service = hook["clientConfig"]["service"]
            # The SNI host the gateway routes to that revision's istiod in the primary.
            assert (service["name"], service["path"]) == (f"istiod-{revision}", REMOTE_PATH), name


def test_a_remotes_proxies_dial_their_revisions_sni_host():
    """The primary's istiod of a revision injects the remote's pods with its mesh config's
    discovery address (istiod chart templates/configmap.yaml: istiod-<revision>.<ns>.svc:15012
    without remotePilotAddress); that name is the remote's Service of the revision and an SNI
    host the gateway routes to that istiod."""
    declared = run("primary-remote", canary())
    primary = rendered_cluster(declared, PRIMARY)
    remote = [o for each in rendered_cluster(declared, REMOTE).values() for o in each]
    routes = {
        r.manifest["metadata"]["name"]: r.manifest["spec"]
        for r in declared.istio_objects()
        if r.manifest["kind"] == "VirtualService"
    }
    for revision in (OLD, NEW):
        (mesh,) = [
            o["data"]["mesh"]
            for o in primary[f"istio-istiod-{revision}"]
            if o["kind"] == "ConfigMap" and "mesh" in o.get("data", {})
        ]
        host = f"istiod-{revision}.istio-system.svc"
        assert f"discoveryAddress: {host}:15012" in mesh
        assert any(
            o["kind"] == "Service" and o["metadata"]["name"] == f"istiod-{revision}" for o in remote
        )
        sni = {
            h
            for rule in routes[f"istiod-vs-{revision}"]["tls"]
            for h in rule["match"][0]["sniHosts"]
        }
        assert host in sni


@pytest.mark.parametrize("stack", ["multi-mesh", "external-control-plane"])
def test_stacks_whose_scenario_builds_no_revisions_refuse_them(stack):
    """multi_cluster.OneRevisionIstioConfig: their scenarios build one istiod per mesh or
    external plane, so revisions there would be declared and not built."""
    engine = OfflineEngine()
    with pytest.raises(ConfigError) as caught:
        engine.run(stack, canary())
    assert not engine.monitor.recorded
    assert "istio.revisions is not built by this package for this scenario yet" in str(caught.value)
