"""Tags naming who manages a resource, so it can be found (and cleaned up) by stack."""

from __future__ import annotations

import re

import pulumi


def stack_tags() -> dict[str, str]:
    return {
        "managed-by": "pulumi",
        "pulumi-project": pulumi.get_project(),
        "pulumi-stack": pulumi.get_stack(),
    }


def gcp_labels(tags: dict[str, str]) -> dict[str, str]:
    """Google Cloud labels allow lower-case letters, digits, '-' and '_', 63 at most."""

    def clean(text: str) -> str:
        return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:63]

    return {clean(key): clean(value) for key, value in tags.items()}
