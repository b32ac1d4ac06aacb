"""Remote-secret credentials (issue #32 item 3): reader-token generations, remote secrets
updated in place, the gate that every istiod synced every cluster, token-only kubeconfigs,
and the Istio releases on which rotation is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from meshstack import versions
from meshstack.istio import remote_sync, remote_sync_job
from meshstack.istio.topology import (
    FIRST_READER_TOKEN,
    ReaderTokens,
    TopologyError,
    broken_rotation,
)
from meshstack.jobs import AUDIENCE_TOKENS_PATH
from stacks.config import ConfigError, load
from stacks.config.cluster import MembershipConfig, rotation_refused
from tests.config_mistakes import MC, mesh_cluster, raw
from tests.variants import CANARY
from tools.offline.engine import Declared, OfflineEngine
from tools.offline.fakes import FAKE_READER_TOKEN
from tools.stack_file import stack_config, stack_names

SECRET = "kubernetes:core/v1:Secret"
JOB = "kubernetes:batch/v1:Job"
KUBE_PROVIDER = "pulumi:providers:kubernetes"
ROTATING = {"membership": {"readerTokens": ["initial", "g2"], "activeReaderToken": "g2"}}


def kubeconfigs(declared: Declared) -> dict[str, dict[str, Any]]:
    """Every kubeconfig in a remote secret the stack declares, by `<Secret's resource>/<key>`."""
    found = {}
    for secret in declared.of_type(SECRET):
        labels = secret.inputs["metadata"].get("labels") or {}
        if labels.get("istio/multiCluster") == "true":
            for key, value in secret.inputs["stringData"].items():
                found[f"{secret.name}/{key}"] = yaml.safe_load(value)
    return found


def reader_tokens(declared: Declared) -> list[tuple[str, str]]:
    return sorted(
        (r.name, r.inputs["metadata"]["name"])
        for r in declared.of_type(SECRET)
        if r.inputs.get("type") == "kubernetes.io/service-account-token"
    )


# --- config -------------------------------------------------------------------------------


def test_one_generation_by_default_so_existing_stacks_keep_their_names():
    tokens = MembershipConfig().tokens
    assert tokens == ReaderTokens((FIRST_READER_TOKEN,), FIRST_READER_TOKEN)


def test_a_rotation_names_its_active_generation():
    stack = load(raw(MC, clusters=[mesh_cluster("a", 0), mesh_cluster("b", 1)], **ROTATING))
    assert stack.membership.tokens == ReaderTokens(("initial", "g2"), "g2")  # type: ignore[union-attr]


def test_the_active_generation_must_be_declared():
    with pytest.raises(TopologyError):
        ReaderTokens(("g2",), "initial")
    with pytest.raises(ConfigError, match="activeReaderToken 'initial' is not in"):
        load(
            raw(
                MC,
                clusters=[mesh_cluster("a", 0), mesh_cluster("b", 1)],
                membership={"readerTokens": ["g2"], "activeReaderToken": "initial"},
            )
        )


@pytest.mark.parametrize(
    ("version", "broken"),
    [
        # istio/istio#61043: confirmed on 1.30.1 and 1.30.3; its fix (#61159) is on
        # release-1.30 after the 1.30.3 tag.
        ("1.30.0", True),
        ("1.30.3", True),
        ("1.30.4", False),
        # The 1.31 fix (#61160, 6fa1477ded1) is in 1.31.0-beta.2 and every later 1.31 tag.
        ("1.31.0", False),
        # Before 1.30 a changed remote secret removed the cluster before adding it (#36365).
        ("1.29.9", True),
    ],
)
def test_rotation_is_refused_where_istio_mishandles_a_changed_remote_secret(version, broken):
    assert (broken_rotation(version) is not None) == broken
    rotating = MembershipConfig.model_validate(ROTATING["membership"])
    problems = rotation_refused(rotating, version)
    assert bool(problems) == broken
    if broken:
        assert "membership.readerTokens ['initial', 'g2']" in problems[0]
        assert "istio/istio#" in problems[0]
    # One generation changes no remote secret: nothing to refuse, whatever the release.
    assert rotation_refused(MembershipConfig(), version) == []


def test_the_pinned_istio_rotates_safely():
    assert broken_rotation(versions.ISTIO) is None


# --- declared resources -------------------------------------------------------------------


@pytest.fixture
def deployed() -> Declared:
    return OfflineEngine().run("multi-primary")


@pytest.fixture
def rotating(deployed) -> Declared:
    # Fresh mocks, after `deployed`'s run: one stack per engine.
    return OfflineEngine().run("multi-primary", ROTATING)


def test_each_generation_is_its_own_token_secret_in_each_cluster_read(deployed, rotating):
    before = reader_tokens(deployed)
    # The first generation keeps the resource and Secret names of a stack deployed before.
    assert before == [
        ("membership-ack-west-reader-token", "istio-reader-service-account-token"),
        ("membership-gke-west-reader-token", "istio-reader-service-account-token"),
    ]
    assert reader_tokens(rotating) == sorted(
        [
            *before,
            ("membership-ack-west-reader-token-g2", "istio-reader-service-account-token-g2"),
            ("membership-gke-west-reader-token-g2", "istio-reader-service-account-token-g2"),
        ]
    )


def test_remote_secrets_use_the_active_generation_under_the_same_resource(deployed, rotating):
    before = kubeconfigs(deployed)
    after = kubeconfigs(rotating)
    # Same resources (same URNs: an update, not a replacement), the new token in each.
    assert (
        set(before)
        == set(after)
        == {
            "membership-in-ack-west/gke-west",
            "membership-in-gke-west/ack-west",
        }
    )
    for key, kubeconfig in after.items():
        assert kubeconfig["users"][0]["user"] == {"token": f"{FAKE_READER_TOKEN}-g2"}, key
        assert before[key]["users"][0]["user"] == {"token": FAKE_READER_TOKEN}, key


def test_every_kubernetes_provider_updates_secrets_in_place(engine):
    # pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties: unless the provider
    # sets enableSecretMutable, a change of a Secret's data or stringData replaces it (here
    # a delete, then a create: its name is fixed), and istiod drops every cluster the
    # deleted remote secret named (secretcontroller.go deleteRemoteConfig).
    providers = engine.run("multi-primary").of_type(KUBE_PROVIDER)
    assert len(providers) == 2
    for provider in providers:
        assert provider.inputs.get("enableSecretMutable") == "true", provider.name


def test_a_new_generation_runs_the_gate_again_in_every_reading_cluster(deployed, rotating):
    def gates(declared: Declared) -> dict[str, dict[str, str]]:
        return {
            job.name: {
                e["name"]: e.get("value")
                for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
            }
            for job in declared.of_type(JOB)
            if job.inputs["metadata"]["name"] == remote_sync.ACCOUNT
        }

    before, after = gates(deployed), gates(rotating)
    assert (
        set(before)
        == set(after)
        == {
            "membership-in-ack-west-synced-job",
            "membership-in-gke-west-synced-job",
        }
    )
    for name, env in after.items():
        # A changed pod template replaces the Job, so `pulumi up` waits for it again.
        assert (before[name]["GENERATION"], env["GENERATION"]) == ("initial", "g2")
        assert env["SECRET"] == "istio-system/istio-remote-secrets"
    assert json.loads(after["membership-in-ack-west-synced-job"]["CLUSTERS"]) == ["gke-west"]


def test_the_gate_waits_for_the_remote_secret_and_istiod(rotating):
    job = rotating.named("membership-in-gke-west-synced-job")
    waits_for = {rotating.by_urn(urn).name for urn in job.dependencies}
    assert {"membership-in-gke-west", "gke-west-istio-istiod"} <= waits_for


def test_no_gate_when_checks_are_off(engine):
    declared = engine.run("multi-primary", {"verify": {"enabled": False}})
    assert not [j for j in declared.of_type(JOB) if j.name.endswith("-synced-job")]


def test_the_gate_reads_the_token_where_the_pod_mounts_it():
    assert f"{AUDIENCE_TOKENS_PATH}/{remote_sync.ISTIO_AUDIENCE}" == remote_sync_job.ISTIO_TOKEN


# Every stack that declares remote secrets; two-cluster-retention only with Istio's own
# control plane (ASM reads its members itself).
MULTI_CLUSTER = [
    ("multi-primary", {}),
    ("multi-primary-ambient", {}),
    ("primary-remote", {}),
    ("two-cluster-retention", {"controlPlane": "istio"}),
]


def test_the_list_of_multi_cluster_stacks_is_complete():
    scenarios = {stack: stack_config(stack)["meshstack:scenario"] for stack in stack_names()}
    several = {"multi-cluster", "two-cluster-retention"}
    assert {s for s, scenario in scenarios.items() if scenario in several} == {
        stack for stack, _ in MULTI_CLUSTER
    }


@pytest.mark.parametrize(("stack", "overrides"), MULTI_CLUSTER, ids=[s for s, _ in MULTI_CLUSTER])
def test_every_remote_kubeconfig_authenticates_with_a_token_only(engine, stack, overrides):
    """istiod refuses kubeconfigs with exec, auth-provider or file references (istio/istio
    release-1.31 pkg/kube/util.go sanitizeKubeConfig), and a cloud's exec plugin
    (gke-gcloud-auth-plugin) would not exist in istiod's image anyway."""
    found = kubeconfigs(engine.run(stack, overrides))
    assert found, f"{stack} declares no remote secret"
    for key, kubeconfig in found.items():
        assert [u["user"] for u in kubeconfig["users"]] == [{"token": FAKE_READER_TOKEN}], key
        for cluster in kubeconfig["clusters"]:
            assert set(cluster["cluster"]) == {"server", "certificate-authority-data"}, key
        assert set(kubeconfig) == {
            "apiVersion",
            "kind",
            "clusters",
            "users",
            "contexts",
            "current-context",
        }, key


