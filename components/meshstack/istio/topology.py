"""Who runs what in a multi-cluster mesh: pure decisions from a list of member clusters.

Istio's deployment models come from two choices per cluster: its role (a
*primary* runs istiod; a *remote* uses the istiod of its primary) and its network (clusters
on one network reach each other's pods; across networks, traffic goes through east-west
gateways). From those follow, with nothing else to configure:

- every primary reads the API server of every other cluster (a remote secret each): the
  only part that grows as N·(N−1) in a multi-primary mesh;
- a primary with remotes, or with VMs, exposes istiod through its east-west gateway (the
  remotes' webhooks and proxies, and the VMs' proxies, reach it there);
- with more than one network, every cluster runs an east-west gateway, and every primary
  declares `cross-network-gateway`, which exposes the services behind those gateways to the
  other networks (remotes take their Istio configuration from their primary).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["primary", "remote"]


@dataclass(frozen=True)
class MeshMember:
    name: str
    network: str
    role: Role = "primary"
    # The primary whose istiod a remote uses (None for a primary).
    primary: str | None = None


class TopologyError(ValueError):
    """A list of members that cannot form a mesh."""


@dataclass(frozen=True)
class MeshTopology:
    members: tuple[MeshMember, ...]
    # The networks of VMs that join the mesh ("" for the clusters' own flat network).
    vm_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [m.name for m in self.members]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise TopologyError(f"cluster names must be unique; repeated: {repeated}")
        primaries = {m.name for m in self.members if m.role == "primary"}
        if not primaries:
            raise TopologyError("a mesh needs at least one primary cluster (one running istiod)")
        for member in self.members:
            if member.role == "remote" and member.primary not in primaries:
                raise TopologyError(
                    f"remote cluster {member.name!r} names primary {member.primary!r}, which is "
                    f"not a primary of this mesh; primaries: {sorted(primaries)}"
                )
            if member.role == "primary" and member.primary is not None:
                raise TopologyError(f"primary cluster {member.name!r} cannot name a primary")

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.members]

    @property
    def primaries(self) -> list[str]:
        return [m.name for m in self.members if m.role == "primary"]

    @property
    def networks(self) -> list[str]:
        return sorted({m.network for m in self.members} | set(self.vm_networks))

    @property
    def multi_network(self) -> bool:
        return len(self.networks) > 1

    def member(self, name: str) -> MeshMember:
        return next(m for m in self.members if m.name == name)

    def remotes_of(self, primary: str) -> list[str]:
        return [m.name for m in self.members if m.primary == primary]

    def control_plane_of(self, name: str) -> str:
        """The cluster whose istiod serves `name`."""
        member = self.member(name)
        return member.primary or member.name

    def remote_secrets(self) -> list[tuple[str, str]]:
        """(cluster read, cluster holding the secret): every primary reads every other cluster."""
        return [
            (cluster, holder)
            for holder in self.primaries
            for cluster in self.names
            if cluster != holder
        ]

    def external_istiod(self, name: str) -> bool:
        """Whether `name`'s istiod also serves remote clusters (the chart's externalIstiod)."""
        return bool(self.remotes_of(name))

    def exposes_istiod(self, name: str) -> bool:
        primary = self.member(name).role == "primary"
        return self.external_istiod(name) or (primary and bool(self.vm_networks))

    def exposes_services(self, name: str) -> bool:
        """Whether `name` holds `cross-network-gateway`. Istio objects live where istiod reads
        them, in primaries; a remote's gateway pods take theirs from the primary's."""
        return self.multi_network and self.member(name).role == "primary"

    def needs_eastwest_gateway(self, name: str) -> bool:
        # One gateway per network would do; one per cluster keeps each cluster self-contained.
        return self.exposes_istiod(name) or self.multi_network

    def model(self) -> dict[str, str]:
        """The four dimensions of Istio's deployment models (network, control plane, mesh,
        tenancy), as this topology realises them."""
        primaries = len(self.primaries)
        if len(self.members) == 1:
            control = "single cluster"
        elif primaries == len(self.members):
            control = "multi-primary"
        elif primaries == 1:
            control = "primary-remote"
        else:
            control = "multi-primary with remotes"
        return {
            "network": "multi-network" if self.multi_network else "single network",
            "controlPlane": control,
            "mesh": "single mesh, one root of trust",
            "tenancy": "namespace",
        }


# Reader-token generations. Each is a token Secret of istio-reader-service-account in every
# cluster read; the remote secrets use the active one. The first keeps the Secret name that
# meshes deployed before generations existed have (membership.READER_TOKEN).
FIRST_READER_TOKEN = "initial"


@dataclass(frozen=True)
class ReaderTokens:
    # Oldest first.
    generations: tuple[str, ...] = (FIRST_READER_TOKEN,)
    active: str = FIRST_READER_TOKEN

    def __post_init__(self) -> None:
        if self.active not in self.generations:
            raise TopologyError(
                f"the active reader token {self.active!r} is not one of {list(self.generations)}"
            )


def broken_rotation(istio_version: str) -> str | None:
    """Why changing a remote secret's token is unsafe on this Istio release (None: it is not).

    istio/istio#61043 (confirmed on 1.30.1 and 1.30.3): rotating a remote secret wiped the
    rotated cluster's endpoint shards until istiod restarted. Fixed by #61044, on release-1.30
    by #61159 (da9c990125a, after the 1.30.3 tag) and on release-1.31 by #61160 (6fa1477ded1,
    in 1.31.0-beta.2 and every later 1.31 tag). Releases before 1.30 stop the cluster's old
    client before the new one has synced (release-1.29 pkg/kube/multicluster/
    secretcontroller.go: prev.Stop() on Update; #36365); make-before-break came with 1.30's
    PendingClusterSwap (clusterstore.go)."""
    parts = istio_version.split("-", maxsplit=1)[0].split(".")
    major, minor, patch = (int(p) for p in parts[:3])
    if (major, minor) < (1, 30):
        return (
            f"Istio {istio_version} stops a cluster's old client before the new one has synced "
            "when its remote secret changes (istio/istio#36365): cross-cluster endpoints drop "
            "during the swap"
        )
    if (major, minor) == (1, 30) and patch <= 3:
        return (
            f"Istio {istio_version} loses the rotated cluster's endpoints until istiod restarts "
            "(istio/istio#61043, fixed after 1.30.3)"
        )
    return None
