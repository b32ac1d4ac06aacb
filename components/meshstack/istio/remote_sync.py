"""The gate of a reader-token rotation: a Job in a cluster whose istiod reads others that
completes once every istiod there has synced every cluster through its remote secret
(remote_sync_job.py). Named by the reader-token generation the secrets use, so that a new
generation replaces the Job and `pulumi up` waits for it again; an unchanged one does not
run again.

Its service account may get the Endpoints of istiod's Service in istio-system (to find every
istiod) and nothing else; istiod's debug port takes a token of that account for audience
istio-ca.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from meshstack.istio.control_plane import ISTIO_NAMESPACE
from meshstack.jobs import (
    SCRIPT_DEADLINE_SECONDS,
    JobIdentity,
    job_spec,
    script_files,
    script_pod,
)

SCRIPT = "remote_sync_job.py"
ACCOUNT = "remote-sync-check"
# The audience istiod's token authenticator asks the API server for (TOKEN_AUDIENCES).
ISTIO_AUDIENCE = "istio-ca"


@dataclass(frozen=True)
class RemoteSyncCheckArgs:
    provider: k8s.Provider
    # The Secret istiod reads the clusters from, and those clusters.
    secret: str
    clusters: Sequence[str]
    generation: str
    # What stands for istio-system (the cluster's base release, after its Namespace): every
    # object of the check waits for it, so that destroy deletes them before the namespace.
    base: pulumi.Resource
    # istiod's Service; with revisions side by side, each revision's.
    istiod_services: Sequence[str] = ("istiod",)
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    deadline_seconds: int = SCRIPT_DEADLINE_SECONDS


class RemoteSyncCheck(pulumi.ComponentResource):
    job: k8s.batch.v1.Job
    # What it proved, known once the Job has succeeded (as MeshCheck.verified).
    verified: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: RemoteSyncCheckArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:RemoteSyncCheck", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[args.base])
        identity = JobIdentity(
            name,
            name=ACCOUNT,
            namespace=ISTIO_NAMESPACE,
            # istiod's pods, as its Service's Endpoints by name: no `list` (of pods,
            # whose specs would show more), which the preview identity would need too.
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""],
                    resources=["endpoints"],
                    resource_names=list(args.istiod_services),
                    verbs=["get"],
                )
            ],
            opts=child,
        )
        scripts = script_files(
            name, ACCOUNT, ISTIO_NAMESPACE, Path(__file__).with_name(SCRIPT), child
        )
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ACCOUNT, namespace=ISTIO_NAMESPACE),
            spec=job_spec(
                script_pod(
                    app=ACCOUNT,
                    config_map=scripts.metadata.name,
                    script=SCRIPT,
                    service_account=identity.account.metadata.name,
                    env={
                        "NAMESPACE": ISTIO_NAMESPACE,
                        "SERVICE": " ".join(args.istiod_services),
                        "SECRET": f"{ISTIO_NAMESPACE}/{args.secret}",
                        "CLUSTERS": json.dumps(sorted(args.clusters)),
                        "GENERATION": args.generation,
                        "DEADLINE_SECONDS": str(args.deadline_seconds),
                    },
                    audience=ISTIO_AUDIENCE,
                ),
                args.deadline_seconds,
            ),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[identity.binding, *args.after])
            ),
        )
        proved = [
            f"every istiod synced {', '.join(sorted(args.clusters))} with reader token "
            f"{args.generation}"
        ]
        self.verified = self.job.metadata.apply(lambda _: proved)
        self.register_outputs({"job": self.job.metadata.name, "verified": self.verified})
