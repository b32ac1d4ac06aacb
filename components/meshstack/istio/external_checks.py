"""The external control plane's checks in a remote cluster: what to call from an injected
pod there (checks as data for MeshCheck), the route written to the config cluster that
those calls prove, and a Job that fails when the remote runs an istiod (no_istiod_job.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.hello_world import APP, SAMPLE_ANSWER, SAMPLE_PATH
from meshstack.jobs import JobIdentity, job_spec, script_files, script_pod
from meshstack.verify.checks import AnswerClass, Check, Expect

SCRIPT = "no_istiod_job.py"
ACCOUNT = "no-istiod-check"
ROUTED_PATH = "/routed"
PINNED_SUBSET = "pinned"
# Every endpoint carries its cluster's name as this label, which subsets may select.
CLUSTER_LABEL = "topology.istio.io/cluster"
# Envoy's admin interface, on the pod's loopback (the sidecar's bootstrap: 127.0.0.1:15000):
# /certs lists the workload certificate with its SPIFFE identity.
ADMIN_CERTS = "http://localhost:15000/certs"


def pinned_route_specs(namespace: str, cluster: str) -> dict[str, dict[str, Any]]:
    """A VirtualService sending /routed to the sample in `cluster` only (rewritten to the
    sample's /hello), and the DestinationRule with that subset."""
    host = f"{APP}.{namespace}.svc.cluster.local"
    return {
        "VirtualService": {
            "hosts": [host],
            "http": [
                {
                    "match": [{"uri": {"exact": ROUTED_PATH}}],
                    "rewrite": {"uri": SAMPLE_PATH},
                    "route": [{"destination": {"host": host, "subset": PINNED_SUBSET}}],
                },
                {"route": [{"destination": {"host": host}}]},
            ],
        },
        "DestinationRule": {
            "host": host,
            "subsets": [{"name": PINNED_SUBSET, "labels": {CLUSTER_LABEL: cluster}}],
        },
    }


def routed_check(namespace: str, cluster: str, samples: int) -> Check:
    """Only `cluster` answers /routed: the route of the config cluster took effect here
    (without it the sample answers /routed with 404)."""
    return Check(
        name=f"a route written to the config cluster sends /routed to {cluster} only",
        url=f"http://{APP}.{namespace}{ROUTED_PATH}",
        classes=(AnswerClass("responder", status=200, body=SAMPLE_ANSWER),),
        expect=Expect(only=(cluster,)),
        samples=samples,
    )


def certificate_check(namespace: str) -> Check:
    """The pod's proxy holds a workload certificate of its namespace's identity."""
    return Check(
        name="the proxy holds a workload certificate of the mesh",
        url=ADMIN_CERTS,
        classes=(
            AnswerClass(
                "workload certificate", status=200, body=rf"spiffe://[^\"]+/ns/{namespace}/sa/"
            ),
        ),
        expect=Expect(only=("workload certificate",)),
        samples=1,
    )


@dataclass(frozen=True)
class NoIstiodArgs:
    provider: k8s.Provider
    # The remote's system namespace (the external istiod's name for it).
    namespace: pulumi.Input[str]
    # The name istiod's Deployment would have (istiod, or istiod-<revision>).
    deployment: str = "istiod"


class NoIstiod(pulumi.ComponentResource):
    """A Job in a remote that fails `pulumi up` when an istiod Deployment runs there. Its
    account may get that one Deployment by name, nothing else."""

    job: k8s.batch.v1.Job
    verified: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: NoIstiodArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:NoIstiodCheck", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        identity = JobIdentity(
            name,
            name=ACCOUNT,
            namespace=args.namespace,
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["apps"],
                    resources=["deployments"],
                    resource_names=[args.deployment],
                    verbs=["get"],
                )
            ],
            opts=child,
        )
        scripts = script_files(
            name, ACCOUNT, args.namespace, Path(__file__).with_name(SCRIPT), child
        )
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ACCOUNT, namespace=args.namespace),
            spec=job_spec(
                script_pod(
                    app=ACCOUNT,
                    config_map=scripts.metadata.name,
                    script=SCRIPT,
                    service_account=identity.account.metadata.name,
                    env={"NAMESPACE": args.namespace, "DEPLOYMENT": args.deployment},
                )
            ),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[identity.binding])
            ),
        )
        proved = ["no istiod Deployment runs in the remote"]
        self.verified = self.job.metadata.apply(lambda _: proved)
        self.register_outputs({"job": self.job.metadata.name, "verified": self.verified})
