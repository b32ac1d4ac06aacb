"""A cluster of a mesh, whichever scenario and cloud: the one model both multi-cluster
scenarios extend (two-cluster-retention's ACK members, multi-cluster's ACK and GKE clusters)."""

from __future__ import annotations

from pydantic import Field, model_validator

from meshstack.istio.topology import FIRST_READER_TOKEN, ReaderTokens, broken_rotation
from stacks.config.fields import PROJECT, Cidr, CloudZone, DnsLabel, Flag, Model


class ClusterInMesh(Model):
    name: DnsLabel
    """The cluster's name: Istio's cluster name, and the name of what is made for it."""
    zone: CloudZone
    """Its zone, checked against the cloud's own zone shape and region."""
    node_cidr: Cidr
    """Its nodes' range: its vSwitch on ACK (inside the VPC), its subnet on GKE."""
    pod_cidr: Cidr
    """Its pod range: disjoint from every other cluster's (and on ACK from the VPC)."""
    service_cidr: Cidr
    """Its Service range: disjoint from every other cluster's (and on ACK from the VPC)."""
    api_server_public: Flag = True
    """ACK: the API server on a public endpoint, which `pulumi up`, Istio objects and a primary
    in another cloud reach from outside the VPC; false needs `pulumi up` inside the VPC."""
    deletion_protection: Flag = True
    """The cloud refuses to delete the cluster until this is false."""


class MembershipConfig(Model):
    """How each istiod reads the API servers of the other clusters (its remote secrets)."""

    reader_tokens: list[DnsLabel] = Field(default=[FIRST_READER_TOKEN], min_length=1)
    """Generations of the istio-reader-service-account token, oldest first: each is a token
    Secret of its own in every cluster that is read. To rotate: add a generation; then make
    it activeReaderToken (the remote secrets are updated in place, and `pulumi up` waits
    until every istiod has synced every cluster with it); then remove the old one."""
    active_reader_token: DnsLabel | None = None
    """The generation the remote secrets use. Unset: the only one listed."""

    @property
    def tokens(self) -> ReaderTokens:
        active = self.active_reader_token or self.reader_tokens[-1]
        return ReaderTokens(tuple(self.reader_tokens), active)

    @model_validator(mode="after")
    def _active_listed(self) -> MembershipConfig:
        problems = []
        listed = self.reader_tokens
        repeated = sorted({g for g in listed if listed.count(g) > 1})
        if repeated:
            problems.append(
                f"{PROJECT}:membership.readerTokens lists {repeated} twice: each generation is "
                "one token Secret"
            )
        active = self.active_reader_token
        if active is None and len(set(listed)) > 1:
            problems.append(
                f"{PROJECT}:membership.activeReaderToken is unset, but membership.readerTokens "
                f"lists {listed}: name the generation the remote secrets use"
            )
        if active is not None and active not in listed:
            problems.append(
                f"{PROJECT}:membership.activeReaderToken {active!r} is not in "
                f"membership.readerTokens {listed}: the remote secrets would use a token that "
                "is not declared (to drop a generation, first make another one active)"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


def rotation_refused(
    membership: MembershipConfig, istio_version: str, key: str = "istio.version"
) -> list[str]:
    """A second reader-token generation (the start of every rotation) on an Istio release
    (set by `key`) whose secret controller mishandles a changed remote secret."""
    why = broken_rotation(istio_version)
    if why is None or len(membership.reader_tokens) < 2:
        return []
    given = "" if key == "istio.version" else f" ({PROJECT}:{key} {istio_version!r})"
    return [
        f"{PROJECT}:membership.readerTokens {membership.reader_tokens} rotates the remote "
        f"secrets, but {why}{given}; choose an istio.version with the fix (1.31.0 or later) "
        "first"
        + (
            " (with istio.revisions: move the tags to such a revision, drop this one)"
            if given
            else ""
        )
    ]
