"""A Kubernetes service account's token, kept fresh in Secret Manager for one VM to read.

A VM outside the cluster cannot ask Kubernetes for a token; something inside must, and hand
it over. In the cluster, a Job (at deploy time) and a CronJob (every `renew_hours`) run
token_relay_job.py: a TokenRequest for the service account with the given audience and a
bounded lifetime, written as the newest version of a Secret Manager secret, older versions
destroyed. The VM reads the newest version as its own service account (secret_reader_vm.py).
No token passes through Pulumi: not in the program, the state or the outputs.

Least privilege on each side:
- the relay's Kubernetes service account may `create` `serviceaccounts/token` for that one
  service account, nothing else;
- through GKE Workload Identity it acts as a Google service account that may add, list and
  destroy versions of that one secret (roles/secretmanager.secretVersionManager), not read
  them;
- the VM's service account may read that one secret (roles/secretmanager.secretAccessor).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from meshstack.gcp.sdk import gcp
from meshstack.jobs import (
    SCRIPT_DEADLINE_SECONDS,
    JobIdentity,
    job_spec,
    script_files,
    script_pod,
)
from meshstack.naming import fixed_name

SCRIPT = "token_relay_job.py"
READER = "secret_reader_vm.py"
# Where the VM keeps the reader.
READER_PATH = f"/usr/local/lib/meshstack/{READER}"
VERSION_MANAGER = "roles/secretmanager.secretVersionManager"
ACCESSOR = "roles/secretmanager.secretAccessor"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
# Versions kept: the newest, and the one before it (a VM may have read it a minute ago).
KEEP_VERSIONS = 2
# Kubernetes refuses TokenRequests of less than 10 minutes (ValidateTokenRequest).
MINIMUM_LIFETIME_SECONDS = 600


def vm_reader(secret_id: str) -> tuple[str, dict[str, str]]:
    """The command that prints the secret's newest version on a Compute Engine VM (python3
    and the metadata server; no gcloud), and the files it needs there."""
    source = Path(__file__).with_name(READER).read_text()
    return f"python3 {READER_PATH} {shlex.quote(secret_id)}", {READER_PATH: source}


def renewal_schedule(renew_hours: int) -> str:
    """A cron schedule: every `renew_hours` hours (at minute 17, away from the hour's crowd)."""
    return f"17 */{renew_hours} * * *"


@dataclass(frozen=True)
class TokenRelayArgs:
    kubernetes: k8s.Provider
    cloud: gcp.Provider
    # Where the service account lives (the relay runs there too), and its name (from the
    # ServiceAccount resource, so that the relay waits for it).
    namespace: pulumi.Input[str]
    service_account: pulumi.Input[str]
    audience: str
    lifetime_hours: int
    # The Secret Manager secret (its id within the project).
    secret_id: str
    # The GKE cluster's Workload Identity pool (`<project>.svc.id.goog`).
    workload_pool: pulumi.Input[str]
    # Who reads the token (the VM's service account).
    reader_email: pulumi.Input[str]
    # The Secret Manager API, enabled.
    api: pulumi.Resource
    # The IAM API, enabled: the writer's service account is created through it.
    iam_api: pulumi.Resource
    labels: dict[str, str] = field(default_factory=dict)
    # What the relay's pods need to be scheduled (a node pool).
    nodes: Sequence[pulumi.Resource] = ()

    @property
    def renew_hours(self) -> int:
        """Four renewals per lifetime: a token read at any time is valid for 3/4 of it."""
        return max(1, self.lifetime_hours // 4)


class TokenRelay(pulumi.ComponentResource):
    secret: gcp.secretmanager.Secret
    # Completes once the first token is in the secret.
    first_token: k8s.batch.v1.Job

    def __init__(
        self, name: str, args: TokenRelayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:gcp:TokenRelay", name, None, opts)
        cloud = pulumi.ResourceOptions(parent=self, provider=args.cloud)
        kube = pulumi.ResourceOptions(parent=self, provider=args.kubernetes)

        self.secret = gcp.secretmanager.Secret(
            f"{name}-secret",
            secret_id=args.secret_id,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels=args.labels,
            opts=fixed_name(
                pulumi.ResourceOptions.merge(cloud, pulumi.ResourceOptions(depends_on=[args.api]))
            ),
        )
        gcp.secretmanager.SecretIamMember(
            f"{name}-reader",
            secret_id=self.secret.id,
            role=ACCESSOR,
            member=pulumi.Output.concat("serviceAccount:", args.reader_email),
            opts=cloud,
        )
        writer = gcp.serviceaccount.Account(
            f"{name}-writer",
            account_id=f"{args.secret_id[:24].rstrip('-')}-relay",
            display_name=f"Writes {args.secret_id} from the cluster (meshstack)",
            opts=fixed_name(
                pulumi.ResourceOptions.merge(
                    cloud, pulumi.ResourceOptions(depends_on=[args.iam_api])
                )
            ),
        )
        writes = gcp.secretmanager.SecretIamMember(
            f"{name}-writes",
            secret_id=self.secret.id,
            role=VERSION_MANAGER,
            member=writer.email.apply(lambda email: f"serviceAccount:{email}"),
            opts=cloud,
        )
        relay_account = pulumi.Output.from_input(args.service_account).apply(
            lambda account: f"{account}-token-relay"
        )
        # The Kubernetes service account below may act as the Google one.
        federation = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=writer.name,
            role=WORKLOAD_IDENTITY_USER,
            member=pulumi.Output.all(args.workload_pool, args.namespace, relay_account).apply(
                lambda parts: f"serviceAccount:{parts[0]}[{parts[1]}/{parts[2]}]"
            ),
            opts=cloud,
        )

        identity = JobIdentity(
            name,
            name=relay_account,
            namespace=args.namespace,
            annotations={"iam.gke.io/gcp-service-account": writer.email},
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""],
                    resources=["serviceaccounts/token"],
                    resource_names=[args.service_account],
                    verbs=["create"],
                )
            ],
            opts=kube,
        )
        scripts = script_files(
            name, relay_account, args.namespace, Path(__file__).with_name(SCRIPT), kube
        )
        lifetime = args.lifetime_hours * 3600
        pod = script_pod(
            app=relay_account,
            config_map=scripts.metadata.name,
            script=SCRIPT,
            service_account=identity.account.metadata.name,
            env={
                "NAMESPACE": args.namespace,
                "SERVICE_ACCOUNT": args.service_account,
                "AUDIENCE": args.audience,
                "LIFETIME_SECONDS": str(lifetime),
                # A token must outlive the next renewal and a VM's next read of it.
                "MINIMUM_SECONDS": str(max(MINIMUM_LIFETIME_SECONDS, 2 * args.renew_hours * 3600)),
                "SECRET": self.secret.id,
                "KEEP_VERSIONS": str(KEEP_VERSIONS),
                "DEADLINE_SECONDS": str(SCRIPT_DEADLINE_SECONDS),
            },
        )
        ready = pulumi.ResourceOptions.merge(
            kube,
            pulumi.ResourceOptions(depends_on=[identity.binding, writes, federation, *args.nodes]),
        )
        self.first_token = k8s.batch.v1.Job(
            f"{name}-first-token",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=relay_account.apply(lambda n: f"{n}-first"), namespace=args.namespace
            ),
            spec=job_spec(pod),
            opts=ready,
        )
        k8s.batch.v1.CronJob(
            f"{name}-renewal",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=relay_account, namespace=args.namespace),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=renewal_schedule(args.renew_hours),
                concurrency_policy="Forbid",
                starting_deadline_seconds=SCRIPT_DEADLINE_SECONDS,
                successful_jobs_history_limit=1,
                failed_jobs_history_limit=3,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(spec=job_spec(pod)),
            ),
            opts=ready,
        )
        self.register_outputs(
            {
                "secretId": self.secret.secret_id,
                "writer": writer.email,
                "renewEveryHours": args.renew_hours,
            }
        )
