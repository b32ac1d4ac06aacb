"""The checks that need the cloud's answer, made before anything is registered.

Which Kubernetes versions ACK lets a new cluster run, which ASM releases an instance may run,
which zones a region has: a `Catalog` answers (components/meshstack/alicloud/catalog.py through
Alibaba's API; tools/offline/fakes.py offline). A minor version ("1.36") is resolved here
to the newest exact one, so the components receive exact versions and `pulumi preview`
shows them; a version or zone the cloud does not offer is a problem of the same message as
every other mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from meshstack.alicloud.offerings import ACK_PROFILE, PROFILES
from meshstack.alicloud.versions import MINIMUM_ASM_RELEASE, asm_release, version_key
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


def _asked(what: str, region: str, question: Callable[[], list[str]]) -> list[str] | str:
    """The cloud's answer, or the problem of not getting one (credentials, network)."""
    try:
        return question()
    except Exception as error:  # the SDKs' errors have no common base worth naming
        return (
            f"could not ask Alibaba Cloud {what} in {region} ({type(error).__name__}: "
            f"{str(error)[:200]}); set alicloud:accessKey and alicloud:secretKey with "
            "`pulumi config set --secret`, or ALIBABA_CLOUD_ACCESS_KEY_ID and "
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET in the environment (every Alibaba Cloud call of "
            "the stack uses the same ones)"
        )


def _minors(versions: list[str], key: Callable[[str], tuple[int, ...]]) -> str:
    return ", ".join(sorted({".".join(map(str, key(v)[:2])) for v in versions}, key=version_key))


def ack_version(
    catalog: Catalog, region: str, profile: str, wanted: str, key: str
) -> tuple[str | None, list[str]]:
    """The exact version for `wanted` (a minor: its newest patch), or the problem."""
    offered = _asked(
        "which Kubernetes versions ACK offers",
        region,
        lambda: catalog.ack_versions(region, profile),
    )
    if isinstance(offered, str):
        return None, [f"{PROJECT}:{key}: {offered}"]
    if "-aliyun." in wanted:
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
    catalog: Catalog, region: str, edition: str, wanted: str, key: str = "asm.version"
) -> tuple[str | None, list[str]]:
    """The exact ASM release for `wanted` (a minor: its newest), or the problem; a release
    before cluster-local retention (seed 002) is refused."""
    offered = _asked(
        "which ASM releases it offers", region, lambda: catalog.asm_versions(region, edition)
    )
    if isinstance(offered, str):
        return None, [f"{PROJECT}:{key}: {offered}"]
    minimum = ".".join(map(str, MINIMUM_ASM_RELEASE))
    if wanted.startswith("v"):
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
    zones = _asked("which zones it has", region, lambda: catalog.alibaba_zones(region))
    if isinstance(zones, str):
        return [f"{PROJECT}:{key}: {zones}"]
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
        )
        problems += found
        clusters.append(cluster.model_copy(update={"kubernetes_version": exact or ""}))
    update: dict[str, Any] = {"clusters": clusters}
    if stack.control_plane == "asm":
        exact, found = asm_version(catalog, region, stack.asm.edition, stack.asm.version)
        problems += found
        update["asm"] = stack.asm.model_copy(update={"version": exact or ""})
    return stack.model_copy(update=update), problems


def _multi_cluster(stack: Any, catalog: Catalog) -> tuple[Any, list[str]]:
    region = stack.alicloud.region
    problems: list[str] = []
    clusters = []
    for i, cluster in enumerate(stack.clusters):
        if cluster.cloud == "ack":
            problems += zone(catalog, region, cluster.zone, f"clusters[{i}].zone")
            exact, found = ack_version(
                catalog,
                region,
                ACK_PROFILE,
                stack.ack_version(cluster),
                f"clusters[{i}].kubernetesVersion",
            )
            problems += found
            clusters.append(cluster.model_copy(update={"kubernetes_version": exact or ""}))
        else:
            clusters.append(cluster)
    return stack.model_copy(update={"clusters": clusters}), problems


RESOLVERS: dict[str, Callable[[Any, Catalog], tuple[Any, list[str]]]] = {
    "single-cluster": _single_cluster,
    "two-cluster-retention": _two_cluster,
    "multi-cluster": _multi_cluster,
}
