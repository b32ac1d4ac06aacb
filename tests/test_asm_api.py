"""ASM membership and kubeconfig through ASM's API (components/meshstack/alicloud/asm_api.py and the
dynamic resources over it), against a fake ASM whose behaviour follows ASM's API reference:

- AddClusterIntoServiceMesh / RemoveClusterFromServiceMesh change one cluster; the instance
  is then "updating" until it is "running" again ("Add a cluster to an ASM instance": confirm
  that the status changes to Running);
- DescribeServiceMeshDetail lists the members (ServiceMesh.Clusters) and the state
  (ServiceMesh.ServiceMeshInfo.State);
- DescribeServiceMeshKubeconfig returns Kubeconfig and ExpireTime; PrivateIpAddress chooses
  the VPC-internal (true) or the public (false) endpoint.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from alibabacloud_cs20151215 import client as cs_client
from alibabacloud_cs20151215 import models as cs
from alibabacloud_servicemesh20200111 import client as mesh_client
from alibabacloud_servicemesh20200111 import models
from alibabacloud_vpc20160428 import client as vpc_client
from alibabacloud_vpc20160428 import models as vpc

from meshstack.alicloud.asm_api import AsmError, SdkMeshApi, expires_soon, join, leave
from meshstack.alicloud.asm_resources import KubeconfigProvider, MemberProvider
from meshstack.alicloud.catalog import AlibabaCatalog
from meshstack.alicloud.credentials import AlibabaCredentials

NO_WAIT = {"clock": itertools.count().__next__, "nap": lambda _: None, "timeout": 1000}


class FakeAsm:
    """One ASM instance; every change passes through `updating_polls` updating states."""

    def __init__(self, members: list[str], updating_polls: int = 2) -> None:
        self.clusters = list(members)
        self.updating = 0
        self.polls = updating_polls
        self.calls: list[tuple[str, str]] = []

    def members(self, mesh_id: str) -> list[str]:
        return list(self.clusters)

    def state(self, mesh_id: str) -> str:
        if self.updating:
            self.updating -= 1
            return "updating"
        return "running"

    def add(self, mesh_id: str, cluster_id: str) -> None:
        assert self.updating == 0, "a change while the instance was updating"
        self.calls.append(("add", cluster_id))
        self.clusters.append(cluster_id)
        self.updating = self.polls

    def remove(self, mesh_id: str, cluster_id: str) -> None:
        assert self.updating == 0, "a change while the instance was updating"
        self.calls.append(("remove", cluster_id))
        self.clusters.remove(cluster_id)
        self.updating = self.polls

    def kubeconfig(self, mesh_id: str, private: bool) -> tuple[str, str]:
        return ("private" if private else "public"), "2027-01-01T00:00:00Z"


def test_joining_adds_only_the_new_cluster_and_waits_until_running():
    asm = FakeAsm(["m1c1", "m1c2"])
    join(asm, "mesh1", "m1c3", **NO_WAIT)
    assert asm.calls == [("add", "m1c3")]  # m1c1 and m1c2 are never touched
    assert asm.members("mesh1") == ["m1c1", "m1c2", "m1c3"]
    assert asm.updating == 0  # it waited for "running"


def test_joining_an_existing_member_changes_nothing():
    asm = FakeAsm(["m1c1", "m1c2"])
    join(asm, "mesh1", "m1c1", **NO_WAIT)
    assert asm.calls == []


def test_a_change_waits_for_an_earlier_one_to_finish():
    asm = FakeAsm(["m1c1"])
    asm.updating = 3  # another member is being added
    join(asm, "mesh1", "m1c2", **NO_WAIT)  # FakeAsm asserts no change while updating
    assert asm.calls == [("add", "m1c2")]


def test_leaving_removes_only_that_cluster_and_only_once():
    asm = FakeAsm(["m1c1", "m1c2", "m1c3"])
    leave(asm, "mesh1", "m1c2", **NO_WAIT)
    leave(asm, "mesh1", "m1c2", **NO_WAIT)
    assert asm.calls == [("remove", "m1c2")]
    assert asm.members("mesh1") == ["m1c1", "m1c3"]


def test_a_mesh_that_stays_updating_is_reported_with_its_state():
    asm = FakeAsm([], updating_polls=10**6)
    with pytest.raises(AsmError, match="mesh1 is still 'updating' after 30 s"):
        join(
            asm,
            "mesh1",
            "m1c1",
            clock=itertools.count(0, 10).__next__,
            nap=lambda _: None,
            timeout=30,
        )


def test_an_add_that_asm_does_not_list_is_an_error():
    asm = FakeAsm([])
    asm.add = lambda mesh_id, cluster_id: None  # type: ignore[method-assign]
    with pytest.raises(AsmError, match="accepted m1c1 but does not list it"):
        join(asm, "mesh1", "m1c1", **NO_WAIT)


@pytest.mark.parametrize(
    ("expires", "soon"),
    [
        ("2026-12-01T00:00:00Z", True),  # within seven days of the 29th of November
        ("2027-06-01T00:00:00Z", False),
        ("2026-12-01T00:00:00", True),  # no zone: UTC
        ("", False),
        ("never", False),
    ],
)
def test_kubeconfigs_about_to_expire_are_renewed(expires, soon):
    now = datetime.datetime(2026, 11, 29, tzinfo=datetime.UTC)
    assert expires_soon(expires, now, datetime.timedelta(days=7)) is soon


def test_a_membership_is_replaced_only_when_its_cluster_mesh_or_region_changes():
    olds = {"mesh_id": "m", "cluster_id": "c1", "region": "us-west-1"}
    same = MemberProvider().diff("m/c1", olds, dict(olds))
    moved = MemberProvider().diff("m/c1", olds, {**olds, "cluster_id": "c9"})
    assert (same.changes, same.replaces) == (False, [])
    assert (moved.changes, moved.replaces) == (True, ["cluster_id"])


def test_the_kubeconfig_is_fetched_again_before_it_expires():
    olds = {"mesh_id": "m", "private": False, "region": "r", "expires": "2000-01-01T00:00:00Z"}
    assert KubeconfigProvider().diff("m", olds, dict(olds)).changes is True
    fresh = {**olds, "expires": "2999-01-01T00:00:00Z"}
    assert KubeconfigProvider().diff("m", fresh, dict(fresh)).changes is False
    assert KubeconfigProvider().diff("m", fresh, {**fresh, "private": True}).changes is True


# --- the SDK adapter reads the fields the SDK's own models carry --------------------------------


class SdkStub:
    """Answers as the SDK client does: its response models, built from the wire names."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def _answer(self, body_type: Any, wire: dict[str, Any]) -> Any:
        class Response:
            body = body_type().from_map(wire)

        return Response

    def describe_service_mesh_detail(self, request):
        self.requests.append(request)
        return self._answer(
            models.DescribeServiceMeshDetailResponseBody,
            {"ServiceMesh": {"Clusters": ["c1", "c2"], "ServiceMeshInfo": {"State": "running"}}},
        )

    def describe_service_mesh_kubeconfig(self, request):
        self.requests.append(request)
        return self._answer(
            models.DescribeServiceMeshKubeconfigResponseBody,
            {"Kubeconfig": "apiVersion: v1", "ExpireTime": "2027-01-01T00:00:00Z"},
        )

    def add_cluster_into_service_mesh(self, request):
        self.requests.append(request)

    def remove_cluster_from_service_mesh(self, request):
        self.requests.append(request)


