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
    # istio.tags as the last `up` applied them (tag → revision); empty without istio.revisions.
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, record: Mapping[str, Any] | None) -> Deployed:
        """A record as exported; one of an older release of the package, or none, reads as
        having no facts (nothing to compare with: a first `up`)."""
        istio = (record or {}).get("istio") or {}
        return cls(
            istiod_revisions=tuple(istio.get("revisions") or ()),
            tags=dict(istio.get("tags") or {}),
        )


def _istio(stack: Any) -> Any:
    """The stack's own Istio config (none with ASM's managed control plane)."""
    return stack.istio if getattr(stack, "control_plane", "istio") == "istio" else None


def istiod_revisions(stack: Any) -> tuple[str, ...]:
    """The revision of each istiod the stack declares (none with ASM's managed one)."""
    istio = _istio(stack)
    return tuple(r.name for r in istio.declared_revisions()) if istio else ()


def record(stack: Any) -> dict[str, Any]:
    """What this `up` exports as `deployed` for the next one to compare with."""
    istio = _istio(stack)
    facts: dict[str, Any] = {"revisions": list(istiod_revisions(stack))}
    if istio is not None and istio.tagged:
        facts["tags"] = dict(istio.tags or {})
    return {"istio": facts}


def step_problems(stack: Any, before: Deployed) -> list[str]:
    """Each change from `before` to `stack` that must not happen in one `up`."""
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
    return problems
