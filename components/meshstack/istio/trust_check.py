"""The gate of a root rotation: a Job per cluster that completes once istiod serves the whole
expected root bundle (trust_check_job.py).

It reads the ConfigMap `istio-ca-root-cert` that istiod writes into every namespace, mounted
into its pod: no Kubernetes API access, no sidecar, nothing listening. The expected bundle is
in the Job's spec, so a changed bundle replaces the Job and the gate runs again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from meshstack.jobs import (
    SCRIPT_DEADLINE_SECONDS,
    job_spec,
    script_files,
    script_pod,
)

SCRIPT = "trust_check_job.py"
NAME = "trust-check"
# istiod's ConfigMap of the roots it serves, and its key (pilot/pkg/features/
# experimental.go:210 PILOT_CA_CERT_CONFIGMAP; constants.CACertNamespaceConfigMapDataName).
ROOT_CONFIG_MAP = "istio-ca-root-cert"
BUNDLE_DIR = "/trust"
BUNDLE_FILE = f"{BUNDLE_DIR}/root-cert.pem"


@dataclass(frozen=True)
class TrustCheckArgs:
    provider: k8s.Provider
    # Where the Job runs (istio-system).
    namespace: pulumi.Input[str]
    cluster: str
    # The roots istiod must serve, as the `cacerts` root-cert.pem holds them.
    expected_bundle: pulumi.Input[str]
    # What changes the bundle (the cacerts Secret) and serves it (istiod).
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)


class TrustCheck(pulumi.ComponentResource):
    job: k8s.batch.v1.Job
    # Known once the Job has succeeded (verification.verified_output lists it).
    verified: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: TrustCheckArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:TrustCheck", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=args.namespace),
            automount_service_account_token=False,
            opts=child,
        )
        scripts = script_files(name, NAME, args.namespace, Path(__file__).with_name(SCRIPT), child)
        pod = script_pod(
            app=NAME,
            config_map=scripts.metadata.name,
            script=SCRIPT,
            service_account=account.metadata.name,
            env={
                "EXPECTED": args.expected_bundle,
                "BUNDLE_FILE": BUNDLE_FILE,
                "CLUSTER": args.cluster,
                "DEADLINE_SECONDS": str(SCRIPT_DEADLINE_SECONDS),
            },
            api_access=False,
            config_maps={BUNDLE_DIR: ROOT_CONFIG_MAP},
        )
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=args.namespace),
            # The script retries within its deadline: a second pod would only repeat it.
            spec=job_spec(pod, retries=0),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=list(args.after))
            ),
        )
        names = [f"istiod of {args.cluster} serves trust.roots"]
        self.verified = self.job.metadata.apply(lambda _: names)
        self.register_outputs({"job": self.job.metadata.name, "verified": self.verified})