@pytest.fixture
def sdk() -> tuple[SdkMeshApi, SdkStub]:
    api = object.__new__(SdkMeshApi)
    stub = SdkStub()
    api._client = stub  # type: ignore[attr-defined]
    return api, stub


def test_the_sdk_adapter_reads_members_state_and_kubeconfig(sdk):
    api, stub = sdk
    assert api.members("mesh1") == ["c1", "c2"]
    assert api.state("mesh1") == "running"
    assert api.kubeconfig("mesh1", private=False) == ("apiVersion: v1", "2027-01-01T00:00:00Z")
    assert stub.requests[-1].to_map() == {"PrivateIpAddress": False, "ServiceMeshId": "mesh1"}


def test_the_sdk_adapter_sends_one_cluster_per_call(sdk):
    api, stub = sdk
    api.add("mesh1", "c3")
    api.remove("mesh1", "c2")
    assert [r.to_map() for r in stub.requests] == [
        {"ClusterId": "c3", "ServiceMeshId": "mesh1"},
        {"ClusterId": "c2", "ServiceMeshId": "mesh1"},
    ]


def test_the_sdk_adapter_builds_a_client_for_asms_central_endpoint():
    client = SdkMeshApi("us-west-1", AlibabaCredentials("LTAI-test", "test"))._client  # type: ignore[attr-defined]
    assert client._endpoint == "servicemesh.aliyuncs.com"  # ASM's central endpoint


