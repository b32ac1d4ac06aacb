"""Pulumi dynamic resources over ASM's API (asm_api.py): one per member cluster, and the mesh's
kubeconfig for where `pulumi up` runs.

Their providers run in Pulumi's Python dynamic-provider host, which imports this module from
the project, with the program's virtualenv (alibabacloud-servicemesh20200111 is in
requirements.txt) and the environment of `pulumi up`. The credentials are the stack's
(credentials.py): the host hands a dynamic provider the stack's whole config through
`configure` (pulumi/pulumi#17673), never through the resource's inputs, so no key is kept in
its state and a rotated key serves the next delete as well.
"""

from __future__ import annotations

import datetime
from typing import Any

import pulumi
from pulumi import dynamic

from meshstack.alicloud.asm_api import SdkMeshApi, expires_soon, join, leave
from meshstack.alicloud.credentials import AlibabaCredentials
from meshstack.naming import fixed_name

# A kubeconfig ASM says expires within this is fetched again on the next `pulumi up`.
RENEW_BEFORE = datetime.timedelta(days=7)
IDENTITY = ("mesh_id", "cluster_id", "region")


class AsmProvider(dynamic.ResourceProvider):
    """What both providers share: ASM's client with the stack's credentials."""

    # Set in the dynamic-provider host by `configure`; until then (tests) the environment's.
    credentials: AlibabaCredentials | None = None

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        self.credentials = AlibabaCredentials.of(req.config)

    def api(self, region: str) -> SdkMeshApi:
        return SdkMeshApi(region, self.credentials or AlibabaCredentials.of({}))


class MemberProvider(AsmProvider):
    """A cluster's membership of an ASM instance: added on create, removed on delete; a new
    cluster or mesh is a new membership (AsmMember replaces delete-first: a cluster leaves its
    old mesh before it joins another)."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        join(self.api(props["region"]), props["mesh_id"], props["cluster_id"])
        return dynamic.CreateResult(f"{props['mesh_id']}/{props['cluster_id']}", props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        replaces = [key for key in IDENTITY if olds.get(key) != news.get(key)]
        return dynamic.DiffResult(changes=bool(replaces), replaces=replaces)

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        members = self.api(props["region"]).members(props["mesh_id"])
        # Gone (removed outside Pulumi): a blank id, and the next `up` adds it again.
        return dynamic.ReadResult(id_ if props["cluster_id"] in members else None, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        leave(self.api(props["region"]), props["mesh_id"], props["cluster_id"])


class AsmMember(dynamic.Resource, module="asm", name="Member"):
    """One cluster in one ASM instance (AddClusterIntoServiceMesh)."""

    def __init__(
        self,
        name: str,
        mesh_id: pulumi.Input[str],
        cluster_id: pulumi.Input[str],
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            MemberProvider(),
            name,
            {"mesh_id": mesh_id, "cluster_id": cluster_id, "region": region},
            # Leave, then join: a cluster is a member of one mesh at a time, and a replaced
            # membership's cluster (or mesh) is on its way out anyway.
            fixed_name(opts or pulumi.ResourceOptions()),
        )


class KubeconfigProvider(AsmProvider):
    """DescribeServiceMeshKubeconfig; fetched again when it is about to expire."""

    def _fetch(self, props: dict[str, Any]) -> dict[str, Any]:
        kubeconfig, expires = self.api(props["region"]).kubeconfig(
            props["mesh_id"], props["private"]
        )
        return {**props, "kubeconfig": kubeconfig, "expires": expires}

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(props["mesh_id"], self._fetch(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        now = datetime.datetime.now(datetime.UTC)
        changed = any(olds.get(k) != news.get(k) for k in ("mesh_id", "private", "region"))
        return dynamic.DiffResult(
            changes=changed or expires_soon(olds.get("expires", ""), now, RENEW_BEFORE)
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(self._fetch(news))


class AsmKubeconfig(dynamic.Resource, module="asm", name="Kubeconfig"):
    """The ASM API server's kubeconfig: public (through its EIP) or from inside the VPC."""

    kubeconfig: pulumi.Output[str]
    expires: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        mesh_id: pulumi.Input[str],
        private: bool,
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            KubeconfigProvider(),
            name,
            {
                "mesh_id": mesh_id,
                "private": private,
                "region": region,
                "kubeconfig": None,
                "expires": None,
            },
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
            ),
        )