# --- the gate's script --------------------------------------------------------------------


SETTINGS = {
    "NAMESPACE": "istio-system",
    "SERVICE": "istiod",
    "SECRET": "istio-system/istio-remote-secrets",
    "CLUSTERS": json.dumps(["east", "west"]),
    "GENERATION": "g2",
    "DEADLINE_SECONDS": "30",
}


def endpoints(*pods: tuple[str, str], not_ready: tuple[tuple[str, str], ...] = ()) -> dict:
    """What the API server answers for istiod's Endpoints (core/v1 Endpoints: subsets of
    addresses and notReadyAddresses, each with its pod as targetRef)."""

    def addresses(entries):
        return [{"ip": ip, "targetRef": {"kind": "Pod", "name": name}} for name, ip in entries]

    subset = {"addresses": addresses(pods), "notReadyAddresses": addresses(not_ready)}
    return {"subsets": [subset] if pods or not_ready else []}


def clusterz(**statuses: str) -> list[dict[str, str]]:
    """What /debug/clusterz answers (pkg/cluster/debug.go DebugInfo: id, secretName,
    syncStatus): the config cluster first, without a secret."""
    return [
        {"id": "local", "secretName": "", "syncStatus": "synced"},
        *(
            {"id": cluster, "secretName": "istio-system/istio-remote-secrets", "syncStatus": s}
            for cluster, s in statuses.items()
        ),
    ]


