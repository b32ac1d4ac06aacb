"""Multi-primary membership: every istiod watches the API servers of the other clusters.

What `istioctl create-remote-secret` produces, declared: in each cluster a token for
`istio-reader-service-account` (created by the `base` chart), and in every *other* cluster a
Secret `istio-remote-secret-<cluster>` with a kubeconfig for that API server using the token.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.istio.control_plane import ISTIO_NAMESPACE

READER_ACCOUNT = "istio-reader-service-account"
READER_TOKEN = "istio-reader-service-account-token"


def remote_kubeconfig(cluster: str, server: str, ca_data: str, token: str) -> str:
    """The kubeconfig istiod uses for a remote cluster (token auth, as istiod requires)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster,
                    "cluster": {"server": server, "certificate-authority-data": ca_data},
                }
            ],
            "users": [{"name": cluster, "user": {"token": token}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
            "current-context": cluster,
        },
        sort_keys=False,
    )


@dataclass(frozen=True)
class MemberCluster:
    provider: k8s.Provider
    # The API server as seen from the other clusters (an intranet endpoint in one VPC).
    server: pulumi.Input[str]
    # Base64 PEM of the API server's CA.
    certificate_authority: pulumi.Input[str]
    # The `base` chart (it creates the reader service account and istio-system).
    base: pulumi.Resource


@dataclass(frozen=True)
class MultiPrimaryMembershipArgs:
    members: Mapping[str, MemberCluster]


class MultiPrimaryMembership(pulumi.ComponentResource):
    remote_secrets: dict[tuple[str, str], k8s.core.v1.Secret]

    def __init__(
        self,
        name: str,
        args: MultiPrimaryMembershipArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("meshstack:istio:MultiPrimaryMembership", name, None, opts)
        self.remote_secrets = {}
        for cluster, member in args.members.items():
            # A long-lived token Secret; Kubernetes fills in `data.token`, and the provider
            # waits for it.
            token = k8s.core.v1.Secret(
                f"{name}-{cluster}-reader-token",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=READER_TOKEN,
                    namespace=ISTIO_NAMESPACE,
                    annotations={"kubernetes.io/service-account.name": READER_ACCOUNT},
                ),
                type="kubernetes.io/service-account-token",
                opts=pulumi.ResourceOptions(
                    parent=self, provider=member.provider, depends_on=[member.base]
                ),
            )
            kubeconfig = pulumi.Output.secret(
                pulumi.Output.all(
                    member.server,
                    member.certificate_authority,
                    token.data.apply(lambda data: _decode(data["token"])),
                ).apply(lambda values, c=cluster: remote_kubeconfig(c, *values))
            )
            for peer, peer_member in args.members.items():
                if peer == cluster:
                    continue
                self.remote_secrets[(cluster, peer)] = k8s.core.v1.Secret(
                    f"{name}-{cluster}-in-{peer}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=f"istio-remote-secret-{cluster}",
                        namespace=ISTIO_NAMESPACE,
                        labels={"istio/multiCluster": "true"},
                        annotations={"networking.istio.io/cluster": cluster},
                    ),
                    string_data={cluster: kubeconfig},
                    opts=pulumi.ResourceOptions(
                        parent=self, provider=peer_member.provider, depends_on=[peer_member.base]
                    ),
                )
        self.register_outputs(
            {"remoteSecrets": sorted(f"{c} -> {p}" for c, p in self.remote_secrets)}
        )


def _decode(value: str) -> str:
    return base64.b64decode(value).decode()
