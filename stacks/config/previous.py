"""What this stack's last `pulumi up` deployed, for the changes that are safe only in steps.

Some changes are safe only as a sequence of `up`s: a new Istio revision goes beside the one
that runs before that one goes, a new root CA beside the old before the switch. Config alone
cannot tell a first `up` from a one-step swap, so every `up` exports `deployed` (a plain,
non-secret record of those facts: `record`), and the next run reads it back before anything
is registered (stacks/state.py asks the Pulumi CLI; tools/offline/fakes.py answers offline).
A refused step is a problem of the same message as every other mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stacks.config.fields import PROJECT
from stacks.config.mesh import mesh_mtls
from stacks.config.revisions import DEFAULT_TAG, mtls_pairs, revision_mtls_applies

# The name of the stack output that holds the record.
OUTPUT = "deployed"
# The record of an istiod without a revision (Istio's `default` revision).
DEFAULT_REVISION = "default"


class StateUnavailable(Exception):
    """What the stack deployed could not be read (the message says why)."""


class StackState(Protocol):
    def deployed(self) -> Mapping[str, Any] | None:
        """The `deployed` output of the stack's last `pulumi up`; None before the first.
        Raises StateUnavailable when it cannot be read."""
        ...


@dataclass(frozen=True)
class Deployed:
    """The facts `record` keeps, as the last `up` left them."""

    # The revision of each istiod the stack runs (DEFAULT_REVISION for an unrevisioned one).
    istiod_revisions: tuple[str, ...] = ()
    # The roots of trust every cluster's istiod served (their names), and the signing root;
    # empty where the stack plugs in no CA (or an older release deployed it).
    trust_roots: tuple[str, ...] = ()
    signing_root: str | None = None
    # The reader-token generation the remote secrets used (multi-cluster meshes).
    active_reader_token: str | None = None
    # istio.tags as the last `up` applied them (tag → revision); empty without istio.revisions.
    tags: Mapping[str, str] = field(default_factory=dict)
    # bookinfo.authorization as the last `up` applied it (None: Bookinfo did not run), and
    # whether the record says so at all (an older release's does not).
    bookinfo_authorization: str | None = None
    bookinfo_recorded: bool = False
    # istio.ambient.revision as the last `up` applied it: the istiod istio-cni and ztunnel
    # ran on (none without ambient revisions).
    ambient_revision: str | None = None
    # The pairs of revisions whose pods the mTLS check proved talk to each other (each
    # sorted), kept while both are declared.
    mtls_checked: frozenset[tuple[str, str]] = frozenset()
    # tenancy.tenants: each tenant's control plane (shared or own); empty without tenants.
    tenants: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, record: Mapping[str, Any] | None) -> Deployed:
        """A record as exported; one of an older release of the package, or none, reads as
        having no facts (nothing to compare with: a first `up`)."""
        istio = (record or {}).get("istio") or {}
        trust = (record or {}).get("trust") or {}
        return cls(
            istiod_revisions=tuple(istio.get("revisions") or ()),
            tags=dict(istio.get("tags") or {}),
            ambient_revision=istio.get("ambientRevision"),
            mtls_checked=frozenset(tuple(sorted(p)) for p in istio.get("mtlsChecked") or ()),
            trust_roots=tuple(trust.get("roots") or ()),
            signing_root=trust.get("signingRoot"),
            active_reader_token=((record or {}).get("membership") or {}).get("activeReaderToken"),
            bookinfo_authorization=((record or {}).get("bookinfo") or {}).get("authorization"),
            bookinfo_recorded="bookinfo" in (record or {}),
            tenants=dict((record or {}).get("tenancy") or {}),
        )


def _istio(stack: Any) -> Any:
    """The stack's own Istio config (none with ASM's managed control plane)."""
    return stack.istio if getattr(stack, "control_plane", "istio") == "istio" else None


def istiod_revisions(stack: Any) -> tuple[str, ...]:
    """The revision of each istiod the stack declares (none with ASM's managed one)."""
    istio = _istio(stack)
    return tuple(r.name for r in istio.declared_revisions()) if istio else ()


def shared_trust(stack: Any) -> Any:
    """The stack's TrustConfig where it plugs in a CA (a shared root of trust), else None."""
    trust = getattr(stack, "trust", None)
    if trust is None or getattr(stack, "control_plane", "istio") != "istio":
        return None
    return trust


def trust_record(stack: Any) -> dict[str, Any]:
    """Names only, never key material. The whole `deployed` output is written with every
    other stack output in one call (pulumi/runtime/resource.py register_resource_outputs),
    which waits for `verified` and so for the trust gates; a failed `up` leaves the last
    outputs (pulumi/pulumi#15754): the next `up` sees these roots only once every cluster
    served them."""
    trust = shared_trust(stack)
    if trust is None:
        return {}
    return {"trust": {"roots": list(trust.roots), "signingRoot": trust.signing}}


def membership_of(stack: Any) -> Any:
    """The stack's MembershipConfig where istiods read each other's clusters, else None."""
    membership = getattr(stack, "membership", None)
    if membership is None or getattr(stack, "control_plane", "istio") != "istio":
        return None
    return membership


def membership_record(stack: Any) -> dict[str, Any]:
    membership = membership_of(stack)
    if membership is None:
        return {}
    return {"membership": {"activeReaderToken": membership.tokens.active}}


def bookinfo_runs(stack: Any) -> bool:
    bookinfo = getattr(stack, "bookinfo", None)
    return bookinfo is not None and getattr(bookinfo, "enabled", True)


def bookinfo_record(stack: Any) -> dict[str, Any]:
    """The authorization Bookinfo runs with; an empty entry where it does not run (so that
    enabling it later is a first Bookinfo, with the new-stack default)."""
    if getattr(stack, "bookinfo", None) is None:
        return {}
    if not bookinfo_runs(stack):
        return {"bookinfo": {}}
    return {"bookinfo": {"authorization": stack.bookinfo.authorization}}


def settled(stack: Any, record: Mapping[str, Any] | None) -> Any:
    """The stack with what the config left to the last `up` decided: bookinfo.authorization
    unset is default-deny for a new stack (or one whose Bookinfo did not run), what it was for
    a running one, and none for one whose Bookinfo ran before the package had it; none
    whenever mTLS is disabled (callers have no identity to admit)."""
    bookinfo = getattr(stack, "bookinfo", None)
    if bookinfo is None or bookinfo.authorization is not None:
        return stack
    before = Deployed.of(record)
    chosen = before.bookinfo_authorization or (
        "none" if record is not None and not before.bookinfo_recorded else "default-deny"
    )
    if mesh_mtls(stack) == "DISABLE":
        chosen = "none"
    return stack.model_copy(
        update={"bookinfo": bookinfo.model_copy(update={"authorization": chosen})}
    )


def record(stack: Any, before: Deployed | None = None) -> dict[str, Any]:
    """What this `up` exports as `deployed` for the next one to compare with (`before`: what
    the last one recorded)."""
    istio = _istio(stack)
    facts: dict[str, Any] = {"revisions": list(istiod_revisions(stack))}
    if istio is not None and istio.tagged:
        facts["tags"] = dict(istio.tags or {})
        checked = mtls_record(stack, before or Deployed())
        if checked:
            facts["mtlsChecked"] = checked
    if istio is not None and istio.ambient is not None:
        facts["ambientRevision"] = istio.ambient.revision
    return {
        "istio": facts,
        **trust_record(stack),
        **membership_record(stack),
        **bookinfo_record(stack),
        **tenancy_record(stack),
    }


def mtls_record(stack: Any, before: Deployed) -> list[list[str]]:
    """The pairs this `up`'s mTLS checks prove (the record is written only once they passed:
    trust_record), and those proved before whose revisions are both still declared."""
    declared = set(istiod_revisions(stack))
    pairs = {tuple(sorted(p)) for p in mtls_pairs(stack)}
    pairs |= {p for p in before.mtls_checked if set(p) <= declared}
    return [list(p) for p in sorted(pairs)]


def mtls_gate_problems(stack: Any, before: Deployed) -> list[str]:
    """Moving `default` (Bookinfo, the gateways, every istio-injection=enabled namespace) to a
    revision whose pods have not been shown to talk to the current one's over mTLS: another
    tag runs on the target for one `up` first, and its check proves it (revision_mtls.py)."""
    was = before.tags.get(DEFAULT_TAG)
    if was is None or not revision_mtls_applies(stack):
        return []
    now = stack.istio.tags[DEFAULT_TAG]
    if now == was or tuple(sorted((was, now))) in before.mtls_checked:
        return []
    return [
        f"{PROJECT}:istio.tags.{DEFAULT_TAG} {now!r}: no `pulumi up` of this stack has shown "
        f"yet that pods of revision {now!r} and of {was!r} (where `default` is now) talk over "
        f"mTLS. Put another tag (e.g. canary) on {now!r} and keep `default` on {was!r} for one "
        "`up`: its mTLS check runs then; move `default` in the next (docs/day-2.md)"
    ]


def tenancy_record(stack: Any) -> dict[str, Any]:
    tenancy = getattr(stack, "tenancy", None)
    if tenancy is None or not tenancy.tenants:
        return {}
    return {"tenancy": {t.name: t.control_plane for t in tenancy.tenants}}


def step_problems(stack: Any, before: Deployed) -> list[str]:
    """Each change from `before` to `stack` that must not happen in one `up`."""
    return (
        revision_step_problems(stack, before)
        + mtls_gate_problems(stack, before)
        + trust_step_problems(stack, before)
        + reader_token_step_problems(stack, before)
        + tenancy_step_problems(stack, before)
    )


def _control_plane_words(control_plane: str) -> str:
    return "the shared control plane" if control_plane == "shared" else "a control plane of its own"


def tenancy_step_problems(stack: Any, before: Deployed) -> list[str]:
    """A tenant moved between the shared control plane and its own in one `up`: its running
    pods keep the proxy the old istiod injected, while that istiod stops discovering their
    namespaces (discoverySelectors, meshstack/istio/tenancy.py), so they lose their config."""
    tenancy = getattr(stack, "tenancy", None)
    if tenancy is None:
        return []
    return [
        f"{PROJECT}:tenancy.tenants {t.name!r} controlPlane {t.control_plane!r}: its namespaces "
        f"ran on {_control_plane_words(before.tenants[t.name])} (its last `pulumi up`); switching "
        "in one step leaves their running pods on an istiod that no longer discovers them. "
        "Add a tenant of another name with new namespaces on the other control plane, move "
        "the workloads, then remove this one (docs/stacks/tenancy.md)"
        for t in tenancy.tenants
        if t.name in before.tenants and before.tenants[t.name] != t.control_plane
    ]


def revision_step_problems(stack: Any, before: Deployed) -> list[str]:
    """An istiod replaced in place, or a revision dropped with the tags still moving."""
    problems = []
    running, wanted = before.istiod_revisions, istiod_revisions(stack)
    istio = _istio(stack)
    tagged = istio is not None and istio.tagged
    key = "istio.revisions" if tagged else "istio.revision"
    if running and wanted and not set(running) & set(wanted):
        # A changed revision renames the istiod release, which pulumi-kubernetes replaces
        # (create the new, delete the old) in this same `up`: the pods the old one injected
        # keep running, lose their control plane and their certificates expire within a day.
        given = ", ".join(wanted) if tagged or istio is None else istio.revision
        problems.append(
            f"{PROJECT}:{key} {given!r}: this stack's istiod runs revision "
            f"{', '.join(map(repr, running))} (its last `pulumi up`); changing it in one step "
            "replaces that istiod while the pods it injected keep running on it. Keep "
            f"{running[0]!r} beside the new one; docs/day-2.md says how a revision is "
            "changed safely"
        )
        return problems
    if running and wanted and bool(before.tags) != tagged:
        # istio.revision's istiod is the resource `<name>-istiod`, a revision of
        # istio.revisions `<name>-istiod-<revision>`: Pulumi would replace the running one.
        problems.append(
            f"{PROJECT}:{key}: this stack's istiod ({', '.join(map(repr, running))}) was "
            f"deployed {'with' if before.tags else 'without'} istio.revisions; switching "
            "between istio.revision and istio.revisions replaces the running istiod, which "
            "this package does not offer (docs/day-2.md)"
        )
    for dropped in (r for r in running if r not in wanted):
        moved = sorted(tag for tag, revision in before.tags.items() if revision == dropped)
        if moved:
            # The tag's namespaces run on the dropped istiod until their pods restart onto
            # the tag's new revision: only the package's own workloads restart in this `up`.
            problems.append(
                f"{PROJECT}:istio.revisions drops {dropped!r}, which tag(s) "
                f"{', '.join(map(repr, moved))} named in this stack's last `pulumi up`: the "
                "pods of those tags' namespaces still run on its istiod until they restart. "
                "Move the tags in one `up`, restart what the package does not own, then drop "
                "the revision in the next (docs/day-2.md)"
            )
    return problems + ambient_step_problems(wanted, before)


def ambient_step_problems(wanted: tuple[str, ...], before: Deployed) -> list[str]:
    """The revision istio-cni and ztunnel ran on, dropped in the `up` that moves them off it.
    ztunnel's pods are replaced node by node, and each old one keeps serving its
    connections for the grace period after its successor is ready (istio/ztunnel
    release-1.31 src/config.rs 809-822) with the old istiod's configuration and
    certificates; as with a tag, its istiod goes in the next `up`, once every ztunnel pod
    runs on the new revision."""
    was = before.ambient_revision
    if was is None or was in wanted:
        return []
    return [
        f"{PROJECT}:istio.revisions drops {was!r}, the revision istio-cni and ztunnel ran "
        "in this stack's last `pulumi up`: move istio.ambient.revision in one `up`, then "
        "drop the revision in the next (docs/day-2.md)"
    ]


def trust_step_problems(stack: Any, before: Deployed) -> list[str]:
    """A root rotation skipping a step: add the root → (gate) → switch → (gate) → drop."""
    trust = shared_trust(stack)
    if trust is None or not before.trust_roots:
        return []
    problems = []
    was, now = set(before.trust_roots), set(trust.roots)
    last = f"(its last `pulumi up`: roots {sorted(was)}, signingRoot {before.signing_root!r})"
    steps = "docs/day-2.md says how a root is rotated"
    if not (now <= was or was <= now):
        # istiod takes a changed bundle only if one is a subset of the other, and ignores any
        # other (istio/istio release-1.31 pilot/pkg/bootstrap/istio_ca.go:353-368, 732-741):
        # its intermediate would then be signed by a root its proxies do not trust.
        problems.append(
            f"{PROJECT}:trust.roots {sorted(now)}: the mesh trusts {sorted(was)} {last}; "
            "replacing roots in one step breaks mTLS (istiod refuses a bundle that is neither "
            "a subset nor a superset of the one it has). Add the new root beside the old "
            f"first; {steps}"
        )
    elif trust.signing != before.signing_root and trust.signing not in was:
        problems.append(
            f"{PROJECT}:trust.signingRoot {trust.signing!r} is a root this `up` adds {last}: "
            "workloads of every cluster must trust it before intermediates signed by it issue "
            f"certificates. Keep signingRoot {before.signing_root!r} in this `up`; switch in "
            f"the next; {steps}"
        )
    elif before.signing_root is not None and before.signing_root not in now:
        problems.append(
            f"{PROJECT}:trust.roots drops {before.signing_root!r}, the root that signs now "
            f"{last}: workloads still hold certificates from its intermediates. Switch "
            f"signingRoot in one `up`, drop the root in the next; {steps}"
        )
    return problems


def reader_token_step_problems(stack: Any, before: Deployed) -> list[str]:
    """A reader-token rotation skipping a step: switching the active generation and dropping
    the one the remote secrets used, in one `up`. Pulumi would delete the old token Secrets
    (revoking them) only after the sync gate passed, but the gate cannot show which
    kubeconfig a synced client was built from (clusterz lists id, secret and status only), and
    an istiod that missed the update would still read with the old token (istio/istio#60612):
    the old generation stays until an `up` after the switch (docs/day-2.md)."""
    membership = membership_of(stack)
    was = before.active_reader_token
    if membership is None or was is None:
        return []
    tokens = membership.tokens
    if tokens.active != was and was not in tokens.generations:
        return [
            f"{PROJECT}:membership.readerTokens {list(tokens.generations)} drops {was!r}, the "
            f"generation the remote secrets used (its last `pulumi up`), in the `up` that "
            f"switches to {tokens.active!r}: keep {was!r} listed in this `up` and drop it in the "
            "next, once every istiod reads with the new token (docs/day-2.md)"
        ]
    return []
