"""The seeds' verification steps, declared: each scenario says what to check, where, and
after what; this turns that into a MeshCheck unless `meshstack:verify.enabled` is false."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from meshstack.verify.checks import Check
from meshstack.verify.mesh_check import MeshCheck, MeshCheckArgs
from stacks.config.mesh import VerifyConfig


def mesh_check(
    resource_name: str,
    verify: VerifyConfig,
    *,
    provider: k8s.Provider,
    namespace: pulumi.Input[str],
    job_name: str,
    checks: Sequence[Check],
    after: Sequence[pulumi.Resource],
    in_mesh: bool = False,
    revision: str | None = None,
    ambient: bool = False,
    pod_annotations: Mapping[str, str] | None = None,
) -> MeshCheck | None:
    if not verify.enabled or not checks:
        return None
    return MeshCheck(
        resource_name,
        MeshCheckArgs(
            provider=provider,
            namespace=namespace,
            job_name=job_name,
            checks=checks,
            after=after,
            in_mesh=in_mesh,
            revision=revision,
            ambient=ambient,
            deadline_seconds=verify.deadline_seconds,
            pod_annotations=dict(pod_annotations or {}),
        ),
    )


class Verifying(Protocol):
    """A check `pulumi up` waits for (MeshCheck, RemoteSyncCheck, TrustCheck)."""

    verified: pulumi.Output[list[str]]

    @property
    def pulumi_resource_name(self) -> str: ...


def verified_output(checks: Sequence[Verifying | None]) -> dict[str, pulumi.Output]:
    """`verified`: what each check Job proved, known once they all succeeded (a root
    rotation's gates included: the `deployed` record waits for them, previous.py)."""
    done = {check.pulumi_resource_name: check.verified for check in checks if check is not None}
    return {"verified": pulumi.Output.all(**done)} if done else {}
