"""Commands the stack outputs hand to a user, runnable as written from the checkout."""

from __future__ import annotations

import pulumi


def stack_output_command() -> str:
    """Reads this stack's outputs with the CLI and backend scripts/up.sh used."""
    return f"scripts/pulumi.sh {pulumi.get_stack()} stack output"
