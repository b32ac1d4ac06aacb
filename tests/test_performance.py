"""How long `pulumi up` must take at least (the longest chain of dependent creates), and how
long each program takes to evaluate. A change that lengthens a chain shows up here."""

from __future__ import annotations

import time

import pytest

from tests.offline.engine import OfflineEngine

MESH_CHAIN = [
    "kubernetes:core/v1:Namespace",  # istio-system
    "kubernetes:helm.sh/v3:Release",  # istio-base (CRDs)
    "kubernetes:helm.sh/v3:Release",  # istiod, complete when available
    "kubernetes:helm.sh/v3:Release",  # ingress gateway, complete when its LB has an address
    "kubernetes:core/v1:Service",  # the gateway Service, read for its address
]
LONGEST_CHAIN = {
    "local": ["pulumi:providers:kubernetes", *MESH_CHAIN],
    "single-cluster": [
        "pulumi:providers:alicloud",
        "alicloud:vpc/network:Network",
        "alicloud:vpc/switch:Switch",
        "alicloud:vpc/natGateway:NatGateway",
        "alicloud:ecs/eipAssociation:EipAssociation",
        "alicloud:vpc/snatEntry:SnatEntry",
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "pulumi:providers:kubernetes",
        *MESH_CHAIN,
    ],
}
# Generous: the programs evaluate in well under a second on a 2-core machine.
EVALUATION_BUDGET_SECONDS = 5.0


@pytest.mark.parametrize("stack", sorted(LONGEST_CHAIN))
def test_longest_chain_of_dependent_creates(engine, stack):
    chain = engine.run(stack).longest_chain()
    assert [r.type for r in chain] == LONGEST_CHAIN[stack]


@pytest.mark.parametrize("stack", sorted(LONGEST_CHAIN))
def test_program_evaluates_quickly(stack):
    started = time.perf_counter()
    OfflineEngine(stack).run(stack)
    assert time.perf_counter() - started < EVALUATION_BUDGET_SECONDS
