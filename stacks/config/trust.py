"""The mesh's roots of trust, where the package plugs in Istio's CA (a shared root of trust:
multi-cluster, the VM's cluster, two-cluster with controlPlane istio).

A root is rotated in three `pulumi up`s, each gated by a check that every cluster's istiod
serves the whole bundle (docs/day-2.md, Root CA rotation): add the new root to `roots`, switch
`signingRoot` to it, drop the old root. What may change in one `up` is judged against the last
`up` in stacks/config/previous.py (`trust_step_problems`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from meshstack.istio.trust_names import DEFAULT_ROOT, RENEW_BEFORE_HOURS, name_clashes
from stacks.config.fields import PROJECT, DnsLabel, Model
from stacks.config.mesh import IstioConfig

# Fail `up` when a certificate of the mesh is valid for less than this (a week: time to
# rotate a root, or to find why an intermediate was not renewed).
MIN_VALIDITY_HOURS = 7 * 24


class TrustConfig(Model):
    """The root CAs the mesh trusts and the one that signs (docs/day-2.md, Root CA rotation)."""

    roots: list[DnsLabel] = Field(default_factory=lambda: [DEFAULT_ROOT], min_length=1)
    """The root CAs every workload trusts, by name (each a root certificate and key the stack
    creates). A rotation adds the new one (e.g. [root] → [root, r2]), then switches
    signingRoot, then drops the old one ([r2]), one `pulumi up` each."""
    signing_root: DnsLabel | None = None
    """The root whose intermediates (one per cluster) sign workload certificates; one of
    roots. Unset: the only root (required once roots has several)."""
    renew_before_hours: int = Field(default=RENEW_BEFORE_HOURS, ge=48, le=365 * 24)
    """The first `pulumi up` this many hours before an intermediate expires replaces it by a
    new one under the same root (at least 48: the old one must outlive the workload
    certificates it signed, 24 h each)."""
    min_validity_hours: int = Field(default=MIN_VALIDITY_HOURS, ge=1, le=365 * 24)
    """`pulumi up` (and preview) fails when a root or an intermediate is valid for less than
    this many hours more; less than renewBeforeHours, so that it fails only where renewal
    did not happen (a root: rotate it)."""

    @property
    def signing(self) -> str:
        return self.signing_root or self.roots[0]


def trust_problems(trust: TrustConfig, istio: IstioConfig, clusters: Sequence[str]) -> list[str]:
    """What is wrong with `trust` on its own (the steps between `up`s are previous.py's)."""
    problems = []
    repeated = sorted({r for r in trust.roots if trust.roots.count(r) > 1})
    if repeated:
        problems.append(f"{PROJECT}:trust.roots repeats {repeated}; name each root once")
    if trust.signing_root is None and len(set(trust.roots)) > 1:
        problems.append(
            f"{PROJECT}:trust.signingRoot is unset, but trust.roots has {trust.roots}: name "
            "the root whose intermediates sign (the one signing now, during a rotation)"
        )
    elif trust.signing not in trust.roots:
        problems.append(
            f"{PROJECT}:trust.signingRoot {trust.signing!r} is not in trust.roots "
            f"{trust.roots}: a signing root must be trusted; choose one of them"
        )
    if trust.min_validity_hours >= trust.renew_before_hours:
        problems.append(
            f"{PROJECT}:trust.minValidityHours {trust.min_validity_hours} is not less than "
            f"trust.renewBeforeHours {trust.renew_before_hours}: `up` would fail on an "
            "intermediate before it is due for renewal; lower minValidityHours"
        )
    clashes = name_clashes(clusters, trust.roots)
    if clashes:
        problems.append(
            f"{PROJECT}:trust.roots {trust.roots} and the cluster names {list(clusters)} "
            f"give two certificates the same resource name ({', '.join(clashes)}); rename "
            "the root"
        )
    if istio.data_plane == "ambient" and len(set(trust.roots)) > 1:
        # ztunnel takes its roots only with each workload certificate (the last element of
        # istiod's CSR answer: istio/istio release-1.31 security/pkg/server/ca/server.go
        # :150-155; istio/ztunnel release-1.31 src/tls/certificate.rs:252-260), renewed at
        # half its life (certificate.rs:402-408); it runs no agent that takes a pushed
        # bundle (PROXY_CONFIG_XDS_AGENT), and a changed istio-ca-root-cert only rebuilds
        # its channel to istiod (src/identity/caclient.rs:64, 89-103). istio/istio#47427
        # (root rotation without downtime in ambient) is open.
        problems.append(
            f"{PROJECT}:trust.roots {trust.roots} in an ambient mesh: a root rotation is not "
            "hitless there (ztunnel learns a new root only when each workload certificate is "
            "renewed, up to 12 hours later; istio/istio#47427); keep one root, or use "
            "dataPlane sidecar (docs/day-2.md, Root CA rotation)"
        )
    return problems