class FakeCluster:
    def __init__(self, answers: dict[str, list[tuple[int, Any]]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def __call__(self, url: str, token: str, cafile: str | None) -> tuple[int, Any]:
        self.calls.append((url, token))
        queue = self.answers[url]
        return queue.pop(0) if len(queue) > 1 else queue[0]


PODS_URL = f"{remote_sync_job.KUBERNETES}/api/v1/namespaces/istio-system/endpoints/istiod"


def run_gate(fake: FakeCluster) -> str:
    clock = iter(range(0, 10_000, 10))
    return remote_sync_job.wait(
        fake, SETTINGS, lambda: ("api-token", "istio-token"), lambda: next(clock), lambda _: None
    )


def test_gate_passes_once_every_istiod_has_synced_every_cluster():
    fake = FakeCluster(
        {
            PODS_URL: [
                # A new istiod not ready yet is waited for, then asked like the others.
                (200, endpoints(("istiod-a", "10.0.0.1"), not_ready=(("istiod-b", "fd00::2"),))),
                (200, endpoints(("istiod-a", "10.0.0.1"), ("istiod-b", "fd00::2"))),
            ],
            "http://10.0.0.1:15014/debug/clusterz": [
                (200, clusterz(east="syncing", west="synced")),
                (200, clusterz(east="synced", west="synced")),
            ],
            "http://[fd00::2]:15014/debug/clusterz": [
                (200, clusterz(east="synced", west="synced"))
            ],
        }
    )
    assert "every istiod has synced east, west (reader token g2)" in run_gate(fake)
    asked = [(url, token) for url, token in fake.calls if url != PODS_URL]
    # Each istiod, with the istio-ca token, once all of them are ready.
    assert {url for url, _ in asked} == {
        "http://10.0.0.1:15014/debug/clusterz",
        "http://[fd00::2]:15014/debug/clusterz",
    }
    assert {token for _, token in asked} == {"istio-token"}
    assert all(token == "api-token" for url, token in fake.calls if url == PODS_URL)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((200, clusterz(east="timeout", west="synced")), "istiod-a: east: timeout"),
        (
            (200, clusterz(west="synced")),
            "istiod-a: east: not read from istio-system/istio-remote-secrets",
        ),
        ((401, "Unauthorized"), "istiod-a: clusterz: HTTP 401: Unauthorized"),
    ],
)
def test_gate_fails_with_what_each_istiod_showed(answer, expected):
    fake = FakeCluster(
        {
            PODS_URL: [(200, endpoints(("istiod-a", "10.0.0.1")))],
            "http://10.0.0.1:15014/debug/clusterz": [answer],
        }
    )
    with pytest.raises(SystemExit, match="remote clusters not synced") as failed:
        run_gate(fake)
    assert expected in str(failed.value)


