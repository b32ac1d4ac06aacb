"""A Secret Manager secret that one service account, and nobody else by this stack, may read."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

READER_ROLE = "roles/secretmanager.secretAccessor"


def read_command(secret_id: str) -> str:
    """How a Compute Engine VM reads the secret's latest version as its service account
    (the gcloud CLI ships with Google's images)."""
    return f"gcloud secrets versions access latest --secret={secret_id} --quiet"


@dataclass(frozen=True)
class ReadableSecretArgs:
    provider: gcp.Provider
    secret_id: str
    value: pulumi.Input[str]
    reader_email: pulumi.Input[str]
    # The Secret Manager API, enabled.
    api: pulumi.Resource
    labels: dict[str, str]


class ReadableSecret(pulumi.ComponentResource):
    secret: gcp.secretmanager.Secret

    def __init__(
        self, name: str, args: ReadableSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:gcp:ReadableSecret", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.secret = gcp.secretmanager.Secret(
            f"{name}-secret",
            secret_id=args.secret_id,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels=args.labels,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[args.api])),
        )
        gcp.secretmanager.SecretVersion(
            f"{name}-version",
            secret=self.secret.id,
            secret_data=pulumi.Output.secret(args.value),
            opts=child,
        )
        gcp.secretmanager.SecretIamMember(
            f"{name}-reader",
            secret_id=self.secret.id,
            role=READER_ROLE,
            member=pulumi.Output.concat("serviceAccount:", args.reader_email),
            opts=child,
        )
        self.register_outputs({"secretId": self.secret.secret_id})
