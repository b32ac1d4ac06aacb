"""How long `pulumi up` must take at least (the longest chain of dependent creates), and how
long each program takes to evaluate. A change that lengthens a chain shows up here."""

from __future__ import annotations

import gc

import pytest

from meshstack.gcp.network import GcpNetwork
from tools import benchmark
from tools.offline.engine import OfflineEngine
from tools.stack_file import committed_stacks

ISTIOD_CHAIN = [
    "kubernetes:core/v1:Namespace",  # istio-system
    "kubernetes:helm.sh/v3:Release",  # istio-base (CRDs)
    "kubernetes:helm.sh/v3:Release",  # istiod, complete when available
]
# Where nodes run DaemonSets, istio-cni (the default) installs beside istiod, not before it:
# only pods in the mesh need its node agent (components/meshstack/istio/control_plane.py).
# The last create of every stack: its verification Job, after what it checks.
CHECK = "kubernetes:batch/v1:Job"
# istiod, then Bookinfo's default-deny policies the denied check needs (as long as the path
# through the mesh-wide PeerAuthentication the plain-text check needs).
POLICY_CHAIN = [*ISTIOD_CHAIN, "kubernetes:security.istio.io/v1:AuthorizationPolicy", CHECK]
ALIBABA_NETWORK_CHAIN = [
    "pulumi:providers:alicloud",
    "alicloud:vpc/network:Network",
    "alicloud:vpc/switch:Switch",
    "alicloud:vpc/natGateway:NatGateway",
    "alicloud:ecs/eipAssociation:EipAssociation",
    "alicloud:vpc/snatEntry:SnatEntry",
]
# Counted in resources, the longest chains pass beside the node pools: only what runs pods
# waits for them (tests/test_invariants.py), and in minutes that is what tools/benchmark.py
# weighs.
ACK_CHAIN = [
    *ALIBABA_NETWORK_CHAIN,
    "alicloud:cs/managedKubernetes:ManagedKubernetes",
]
# (stack, config overrides) -> the types along its longest chain.
LONGEST_CHAIN: dict[tuple[str, str], list[str]] = {
    # Counted in resources; in minutes the gateway's release (its pods, its load balancer)
    # may be longer, and the check waits for it too.
    ("local", ""): ["pulumi:providers:kubernetes", *POLICY_CHAIN],
    ("single-cluster", ""): [
        *ALIBABA_NETWORK_CHAIN,
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "pulumi:providers:kubernetes",
        *POLICY_CHAIN,
    ],
    # Both clusters side by side: the chain passes through one of them only. Counted in
    # resources, the longest is the injection check's (RBAC, then the Job); in minutes it is
    # the ASM instance's, which the Job also waits for (tests/test_benchmark.py).
    ("two-cluster-retention", ""): [
        *ACK_CHAIN,
        "pulumi:providers:kubernetes",
        "kubernetes:core/v1:Namespace",  # bookinfo, labelled for injection
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "kubernetes:batch/v1:Job",  # injection works in the namespace
        "kubernetes:apps/v1:Deployment",
        CHECK,
    ],
    # The gate that every istiod synced the remote clusters (seconds once istiod runs), which
    # the check waits for as it waits for the whole membership: after base, its own RBAC (in
    # istio-system, so deleted before it), as long as the path through base's reader token and
    # the remote secret holding it in the other cluster.
    ("two-cluster-retention", "istio"): [
        *ACK_CHAIN,
        "pulumi:providers:kubernetes",
        *ISTIOD_CHAIN[:2],
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "kubernetes:batch/v1:Job",  # every istiod synced the remote clusters
        CHECK,
    ],
    # The VM is built beside the cluster: its chain (network, address, instance) is shorter.
    ("vm", ""): [
        "pulumi:providers:gcp",
        "gcp:projects/service:Service",  # container.googleapis.com
        "gcp:compute/network:Network",
        "gcp:compute/subnetwork:Subnetwork",
        "gcp:container/cluster:Cluster",
        "pulumi:providers:kubernetes",
        # The VM's first token: the VM's account, the relay's RBAC, the relay's Job (as long,
        # counted in resources, as istiod's chain).
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "kubernetes:batch/v1:Job",
        CHECK,  # the VM's checks wait for its first token
    ],
}
OVERRIDES = {"": {}, "istio": {"controlPlane": "istio"}}
CASES = sorted(LONGEST_CHAIN)
IDS = [f"{stack}-{variant}" if variant else stack for stack, variant in CASES]


@pytest.mark.parametrize(("stack", "variant"), CASES, ids=IDS)
def test_longest_chain_of_dependent_creates(engine, stack, variant):
    chain = engine.run(stack, OVERRIDES[variant]).longest_chain()
    assert [r.type for r in chain] == LONGEST_CHAIN[(stack, variant)]


# The 2 s goal is judged by docs/benchmark.md on a quiet machine (multi-primary 1.66 s). In the
# suite, beside another test worker, the same fresh run's CPU time rose to 2.71 s (a clean-clone
# .ci/run, 2026-12-07), and alone it drifted by 40 % at equal load: the test allows twice the
# goal, which the program before the fixes of #30 item 15 (3.1-3.6 s quiet) still fails under
# that load; the tests of gc.freeze and partial loading below fail on those causes regardless.
FRESH_DRIFT = 2.0


@pytest.mark.parametrize("stack", committed_stacks())
def test_fresh_program_within_budget(stack: str) -> None:
    """As `pulumi up` runs it, in a fresh process: CPU time and peak memory until evaluated.
    Over the time budget, the lowest of up to three runs counts: on a shared machine,
    contention (for caches, a core's sibling) only adds CPU time."""
    limit = benchmark.BUDGET_SECONDS * FRESH_DRIFT
    measured = benchmark.measure(stack)
    for _ in range(2):
        if measured.fresh_seconds < limit:
            break
        measured = min(measured, benchmark.measure(stack), key=lambda m: m.fresh_seconds)
    assert measured.fresh_seconds < limit, measured
    assert measured.peak_mb < benchmark.BUDGET_MB, measured


@pytest.mark.parametrize(("n", "mb"), benchmark.BUDGET_SCALE_MB.items())
def test_large_mesh_within_memory_budget(n: int, mb: float) -> None:
    measured = benchmark.measure_scale(n)
    assert measured.peak_mb < mb, measured


def test_what_a_scenario_imports_is_left_out_of_garbage_collection():
    """stacks/program.py import_scenario freezes the objects loaded with a scenario's module
    (the provider SDK's classes among them): no full collection walks them again."""
    OfflineEngine("vm").run("vm")
    assert gc.is_tracked(GcpNetwork)
    assert not any(o is GcpNetwork for o in gc.get_objects())
