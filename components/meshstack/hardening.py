"""The security posture of every pod the package declares itself (not the charts'): one place.

What Kubernetes' `restricted` Pod Security Standard asks, plus what checkov checks: no root,
a high UID (never one of the node's users), no privilege escalation, no capabilities, the
runtime's seccomp profile, a read-only root file system with an emptyDir where the image
writes, requests and limits, probes, and no Kubernetes token where nothing calls the API (an
injected sidecar mounts its own projected `istio-token`; istio/istio
manifests/charts/istio-control/istio-discovery/files/injection-template.yaml).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

import pulumi_kubernetes as k8s

# Above every UID a node's own users get (checkov CKV_K8S_40: > 10000).
HIGH_UID = 10001
DIGEST_PREFIX = "sha256:"


def pod_security(
    uid: int = HIGH_UID, gid: int | None = HIGH_UID
) -> k8s.core.v1.PodSecurityContextArgs:
    """Non-root as `uid` (group `gid`; None: the image's, e.g. group 0 for images built for
    arbitrary UIDs), the runtime's default seccomp profile."""
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=gid,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security(read_only: bool = True) -> k8s.core.v1.SecurityContextArgs:
    """No privilege escalation, no capabilities, and (unless the image writes where no
    volume can go) a read-only root file system."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        read_only_root_filesystem=read_only,
        run_as_non_root=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
    )


@dataclass(frozen=True)
class Resources:
    """Requests (what the scheduler reserves) and limits (the ceiling)."""

    cpu: str
    memory: str
    cpu_limit: str
    memory_limit: str

    def args(self) -> k8s.core.v1.ResourceRequirementsArgs:
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.cpu, "memory": self.memory},
            limits={"cpu": self.cpu_limit, "memory": self.memory_limit},
        )


class Probes(TypedDict):
    """A container's probes, as keyword arguments of ContainerArgs."""

    startup_probe: k8s.core.v1.ProbeArgs
    readiness_probe: k8s.core.v1.ProbeArgs
    liveness_probe: k8s.core.v1.ProbeArgs


def http_probes(port: int | str, path: str, *, startup_seconds: int = 120) -> Probes:
    """Readiness and liveness on one HTTP endpoint, behind a startup probe that allows
    `startup_seconds` for the first answer (a JVM's start) before liveness may restart it.
    With a sidecar, istiod's injector rewrites HTTP probes to go through the proxy's agent
    (port 15020), so they work under STRICT mTLS."""

    def probe(period_seconds: int, failure_threshold: int) -> k8s.core.v1.ProbeArgs:
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=port),
            period_seconds=period_seconds,
            failure_threshold=failure_threshold,
        )

    return Probes(
        startup_probe=probe(period_seconds=5, failure_threshold=max(1, startup_seconds // 5)),
        readiness_probe=probe(period_seconds=5, failure_threshold=3),
        liveness_probe=probe(period_seconds=15, failure_threshold=4),
    )


def pinned(image: str, digests: Mapping[str, str]) -> str:
    """`image` pinned to its digest when `digests` has one for it (`repo:tag@sha256:…`; the
    kubelet pulls by digest, the tag stays for people)."""
    digest = digests.get(image)
    return f"{image}@{digest}" if digest else image


def pull_policy(image: str) -> str:
    """By digest, an image cannot change: IfNotPresent. By tag, Always: the kubelet asks the
    registry which digest the tag names each time a container starts (a changed tag is
    noticed, and a node's cache does not serve another tenant's private image) and pulls only
    layers it lacks (kubernetes.io/docs/concepts/containers/images/#image-pull-policy)."""
    return "IfNotPresent" if f"@{DIGEST_PREFIX}" in image else "Always"


def scratch_volumes(
    paths: Mapping[str, str],
) -> tuple[list[k8s.core.v1.VolumeMountArgs], list[k8s.core.v1.VolumeArgs]]:
    """An emptyDir per writable path (volume name → mount path): the mounts and volumes."""
    return (
        [k8s.core.v1.VolumeMountArgs(name=n, mount_path=p) for n, p in paths.items()],
        [
            k8s.core.v1.VolumeArgs(name=n, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())
            for n in paths
        ],
    )
