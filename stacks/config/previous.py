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
from dataclasses import dataclass
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

    @classmethod
    def of(cls, record: Mapping[str, Any] | None) -> Deployed:
        """A record as exported; one of an older release of the package, or none, reads as
        having no facts (nothing to compare with: a first `up`)."""
        istio = (record or {}).get("istio") or {}
        return cls(istiod_revisions=tuple(istio.get("revisions") or ()))


def istiod_revisions(stack: Any) -> tuple[str, ...]:
    """The revision of each istiod the stack declares (none with ASM's managed one)."""
    if getattr(stack, "control_plane", "istio") != "istio":
        return ()
    return (stack.istio.revision or DEFAULT_REVISION,)


def record(stack: Any) -> dict[str, Any]:
    """What this `up` exports as `deployed` for the next one to compare with."""
    return {"istio": {"revisions": list(istiod_revisions(stack))}}


def step_problems(stack: Any, before: Deployed) -> list[str]:
    """Each change from `before` to `stack` that must not happen in one `up`."""
    problems = []
    running, wanted = before.istiod_revisions, istiod_revisions(stack)
    if running and wanted and not set(running) & set(wanted):
        # A changed revision renames the istiod release, which pulumi-kubernetes replaces
        # (create the new, delete the old) in this same `up`: the pods the old one injected
        # keep running, lose their control plane and their certificates expire within a day.
        given = stack.istio.revision
        problems.append(
            f"{PROJECT}:istio.revision {given!r}: this stack's istiod runs revision "
            f"{', '.join(map(repr, running))} (its last `pulumi up`); changing it in one step "
            "replaces that istiod while the pods it injected keep running on it. Keep "
            f"{running[0]!r} (unset for 'default'); docs/day-2.md says how a revision is "
            "changed safely"
        )
    return problems
