"""The checks that need the cloud's answer, made before anything is registered.

Which Kubernetes versions ACK lets a new cluster run, which ASM releases an instance may run,
which zones a region has: a `Catalog` answers (components/meshstack/alicloud/catalog.py through
Alibaba's API; tools/offline/fakes.py offline). Versions are resolved once and kept: a
cluster or ASM instance that exists keeps the version it runs while the config names that
version or its minor (a patch Alibaba publishes later upgrades nothing, and a minor that is no
longer creatable still previews); a new one, or a config that names a later version, gets the
exact version asked for or the newest patch of the minor, checked against what Alibaba
offers. ACK and ASM upgrade only: an earlier version than the one running is refused. The
components receive exact versions and `pulumi preview` shows them; a version or zone the cloud
does not offer is a problem of the same message as every other mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from meshstack.alicloud.offerings import ACK_PROFILE, PROFILES
from meshstack.alicloud.versions import MINIMUM_ASM_RELEASE, asm_release, version_key
from meshstack.versions import ALIBABA_KUBERNETES
from stacks.config.fields import PROJECT


class Catalog(Protocol):
    def ack_versions(self, region: str, profile: str) -> list[str]:
        """The Kubernetes versions a new cluster of `profile` may run (exact, x.y.z-aliyun.n)."""
        ...

    def asm_versions(self, region: str, edition: str) -> list[str]:
        """The ASM releases a new instance of `edition` may run."""
        ...

    def alibaba_zones(self, region: str) -> list[str]:
        """The zones of `region` where vSwitches may be created."""
        ...

    def ack_cluster_version(self, region: str, name: str) -> str | None:
        """The exact version the cluster of that name runs; None when there is none."""
        ...

    def asm_mesh_version(self, region: str, name: str) -> str | None:
        """The release the ASM instance of that name runs; None when there is none."""
        ...


def _asked(what: str, region: str, question: Callable[[], Any]) -> tuple[Any, str | None]:
    """The cloud's answer, or the problem of not getting one (credentials, network)."""
    try:
        return question(), None
    except Exception as error:  # the SDKs' errors have no common base worth naming
        return None, (
            f"could not ask Alibaba Cloud {what} in {region} ({type(error).__name__}: "
            f"{str(error)[:200]}); set alicloud:accessKey and alicloud:secretKey with "
            "`pulumi config set --secret`, or ALIBABA_CLOUD_ACCESS_KEY_ID and "
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET in the environment (every Alibaba Cloud call of "
            "the stack uses the same ones)"
        )


def kept_version(
    running: str | None, wanted: str, exact: bool, key: Callable[[str], tuple[int, ...]]
) -> tuple[str | None, bool]:
    """(the running version, if the config still names it or its minor; whether `wanted` is
    older than what runs). Pure: the rule every version lookup applies to what exists."""
    if running is None:
        return None, False
    have, want = key(running), version_key(wanted) if not exact else key(wanted)
    if wanted == running or (not exact and have[:2] == want[:2]):
        return running, False
    return None, (want < have) if exact else (want[:2] < have[:2])


def _minors(versions: list[str], key: Callable[[str], tuple[int, ...]]) -> str:
    return ", ".join(sorted({".".join(map(str, key(v)[:2])) for v in versions}, key=version_key))


def ack_version(
    catalog: Catalog, region: str, profile: str, wanted: str, key: str, *, name: str
) -> tuple[str | None, list[str]]:
    """The exact version for cluster `name`: the one it runs while `wanted` names it or its
    minor; else `wanted` (a minor: its newest patch) as ACK offers it; or the problem."""
    running, problem = _asked(
        f"which version cluster {name!r} runs",
        region,
        lambda: catalog.ack_cluster_version(region, name),
    )
    if problem:
        return None, [f"{PROJECT}:{key}: {problem}"]
    exact = "-aliyun." in wanted
    kept, older = kept_version(running, wanted, exact, version_key)
    if kept:
        return kept, []
    if older:
        return None, [
            f"{PROJECT}:{key} = {wanted!r}: cluster {name!r} runs {running}, and ACK only "
            f"upgrades; name {running} (or its minor) or a later version"
        ]
    offered, problem = _asked(
        "which Kubernetes versions ACK offers",
        region,
        lambda: catalog.ack_versions(region, profile),
    )
    if problem:
        return None, [f"{PROJECT}:{key}: {problem}"]
    if exact:
        if wanted in offered:
            return wanted, []
        return None, [
            f"{PROJECT}:{key} = {wanted!r}: ACK does not create {profile} clusters of that "
            f"version in {region}; it offers {', '.join(sorted(offered, key=version_key))}"
        ]
    matching = [v for v in offered if version_key(v)[:2] == version_key(wanted)]
    if not matching:
        return None, [
            f"{PROJECT}:{key} = {wanted!r}: ACK offers no {profile} Kubernetes {wanted} in "
            f"{region}; minors it offers: {_minors(offered, version_key) or 'none'}"
        ]
    return max(matching, key=version_key), []


def asm_version(
    catalog: Catalog,
    region: str,
    edition: str,
    wanted: str,
    *,
    name: str,
    key: str = "asm.version",
) -> tuple[str | None, list[str]]:
    """The exact ASM release for instance `name`: the one it runs while `wanted` names it or
    its minor; else `wanted` (a minor: its newest) as ASM offers it; or the problem. A release
    before cluster-local retention (seed 002) is refused."""
    running, problem = _asked(
        f"which release ASM instance {name!r} runs",
        region,
        lambda: catalog.asm_mesh_version(region, name),
    )
    if problem:
        return None, [f"{PROJECT}:{key}: {problem}"]
    exact = wanted.startswith("v")
    kept, older = kept_version(running, wanted, exact, asm_release)
    if kept:
        return kept, []
    if older:
        return None, [
            f"{PROJECT}:{key} = {wanted!r}: ASM instance {name!r} runs {running}, and ASM only "
            f"upgrades; name {running} (or its minor) or a later release"
        ]
    offered, problem = _asked(
        "which ASM releases it offers", region, lambda: catalog.asm_versions(region, edition)
    )
    if problem:
        return None, [f"{PROJECT}:{key}: {problem}"]
    minimum = ".".join(map(str, MINIMUM_ASM_RELEASE))
    if exact:
        if wanted not in offered:
            return None, [
                f"{PROJECT}:{key} = {wanted!r}: ASM ({edition} edition) does not offer that "
                f"release in {region}; minors it offers: {_minors(offered, asm_release)}"
            ]
        chosen = wanted
    else:
        matching = [v for v in offered if asm_release(v)[:2] == version_key(wanted)]
        if not matching:
            return None, [
                f"{PROJECT}:{key} = {wanted!r}: ASM ({edition} edition) offers no {wanted} "
                f"release in {region}; minors it offers: {_minors(offered, asm_release) or 'none'}"
            ]
        chosen = max(matching, key=asm_release)
    if asm_release(chosen) < MINIMUM_ASM_RELEASE:
        return None, [
            f"{PROJECT}:{key} = {wanted!r}: ASM {chosen} predates cluster-local retention "
            f"(ASM {minimum}); choose a later release"
        ]
    return chosen, []


def zone(catalog: Catalog, region: str, value: str, key: str) -> list[str]:
    zones, problem = _asked("which zones it has", region, lambda: catalog.alibaba_zones(region))
    if problem:
        return [f"{PROJECT}:{key}: {problem}"]
    if value in zones:
        return []
    return [
        f"{PROJECT}:{key} = {value!r} is not a zone of {region} where vSwitches can be made; "
        f"its zones: {', '.join(sorted(zones)) or 'none'}"
    ]


def resolve(stack: Any, catalog: Catalog) -> tuple[Any, list[str]]:
    """The stack with exact versions, and every problem the cloud's answers show. Only the
    scenarios on Alibaba Cloud ask anything."""
    handler = RESOLVERS.get(stack.scenario)
    return handler(stack, catalog) if handler else (stack, [])


def _single_cluster(stack: Any, catalog: Catalog) -> tuple[Any, list[str]]:
    region, cluster = stack.network.region, stack.cluster
    problems = [
        p
        for i, v in enumerate(stack.network.vswitches)
        for p in zone(catalog, region, v.zone, f"network.vswitches[{i}].zone")
    ]
    exact, found = ack_version(
        catalog,
        region,
        PROFILES[cluster.offering],
        cluster.kubernetes_version,
        "cluster.kubernetesVersion",
        name=cluster.name,
    )
    problems += found
    if exact:
        stack = stack.model_copy(
            update={"cluster": cluster.model_copy(update={"kubernetes_version": exact})}
        )
    return stack, problems


def _two_cluster(stack: Any, catalog: Catalog) -> tuple[Any, list[str]]:
    region = stack.network.region
    problems: list[str] = []
    clusters = []
    for i, cluster in enumerate(stack.clusters):
        problems += zone(catalog, region, cluster.zone, f"clusters[{i}].zone")
        exact, found = ack_version(
            catalog,
            region,
            ACK_PROFILE,
            cluster.kubernetes_version,
            f"clusters[{i}].kubernetesVersion",
            name=cluster.name,
        )
        problems += found
        clusters.append(cluster.model_copy(update={"kubernetes_version": exact or ""}))
    update: dict[str, Any] = {"clusters": clusters}
    if stack.control_plane == "asm":
        exact, found = asm_version(
            catalog, region, stack.asm.edition, stack.asm.version, name=stack.mesh_id
        )
        problems += found
        update["asm"] = stack.asm.model_copy(update={"version": exact or ""})
    return stack.model_copy(update=update), problems


def _mesh_clusters(
    clusters: list[Any], key: str, region: str, catalog: Catalog
) -> tuple[list[Any], list[str]]:
    """ACK clusters of a mesh (under `key`) with their exact versions; GKE ones as they are."""
    problems: list[str] = []
    resolved = []
    for i, cluster in enumerate(clusters):
        if cluster.cloud == "ack":
            problems += zone(catalog, region, cluster.zone, f"{key}[{i}].zone")
            exact, found = ack_version(
                catalog,
                region,
                ACK_PROFILE,
                cluster.kubernetes_version or ALIBABA_KUBERNETES,
                f"{key}[{i}].kubernetesVersion",
                name=cluster.name,
            )
            problems += found
            resolved.append(cluster.model_copy(update={"kubernetes_version": exact or ""}))
        else:
            resolved.append(cluster)
    return resolved, problems


def _multi_cluster(stack: Any, catalog: Catalog) -> tuple[Any, list[str]]:
    clusters, problems = _mesh_clusters(stack.clusters, "clusters", stack.alicloud.region, catalog)
    return stack.model_copy(update={"clusters": clusters}), problems


def _multi_mesh(stack: Any, catalog: Catalog) -> tuple[Any, list[str]]:
    problems: list[str] = []
    meshes = []
    for m, mesh in enumerate(stack.meshes):
        clusters, found = _mesh_clusters(
            mesh.clusters, f"meshes[{m}].clusters", stack.alicloud.region, catalog
        )
        problems += found
        meshes.append(mesh.model_copy(update={"clusters": clusters}))
    return stack.model_copy(update={"meshes": meshes}), problems


RESOLVERS: dict[str, Callable[[Any, Catalog], tuple[Any, list[str]]]] = {
    "single-cluster": _single_cluster,
    "two-cluster-retention": _two_cluster,
    "multi-cluster": _multi_cluster,
    "multi-mesh": _multi_mesh,
}
