"""Mesh membership: each istiod reads the API servers of the clusters it must know.

What `istioctl create-remote-secret` produces, declared: in each cluster that is read, a token
for `istio-reader-service-account` (created by the `base` chart), and in each cluster whose
istiod reads others a kubeconfig per cluster read, using that cluster's token. Which pairs
exist is the topology's decision (components/meshstack/istio/topology.py).

istioctl writes one Secret per pair. Here each reading cluster holds one Secret,
`istio-remote-secrets`, with one key per cluster read: istiod's secret controller takes every
key of a labelled Secret as a cluster (pkg/kube/multicluster), and a mesh of N primaries then
has N Secrets instead of N·(N−1) resources to create, diff and delete.

Reader tokens come in generations (topology.ReaderTokens): each is a token Secret of its own
in every cluster read, and the remote secrets use the active one. Making another generation
active changes the remote secrets' data, which the Kubernetes providers update in place
(meshstack.kube: enableSecretMutable); istiod then swaps each cluster's client for one with
the new token. With `gate`, a RemoteSyncCheck per reading cluster waits until every istiod
there has synced every cluster it reads, before `pulumi up` goes on (and before it deletes
a generation that was dropped in the same update: Pulumi deletes what left the program
only after the program's resources are done, pkg/resource/deploy/deployment_executor.go
performPostSteps).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from meshstack.istio.control_plane import ISTIO_NAMESPACE
from meshstack.istio.remote_sync import RemoteSyncCheck, RemoteSyncCheckArgs
from meshstack.istio.topology import FIRST_READER_TOKEN, ReaderTokens

READER_ACCOUNT = "istio-reader-service-account"
READER_TOKEN = "istio-reader-service-account-token"
REMOTE_SECRETS = "istio-remote-secrets"


def _suffix(generation: str) -> str:
    # The first generation keeps the names its Secret had before generations existed.
    return "" if generation == FIRST_READER_TOKEN else f"-{generation}"


def reader_token_name(generation: str) -> str:
    """The token Secret of a generation."""
    return READER_TOKEN + _suffix(generation)


def remote_kubeconfig(cluster: str, server: str, ca_data: str, token: str) -> str:
    """The kubeconfig istiod uses for a remote cluster (token auth, as istiod requires).

    JSON, which kubeconfig loaders read as the YAML it is a subset of: rendering N·(N−1) of
    them in a large mesh costs a tenth of what the YAML emitter does."""
    return json.dumps(
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
        indent=2,
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
    # istiod's Service in istio-system (istiod, or istiod-<revision>), each revision's.
    istiod_services: Sequence[str] = ("istiod",)
    # Where the cluster's private network is (e.g. one VPC): readers elsewhere use
    # `public_server` (None: `server` is reachable from everywhere).
    site: str = ""
    public_server: pulumi.Input[str] | None = None

    def uses_public_server(self, reader: MemberCluster) -> bool:
        return self.public_server is not None and reader.site != self.site


@dataclass(frozen=True)
class MeshMembershipArgs:
    members: Mapping[str, MemberCluster]
    # (cluster read, cluster reading it) pairs.
    reads: Sequence[tuple[str, str]]
    reader_tokens: ReaderTokens = field(default_factory=ReaderTokens)
    # A RemoteSyncCheck in each reading cluster, after what else it needs there (istiod).
    gate: Mapping[str, Sequence[pulumi.Resource]] | None = None
    # Where the tokens and remote secrets live: istiod's namespace on both sides (an
    # external control plane's, e.g. external-istiod). The gate checks istio-system only.
    namespace: str = ISTIO_NAMESPACE


class MeshMembership(pulumi.ComponentResource):
    # By the cluster holding it: the kubeconfigs of every cluster its istiod reads.
    remote_secrets: dict[str, k8s.core.v1.Secret]
    # By the cluster holding remote secrets: its gate (empty without `gate`).
    synced: dict[str, RemoteSyncCheck]

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
        generations = args.reader_tokens
        # Per cluster read, every generation's token; the remote secrets use the active one.
        tokens: dict[str, pulumi.Output[str]] = {}
        for cluster in dict.fromkeys(cluster for cluster, _ in args.reads):
            made = {
                generation: self._reader_token(
                    name, cluster, args.members[cluster], generation, args.namespace
                )
                for generation in generations.generations
            }
            tokens[cluster] = made[generations.active]
        # Per cluster read, what any reader needs of it; one Output each, whatever N.
        access = {cluster: _access(args.members[cluster], t) for cluster, t in tokens.items()}
        read_by: dict[str, list[str]] = {}
        for cluster, reader in args.reads:
            read_by.setdefault(reader, []).append(cluster)

        def kubeconfigs(reader: str, clusters: list[str]) -> pulumi.Output[dict[str, str]]:
            public = [args.members[c].uses_public_server(args.members[reader]) for c in clusters]

            def render(values: list[list[str]]) -> dict[str, str]:
                return {
                    cluster: remote_kubeconfig(cluster, server[is_public], ca, token)
                    for cluster, is_public, (*server, ca, token) in zip(
                        clusters, public, values, strict=True
                    )
                }

            return pulumi.Output.all(*(access[c] for c in clusters)).apply(render)

        self.remote_secrets = {
            reader: k8s.core.v1.Secret(
                f"{name}-in-{reader}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=REMOTE_SECRETS,
                    namespace=args.namespace,
                    labels={"istio/multiCluster": "true"},
                ),
                string_data=pulumi.Output.secret(kubeconfigs(reader, clusters)),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=args.members[reader].provider,
                    depends_on=[args.members[reader].base],
                ),
            )
            for reader, clusters in read_by.items()
        }
        gate = args.gate
        self.synced = {
            reader: RemoteSyncCheck(
                f"{name}-in-{reader}-synced",
                RemoteSyncCheckArgs(
                    provider=args.members[reader].provider,
                    secret=REMOTE_SECRETS,
                    clusters=clusters,
                    generation=generations.active,
                    base=args.members[reader].base,
                    istiod_services=args.members[reader].istiod_services,
                    after=[self.remote_secrets[reader], *gate.get(reader, ())],
                ),
                pulumi.ResourceOptions(parent=self),
            )
            for reader, clusters in read_by.items()
            if gate is not None
        }
        self.register_outputs({"reads": sorted(f"{reader} reads {c}" for c, reader in args.reads)})

    def _reader_token(
        self, name: str, cluster: str, member: MemberCluster, generation: str, namespace: str
    ) -> pulumi.Output[str]:
        """A token of the reader account (service_account_token)."""
        return service_account_token(
            f"{name}-{cluster}-reader-token{_suffix(generation)}",
            secret_name=reader_token_name(generation),
            namespace=namespace,
            account=READER_ACCOUNT,
            opts=pulumi.ResourceOptions(
                parent=self, provider=member.provider, depends_on=[member.base]
            ),
        )


def service_account_token(
    resource_name: str,
    *,
    secret_name: str,
    namespace: pulumi.Input[str],
    account: str,
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """A long-lived token of `account` (a `kubernetes.io/service-account-token` Secret, as
    `istioctl create-remote-secret` makes); Kubernetes fills in `data.token`, and the provider
    waits for it. Deleting the Secret revokes the token."""
    token = k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=secret_name,
            namespace=namespace,
            annotations={"kubernetes.io/service-account.name": account},
        ),
        type="kubernetes.io/service-account-token",
        opts=opts,
    )
    return pulumi.Output.secret(token.data.apply(lambda data: _decode(data["token"])))


def _access(member: MemberCluster, token: pulumi.Output[str]) -> pulumi.Output[list[str]]:
    """[server, public server, CA, token]: what any reader needs to read `member`."""
    return pulumi.Output.all(
        member.server, member.public_server or member.server, member.certificate_authority, token
    )


def _decode(value: str) -> str:
    return base64.b64decode(value).decode()
