"""Versions are resolved once and kept (stacks/config/lookups.py): what runs keeps its version
until the config names another, a new patch upgrades nothing, a minor that is no longer
creatable still previews, and ACK and ASM are never asked to go back."""

from __future__ import annotations

import json

import pytest

from meshstack import versions
from meshstack.alicloud.versions import asm_release, version_key
from stacks.config import ConfigError, load
from stacks.config.lookups import kept_version
from tools.offline.engine import OfflineEngine
from tools.offline.fakes import FAKE_ACK_VERSIONS, FAKE_ASM_VERSIONS

CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
MESH = "alicloud:servicemesh/serviceMesh:ServiceMesh"
REGION = "us-west-1"


def cluster_version(engine, running: str | None, wanted: str) -> str:
    """The version single-cluster's cluster is declared with, `running` already there (each
    call a fresh engine with `engine`'s catalog)."""
    fresh = OfflineEngine()
    fresh.catalog = engine.catalog
    if running:
        engine.catalog.clusters[(REGION, "hello-istio")] = running
    declared = fresh.run("single-cluster", {"cluster": {"kubernetesVersion": wanted}})
    (cluster,) = declared.of_type(CLUSTER)
    return cluster.inputs["version"]


def test_a_cluster_keeps_its_patch_when_a_newer_one_is_published(engine):
    assert FAKE_ACK_VERSIONS[-1] == "1.36.3-aliyun.1"  # the newest 1.36 ACK offers
    assert cluster_version(engine, "1.36.1-aliyun.1", "1.36") == "1.36.1-aliyun.1"
    assert ("ack_cluster_version", REGION, "hello-istio") in engine.catalog.asked


def test_an_existing_stack_previews_when_its_minor_is_no_longer_creatable(engine):
    assert not [v for v in FAKE_ACK_VERSIONS if v.startswith("1.33.")]
    assert cluster_version(engine, "1.33.2-aliyun.1", "1.33") == "1.33.2-aliyun.1"
    # Nor is an exact version that ACK stopped offering refused while it runs.
    assert cluster_version(engine, "1.33.2-aliyun.1", "1.33.2-aliyun.1") == "1.33.2-aliyun.1"


def test_a_new_cluster_gets_the_newest_patch_of_its_minor(engine):
    assert cluster_version(engine, None, "1.36") == "1.36.3-aliyun.1"


def test_naming_a_later_minor_is_the_upgrade(engine):
    assert cluster_version(engine, "1.35.2-aliyun.1", "1.36") == "1.36.3-aliyun.1"


@pytest.mark.parametrize("wanted", ["1.35", "1.36.1-aliyun.1"])
def test_an_earlier_version_than_the_one_running_is_refused(engine, wanted):
    with pytest.raises(ConfigError) as caught:
        cluster_version(engine, "1.36.3-aliyun.1", wanted)
    message = str(caught.value)
    assert f"meshstack:cluster.kubernetesVersion = {wanted!r}" in message
    assert "runs 1.36.3-aliyun.1, and ACK only upgrades" in message


def test_an_asm_instance_keeps_its_release_when_a_newer_one_is_published(engine):
    assert FAKE_ASM_VERSIONS[-1].startswith("v1.26.3")
    running = "v1.26.1.90-gfeedbee-aliyun"  # no longer offered at all
    engine.catalog.meshes[(REGION, "mesh1")] = running
    (mesh,) = engine.run("two-cluster-retention").of_type(MESH)
    assert mesh.inputs["version"] == running
    assert ("asm_mesh_version", REGION, "mesh1") in engine.catalog.asked


def test_the_members_of_two_cluster_keep_their_versions(engine):
    engine.catalog.clusters[(REGION, "m1c1")] = "1.36.1-aliyun.1"
    declared = engine.run("two-cluster-retention")
    versions = {c.inputs["name"]: c.inputs["version"] for c in declared.of_type(CLUSTER)}
    assert versions == {"m1c1": "1.36.1-aliyun.1", "m1c2": "1.36.3-aliyun.1"}


@pytest.mark.parametrize(
    ("running", "wanted", "exact", "expected"),
    [
        (None, "1.36", False, (None, False)),
        ("1.36.1-aliyun.1", "1.36", False, ("1.36.1-aliyun.1", False)),
        ("1.36.1-aliyun.1", "1.36.1-aliyun.1", True, ("1.36.1-aliyun.1", False)),
        ("1.36.1-aliyun.1", "1.36.3-aliyun.1", True, (None, False)),
        ("1.36.1-aliyun.1", "1.37", False, (None, False)),
        ("1.36.1-aliyun.1", "1.35", False, (None, True)),
        ("1.36.3-aliyun.1", "1.36.1-aliyun.1", True, (None, True)),
    ],
)
def test_the_rule_for_what_runs(running, wanted, exact, expected):
    assert kept_version(running, wanted, exact, version_key) == expected


def test_the_rule_reads_asm_releases_by_their_numbers():
    running = "v1.26.3.110-g0fedcba9-aliyun"
    assert kept_version(running, "1.26", False, asm_release) == (running, False)
    assert kept_version(running, "1.25", False, asm_release) == (None, True)
    assert kept_version(running, "v1.26.2.100-g1234abcd-aliyun", True, asm_release) == (
        None,
        True,
    )


GKE = "gcp:container/cluster:Cluster"
HELD = {
    "dailyMaintenanceWindow": {"startTime": "03:00"},
    "maintenanceExclusions": [
        {
            "exclusionName": "meshstack-hold-kubernetes-minor",
            "startTime": "2026-01-01T00:00:00Z",
            "exclusionOptions": {
                "scope": "NO_MINOR_UPGRADES",
                "endTimeBehavior": "UNTIL_END_OF_SUPPORT",
            },
        }
    ],
}


def test_the_istio_range_holds_every_default_minor():
    low, high = versions.ISTIO_SUPPORTS_KUBERNETES[".".join(versions.ISTIO.split(".")[:2])]
    for minor in (versions.ALIBABA_KUBERNETES, versions.GKE_KUBERNETES):
        assert low <= int(minor.split(".")[1]) <= high


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("vm", {}),
        ("vm", {"cluster": {"kubernetesVersion": "1.34"}}),
        ("multi-primary", {}),
    ],
    ids=["vm default", "vm configured", "multi-primary default"],
)
def test_gke_starts_at_the_configured_minor_and_holds_it(engine, stack, overrides):
    """GKE's channel would upgrade past Istio's range: the minor is min_master_version and a
    no-minor-upgrades exclusion until its end of support holds it (patches still apply)."""
    wanted = overrides.get("cluster", {}).get("kubernetesVersion", versions.GKE_KUBERNETES)
    clusters = engine.run(stack, overrides).of_type(GKE)
    assert clusters
    for cluster in clusters:
        assert cluster.inputs["minMasterVersion"] == wanted
        assert cluster.inputs["maintenancePolicy"] == HELD
        assert "releaseChannel" in cluster.inputs


@pytest.mark.parametrize("version", ["1.37", "1.31.4-gke.100"])
def test_a_gke_version_outside_istios_range_is_refused(version):
    with pytest.raises(ConfigError) as caught:
        load(
            {
                "meshstack:scenario": "vm",
                "meshstack:cluster": json.dumps({"kubernetesVersion": version}),
            }
        )
    assert f"meshstack:cluster.kubernetesVersion {version!r} is outside what Istio 1.31" in str(
        caught.value
    )