# --- the catalog the config asks before registering anything ---------------------------------


def test_the_catalog_reads_the_sdks_own_answers(monkeypatch):
    """components/meshstack/alicloud/catalog.py against each SDK's response models, built from the
    APIs' wire names (DescribeKubernetesVersionMetadata is a list of metadata objects;
    DescribeVersions VersionInfo[].Edition/Versions; DescribeZones Zones.Zone[].ZoneId)."""
    asked: list[Any] = []

    def answer(model: Any, wire: Any) -> Any:
        return type("Response", (), {"body": model.from_map(wire)})

    def versions(self, request):
        asked.append(request.to_map())
        response = cs.DescribeKubernetesVersionMetadataResponse().from_map(
            {
                "body": [
                    {"version": "1.36.3-aliyun.1", "creatable": True},
                    {"version": "1.33.1-aliyun.1", "creatable": False},
                ]
            }
        )
        return response

    monkeypatch.setattr(cs_client.Client, "describe_kubernetes_version_metadata", versions)
    monkeypatch.setattr(
        mesh_client.Client,
        "describe_versions",
        lambda self: answer(
            models.DescribeVersionsResponseBody(),
            {"VersionInfo": [{"Edition": "Pro", "Versions": ["v1.26.3.110-gabc-aliyun"]}]},
        ),
    )
    monkeypatch.setattr(
        vpc_client.Client,
        "describe_zones",
        lambda self, request: answer(
            vpc.DescribeZonesResponseBody(),
            {"Zones": {"Zone": [{"ZoneId": "us-west-1a"}, {"ZoneId": "us-west-1b"}]}},
        ),
    )
    catalog = AlibabaCatalog(AlibabaCredentials("LTAI-test", "test"))
    assert catalog.ack_versions("us-west-1", "Acs") == ["1.36.3-aliyun.1"]  # creatable only
    assert asked == [{"ClusterType": "ManagedKubernetes", "Profile": "Acs", "Region": "us-west-1"}]
    assert catalog.asm_versions("us-west-1", "Pro") == ["v1.26.3.110-gabc-aliyun"]
    assert catalog.asm_versions("us-west-1", "Default") == []
    assert catalog.alibaba_zones("us-west-1") == ["us-west-1a", "us-west-1b"]


def test_the_catalog_reads_what_runs_from_the_sdks_own_answers(monkeypatch):
    """DescribeClustersV1 (a fuzzy name filter: the exact name is picked; current_version) and
    DescribeServiceMeshes (ServiceMeshes[].ServiceMeshInfo.Name/RegionId/Version)."""
    asked: list[Any] = []

    def clusters(self, request):
        asked.append(request.to_map())
        return cs.DescribeClustersV1Response().from_map(
            {
                "body": {
                    "clusters": [
                        {"name": "m1c1-old", "current_version": "1.34.6-aliyun.1"},
                        {"name": "m1c1", "current_version": "1.36.1-aliyun.1"},
                    ]
                }
            }
        )

    meshes = {
        "ServiceMeshes": [
            {"ServiceMeshInfo": {"Name": "mesh1", "RegionId": "cn-hangzhou", "Version": "v1"}},
            {"ServiceMeshInfo": {"Name": "mesh1", "RegionId": "us-west-1", "Version": "v1.26.2"}},
        ]
    }
    monkeypatch.setattr(cs_client.Client, "describe_clusters_v1", clusters)
    monkeypatch.setattr(
        mesh_client.Client,
        "describe_service_meshes",
        lambda self, request: type(
            "Response", (), {"body": models.DescribeServiceMeshesResponseBody().from_map(meshes)}
        ),
    )
    catalog = AlibabaCatalog(AlibabaCredentials("LTAI-test", "test"))
    assert catalog.ack_cluster_version("us-west-1", "m1c1") == "1.36.1-aliyun.1"
    assert catalog.ack_cluster_version("us-west-1", "m1c9") is None
    assert asked[0] == {"name": "m1c1", "page_size": 100, "region_id": "us-west-1"}
    assert catalog.asm_mesh_version("us-west-1", "mesh1") == "v1.26.2"
    assert catalog.asm_mesh_version("us-west-1", "mesh2") is None
