"""The names of a shared root of trust's certificates, and its renewal window: pure, so that
the config (stacks/config/trust.py) checks them without the Pulumi SDK (trust.py builds
them)."""

from collections.abc import Sequence

DEFAULT_ROOT = "root"
# An intermediate is replaced by the first `up` within this many hours of its expiry: the TLS
# provider then plans its `ready_for_renewal` as a replacement (hashicorp/
# terraform-provider-tls internal/provider/common_cert.go:290-311, `early_renewal_hours`,
# which pulumi-tls wraps). The new one has the same key and root, which istiod loads live
# (same bundle: pilot/pkg/bootstrap/istio_ca.go:353-415). The old one stays valid until its
# own end, longer than any workload certificate it signed (24 h: pilot-agent SECRET_TTL,
# pilot/cmd/pilot-agent/options/options.go:76). Roots are never renewed so: a new root
# certificate is a rotation (a bundle istiod accepts only as a superset).
RENEW_BEFORE_HOURS = 30 * 24


def root_prefix(name: str, root: str) -> str:
    return f"{name}-root" if root == DEFAULT_ROOT else f"{name}-root-{root}"


def intermediate_prefix(name: str, cluster: str, root: str) -> str:
    return f"{name}-{cluster}" if root == DEFAULT_ROOT else f"{name}-{cluster}-{root}"


def name_clashes(clusters: Sequence[str], roots: Sequence[str]) -> list[str]:
    """Resource-name prefixes that two certificates would share (a cluster named like a root's
    prefix, or cluster and root names that join into another's), for any signing root."""
    prefixes = [root_prefix("", r) for r in roots] + [
        intermediate_prefix("", c, r) for c in clusters for r in roots
    ]
    return sorted({p.lstrip("-") for p in prefixes if prefixes.count(p) > 1})
