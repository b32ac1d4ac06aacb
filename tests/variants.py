"""The configurations the schema and chart tests evaluate: every committed stack file, and
variants that declare other kinds of objects or other chart values."""

from __future__ import annotations

from typing import Any

import pytest

from stacks import config as stack_config
from tools.offline.engine import merged_config, to_pulumi_strings
from tools.stack_file import committed_stacks

Variant = tuple[str, dict[str, Any]]

# Two Istio revisions side by side, each tag on one (docs/day-2.md "Revisions and tags").
CANARY: dict[str, Any] = {
    "istio": {
        "revisions": [
            {"name": "1-30-3", "version": "1.30.3"},
            {"name": "1-31-0", "version": "1.31.0"},
        ],
        "tags": {"default": "1-30-3", "canary": "1-31-0"},
    }
}

VARIANTS: list[Variant] = [
    *((stack, {}) for stack in committed_stacks()),
    # Self-managed Istio in every cluster, with cluster-local serviceSettings.
    ("two-cluster-retention", {"controlPlane": "istio"}),
    # A root rotation's middle step: two roots, new intermediates, a gate Job per cluster.
    ("multi-primary", {"trust": {"roots": ["root", "r2"], "signingRoot": "r2"}}),
    # Multi-network: the network gateway and the cross-network Gateway.
    ("vm", {"mesh": {"network": "network1"}, "vm": {"network": "vm-network"}}),
    # Revisions in a remote cluster (its remote-profile releases and tags) and for a VM.
    ("primary-remote", CANARY),
    ("vm", CANARY),
    # Revisions in both self-managed clusters, at a Kubernetes Istio 1.30 supports (1.35).
    (
        "two-cluster-retention",
        {
            "controlPlane": "istio",
            **CANARY,
            "clusters": [
                {**c, "kubernetesVersion": "1.35"}
                for c in merged_config("two-cluster-retention", {})["meshstack:clusters"]
            ],
        },
    ),
    # The other istio values: CNI, a revision, Istio's default profile, a NodePort ingress.
    (
        "local",
        {
            "istio": {
                "profile": "default",
                "cni": True,
                "revision": "canary",
                "outboundTrafficPolicy": "REGISTRY_ONLY",
                "ingressServiceType": "NodePort",
            }
        },
    ),
]


def variant_id(stack: str, overrides: dict[str, Any]) -> str:
    return "-".join([stack, *overrides])


def params(variants: list[Variant] = VARIANTS) -> list[Any]:
    return [
        pytest.param(stack, overrides, id=variant_id(stack, overrides))
        for stack, overrides in variants
    ]


def typed_config(stack: str, overrides: dict[str, Any]) -> stack_config.AnyStack:
    return stack_config.load(to_pulumi_strings(merged_config(stack, overrides)))


def installs_istio_charts(stack: str, overrides: dict[str, Any]) -> bool:
    """False for the managed ASM control plane: ASM runs istiod and its gateways."""
    config = typed_config(stack, overrides)
    return getattr(config, "control_plane", "istio") != "asm"
