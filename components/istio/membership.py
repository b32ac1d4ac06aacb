"""Mesh membership: each istiod reads the API servers of the clusters it must know.

What `istioctl create-remote-secret` produces, declared: in each cluster that is read, a token
for `istio-reader-service-account` (created by the `base` chart), and in each cluster that
reads it a Secret `istio-remote-secret-<cluster>` with a kubeconfig for that API server using
the token. Which pairs exist is the topology's decision (components/istio/topology.py).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
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
    # The API server as seen from clusters of the same site (an intranet endpoint in a VPC).
    server: pulumi.Input[str]
    # Base64 PEM of the API server's CA.
    certificate_authority: pulumi.Input[str]
    # The `base` chart (it creates the reader service account and istio-system).
    base: pulumi.Resource
    # Where the cluster's private network is (e.g. one VPC): readers elsewhere use
    # `public_server` (None: `server` is reachable from everywhere).
    site: str = ""
    public_server: pulumi.Input[str] | None = None

    def server_for(self, reader: MemberCluster) -> pulumi.Input[str]:
        if self.public_server is None or reader.site == self.site:
            return self.server
        return self.public_server


@dataclass(frozen=True)
class MeshMembershipArgs:
    members: Mapping[str, MemberCluster]
    # (cluster read, cluster reading it) pairs.
    reads: Sequence[tuple[str, str]]


class MeshMembership(pulumi.ComponentResource):
    remote_secrets: dict[tuple[str, str], k8s.core.v1.Secret]

    def __init__(
        self,
        name: str,
        args: MeshMembershipArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            "meshstack:istio:MeshMembership",
            name,
            None,
            pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    aliases=[pulumi.Alias(type_="meshstack:istio:MultiPrimaryMembership")]
                ),
            ),
        )
        self.remote_secrets = {}
        readers: dict[str, list[str]] = {}
        for cluster, reader in args.reads:
            readers.setdefault(cluster, []).append(reader)
        for cluster, peers in readers.items():
            member = args.members[cluster]
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
            token_value = token.data.apply(lambda data: _decode(data["token"]))
            for peer in peers:
                peer_member = args.members[peer]
                kubeconfig = pulumi.Output.secret(
                    pulumi.Output.all(
                        member.server_for(peer_member), member.certificate_authority, token_value
                    ).apply(lambda values, c=cluster: remote_kubeconfig(c, *values))
                )
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
