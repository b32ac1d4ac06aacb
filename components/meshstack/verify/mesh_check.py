"""Checks that `pulumi up` waits for: a Job that proves what a person would check by hand.

pulumi-kubernetes awaits a Job until it completes or fails (provider/pkg/await/job.go), so a
failed check fails the update, with the script's verdict as the pod's termination message.
The Job's pod runs outside the mesh (what an external client or a plain-text caller sees)
or with a sidecar (what a mesh workload sees). Its settings, the checks included, are in the
Job's spec: a changed check replaces the Job and runs again; an unchanged one does not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.namespace import pod_injection_labels
from meshstack.jobs import NO_SIDECAR, job_spec, script_files, script_pod
from meshstack.verify.checks import Check

SCRIPT = "probe_job.py"
DEFAULT_DEADLINE_SECONDS = 300
# Before the script starts: the image pull, and a sidecar's start for an in-mesh check.
STARTUP_SECONDS = 180


@dataclass(frozen=True)
class MeshCheckArgs:
    provider: k8s.Provider
    namespace: pulumi.Input[str]
    # The Job's, its service account's and its ConfigMap's name (unique in the namespace).
    job_name: str
    checks: Sequence[Check]
    # What the checks exercise: the Job starts once all of it exists.
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # With a sidecar (of istiod `revision`), as a mesh workload; else outside the mesh.
    in_mesh: bool = False
    revision: str | None = None
    # An ambient namespace: a mesh workload needs no sidecar (ztunnel captures the pod).
    ambient: bool = False
    deadline_seconds: int = DEFAULT_DEADLINE_SECONDS
    # The pod's annotations, e.g. `proxy.istio.io/config` for its sidecar.
    pod_annotations: Mapping[str, str] = field(default_factory=dict)


class MeshCheck(pulumi.ComponentResource):
    job: k8s.batch.v1.Job
    # The checks' names, known once the Job has succeeded.
    verified: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: MeshCheckArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:verify:MeshCheck", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.job_name, namespace=args.namespace),
            # It calls services, never the Kubernetes API.
            automount_service_account_token=False,
            opts=child,
        )
        scripts = script_files(
            name, args.job_name, args.namespace, Path(__file__).with_name(SCRIPT), child
        )
        pod = script_pod(
            app=args.job_name,
            config_map=scripts.metadata.name,
            script=SCRIPT,
            service_account=account.metadata.name,
            env={
                "CHECKS": json.dumps([check.to_json() for check in args.checks]),
                "DEADLINE_SECONDS": str(args.deadline_seconds),
                "IN_MESH": "1" if args.in_mesh else "0",
            },
            sidecar=(
                ({} if args.ambient else pod_injection_labels(args.revision))
                if args.in_mesh
                else NO_SIDECAR
            ),
            api_access=False,
            annotations=args.pod_annotations,
        )
        limit = args.deadline_seconds + STARTUP_SECONDS
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.job_name, namespace=args.namespace),
            # The script retries within its deadline: a second pod would only repeat it.
            spec=job_spec(pod, args.deadline_seconds, retries=0, startup_seconds=STARTUP_SECONDS),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    depends_on=list(args.after),
                    # Past the Job's own deadline, so that its verdict is what fails the update.
                    custom_timeouts=pulumi.CustomTimeouts(create=f"{limit + 60}s"),
                ),
            ),
        )
        names = [check.name for check in args.checks]
        self.verified = self.job.metadata.apply(lambda _: names)
        self.register_outputs({"job": self.job.metadata.name, "verified": self.verified})
