"""ASM's own API, where the Terraform provider falls short (no Pulumi here: the dynamic
resources in asm_resources.py call it, and the tests call it with a fake).

- Membership, one cluster at a time. The provider keeps `cluster_ids` as one list and, on any
  change, removes every old cluster and then adds every new one
  (terraform-provider-alicloud resource_alicloud_service_mesh_service_mesh.go, Update: the
  whole old list to RemoveClusterFromServiceMesh, the whole new list to
  AddClusterIntoServiceMesh): adding a third cluster or reordering detaches the members.
  Here a member is added if it is not one yet, and removed if it still is; nothing else is
  touched.
- The mesh API server's kubeconfig for where `pulumi up` runs. The provider reads it with
  `PrivateIpAddress=true` (service_alicloud_service_mesh_v2.go), an address inside the VPC;
  the public one needs the API server's EIP (`load_balancer.api_server_public_eip`).

API (servicemesh 2020-01-11, SDK alibabacloud-servicemesh20200111 3.4.0):
DescribeServiceMeshDetail (ServiceMesh.Clusters: the member ids; ServiceMesh.ServiceMeshInfo.
State), AddClusterIntoServiceMesh and RemoveClusterFromServiceMesh (ServiceMeshId,
ClusterId; the instance goes to an updating state until it is `running` again, ASM "Add a
cluster to an ASM instance"), DescribeServiceMeshKubeconfig (ServiceMeshId,
PrivateIpAddress; Kubeconfig, ExpireTime). The endpoint is the central
servicemesh.aliyuncs.com; the credentials are the stack's (credentials.py).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any, Protocol

from meshstack.alicloud.credentials import AlibabaCredentials

RUNNING = "running"
WAIT_SECONDS = 15 * 60
POLL_SECONDS = 10


class AsmError(Exception):
    """What ASM answered, or did not, said for the user."""


class MeshApi(Protocol):
    def members(self, mesh_id: str) -> list[str]: ...

    def state(self, mesh_id: str) -> str: ...

    def add(self, mesh_id: str, cluster_id: str) -> None: ...

    def remove(self, mesh_id: str, cluster_id: str) -> None: ...

    def kubeconfig(self, mesh_id: str, private: bool) -> tuple[str, str]: ...


def wait_running(
    api: MeshApi,
    mesh_id: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    nap: Callable[[float], None] = time.sleep,
    timeout: float = WAIT_SECONDS,
) -> None:
    """Until the instance is `running` again after a membership change."""
    deadline = clock() + timeout
    while (state := api.state(mesh_id)) != RUNNING:
        if clock() > deadline:
            raise AsmError(f"ASM instance {mesh_id} is still {state!r} after {timeout:.0f} s")
        nap(POLL_SECONDS)


def join(api: MeshApi, mesh_id: str, cluster_id: str, **wait: Any) -> None:
    """Make `cluster_id` a member (once: a member already is one), then wait."""
    wait_running(api, mesh_id, **wait)  # one change at a time
    if cluster_id not in api.members(mesh_id):
        api.add(mesh_id, cluster_id)
        wait_running(api, mesh_id, **wait)
    if cluster_id not in api.members(mesh_id):
        raise AsmError(f"ASM instance {mesh_id} accepted {cluster_id} but does not list it")


def leave(api: MeshApi, mesh_id: str, cluster_id: str, **wait: Any) -> None:
    """Remove `cluster_id` if it is still a member, then wait; the others stay."""
    wait_running(api, mesh_id, **wait)
    if cluster_id in api.members(mesh_id):
        api.remove(mesh_id, cluster_id)
        wait_running(api, mesh_id, **wait)


def expires_soon(expire_time: str, now: datetime.datetime, within: datetime.timedelta) -> bool:
    """Whether a kubeconfig's ExpireTime (ISO 8601) is within `within` of `now`; an empty
    or unreadable one is not (there is nothing to renew by)."""
    try:
        expires = datetime.datetime.fromisoformat(expire_time.replace("Z", "+00:00"))
    except ValueError:
        return False
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=datetime.UTC)
    return expires - now < within


class SdkMeshApi:
    """MeshApi through Alibaba's official SDK (imported on first use: only `pulumi up` needs
    it, not the program's evaluation or the tests)."""

    def __init__(self, region: str, credentials: AlibabaCredentials) -> None:
        from alibabacloud_servicemesh20200111.client import Client

        self._client = Client(credentials.sdk_config(region))

    def _detail(self, mesh_id: str) -> Any:
        from alibabacloud_servicemesh20200111 import models

        request = models.DescribeServiceMeshDetailRequest(service_mesh_id=mesh_id)
        return self._client.describe_service_mesh_detail(request).body.service_mesh

    def members(self, mesh_id: str) -> list[str]:
        return list(self._detail(mesh_id).clusters or [])

    def state(self, mesh_id: str) -> str:
        return self._detail(mesh_id).service_mesh_info.state

    def add(self, mesh_id: str, cluster_id: str) -> None:
        from alibabacloud_servicemesh20200111 import models

        self._client.add_cluster_into_service_mesh(
            models.AddClusterIntoServiceMeshRequest(service_mesh_id=mesh_id, cluster_id=cluster_id)
        )

    def remove(self, mesh_id: str, cluster_id: str) -> None:
        from alibabacloud_servicemesh20200111 import models

        self._client.remove_cluster_from_service_mesh(
            models.RemoveClusterFromServiceMeshRequest(
                service_mesh_id=mesh_id, cluster_id=cluster_id
            )
        )

    def kubeconfig(self, mesh_id: str, private: bool) -> tuple[str, str]:
        from alibabacloud_servicemesh20200111 import models

        body = self._client.describe_service_mesh_kubeconfig(
            models.DescribeServiceMeshKubeconfigRequest(
                service_mesh_id=mesh_id, private_ip_address=private
            )
        ).body
        if not body.kubeconfig:
            where = "inside the VPC" if private else "public (is asm.apiServerPublic true?)"
            raise AsmError(f"ASM returned no {where} kubeconfig for {mesh_id}")
        return body.kubeconfig, body.expire_time or ""
