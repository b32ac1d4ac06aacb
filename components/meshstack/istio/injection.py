"""Sidecar injection proven ready in one namespace, before injected workloads are created.

A control plane's readiness is not the same thing as a cluster's: ASM reports a mesh as
running once clusters are added, while the injector of each member cluster comes later, and a
pod created before then starts without a sidecar (or not at all, under failurePolicy Fail).
InjectionReady is a Job (injection_check_job.py) that dry-run-creates a probe pod in the
namespace until the answer carries `istio-proxy`; workloads wait for the Job.

Its service account may create pods in that namespace (dry-run needs the create permission)
and nothing else; its own pod is not injected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from meshstack.jobs import (
    SCRIPT_DEADLINE_SECONDS,
    JobIdentity,
    job_spec,
    script_files,
    script_pod,
)
from meshstack.versions import PYTHON_IMAGE

SCRIPT = "injection_check_job.py"
ACCOUNT = "injection-check"


@dataclass(frozen=True)
class InjectionReadyArgs:
    provider: k8s.Provider
    # An application namespace labelled for injection.
    namespace: pulumi.Input[str]
    # What must exist before injection can work at all (the cluster's mesh membership).
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # The Job's, its service account's and its ConfigMap's name (unique in the namespace).
    job_name: str = ACCOUNT
    # The probe pod's own labels (e.g. istio.io/rev=<revision>, which that revision's
    # injector selects where the namespace has no injection label).
    probe_labels: Mapping[str, str] = field(default_factory=dict)
    # The image tag the sidecar must have (a revision's proxy version); "" any.
    proxy_tag: str = ""


class InjectionReady(pulumi.ComponentResource):
    # Completes once a pod created in the namespace would get the sidecar.
    job: k8s.batch.v1.Job

    def __init__(
        self, name: str, args: InjectionReadyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:InjectionReady", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        account = args.job_name
        identity = JobIdentity(
            name,
            name=account,
            namespace=args.namespace,
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["pods"], verbs=["create"])
            ],
            opts=child,
        )
        scripts = script_files(
            name, account, args.namespace, Path(__file__).with_name(SCRIPT), child
        )
        revision = (
            {"PROBE_LABELS": json.dumps(dict(args.probe_labels), sort_keys=True)}
            if args.probe_labels
            else {}
        )
        if args.proxy_tag:
            revision["PROXY_TAG"] = args.proxy_tag
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=account, namespace=args.namespace),
            spec=job_spec(
                script_pod(
                    app=account,
                    config_map=scripts.metadata.name,
                    script=SCRIPT,
                    service_account=identity.account.metadata.name,
                    env={
                        "NAMESPACE": args.namespace,
                        # Never pulled: a dry-run pod is not scheduled.
                        "PROBE_IMAGE": PYTHON_IMAGE,
                        "DEADLINE_SECONDS": str(SCRIPT_DEADLINE_SECONDS),
                        **revision,
                    },
                )
            ),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[identity.binding, *args.after])
            ),
        )
        self.register_outputs({"job": self.job.metadata.name})