def test_gate_fails_without_a_ready_istiod():
    fake = FakeCluster({PODS_URL: [(200, endpoints())]})
    with pytest.raises(SystemExit, match="no ready istiod pod behind istio-system/istiod"):
        run_gate(fake)


def test_what_the_gate_proved_is_in_the_verified_output(rotating):
    verified = rotating.outputs["verified"]
    assert verified["membership-in-ack-west-synced"] == [
        "every istiod synced gke-west with reader token g2"
    ]
    assert verified["membership-in-gke-west-synced"] == [
        "every istiod synced ack-west with reader token g2"
    ]


def test_with_revisions_the_gate_asks_every_revisions_istiod():
    # Each revision's istiod reads the remote secrets (docs/day-2.md, revisions).
    old, new = (
        f"{remote_sync_job.KUBERNETES}/api/v1/namespaces/istio-system/endpoints/{s}"
        for s in ("istiod-1-30-3", "istiod-1-31-0")
    )
    fake = FakeCluster(
        {
            old: [(200, endpoints(("istiod-1-30-3-a", "10.0.0.1")))],
            new: [(200, endpoints(("istiod-1-31-0-a", "10.0.0.2")))],
            "http://10.0.0.1:15014/debug/clusterz": [(200, clusterz(east="synced", west="synced"))],
            "http://10.0.0.2:15014/debug/clusterz": [
                (200, clusterz(east="synced", west="syncing")),
                (200, clusterz(east="synced", west="synced")),
            ],
        }
    )
    settings = {**SETTINGS, "SERVICE": "istiod-1-30-3 istiod-1-31-0"}
    clock = iter(range(0, 10_000, 10))
    result = remote_sync_job.wait(
        fake, settings, lambda: ("api-token", "istio-token"), lambda: next(clock), lambda _: None
    )
    assert "every istiod has synced east, west" in result
    # The new revision's istiod was asked until it had synced west too.
    assert [u for u, _ in fake.calls].count("http://10.0.0.2:15014/debug/clusterz") == 2


def test_with_revisions_the_gate_job_names_each_revisions_service():
    declared = OfflineEngine().run("primary-remote", CANARY)
    (job,) = [j for j in declared.of_type("kubernetes:batch/v1:Job") if "synced" in j.name]
    env = {
        e["name"]: e["value"]
        for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["SERVICE"] == "istiod-1-30-3 istiod-1-31-0"  # the default tag's first
    for revision in ("1-30-3", "1-31-0"):
        istiod = declared.named(f"gke-primary-istio-istiod-{revision}")
        assert declared.depends_on(job, istiod)
    (role,) = [
        r
        for r in declared.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
        if "synced" in r.name
    ]
    assert role.inputs["rules"][0]["resourceNames"] == ["istiod-1-30-3", "istiod-1-31-0"]
