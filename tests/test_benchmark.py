"""The benchmark's measures (tools/benchmark.py): weights, the best possible chain, the table."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pulumi
import pytest

from stacks.config import MultiClusterStack, load
from tools import benchmark
from tools.kubetools import REPO_ROOT
from tools.offline.engine import OfflineEngine, to_pulumi_strings
from tools.stack_file import committed_stacks, stack_config

CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
HELM = "kubernetes:helm.sh/v3:Release"


def _chain_and_best(declared) -> tuple[float, float]:
    chain = declared.longest_chain(benchmark.minutes)
    best = declared.longest_chain(benchmark.minutes, benchmark.essential_edges(declared))
    return benchmark.chain_minutes(chain), benchmark.chain_minutes(best)


@pytest.mark.parametrize("stack", committed_stacks())
def test_no_stack_waits_longer_than_it_must(stack: str) -> None:
    """An explicit `depends_on` that serialises what could run in parallel fails here."""
    chain, best = _chain_and_best(OfflineEngine(stack).run(stack))
    assert best > 0
    assert chain <= best * (1 + benchmark.BUDGET_CHAIN_GAP), (stack, chain, best)


def test_an_unneeded_depends_on_shows_as_a_gap(engine: OfflineEngine) -> None:
    def program() -> None:
        first = pulumi.CustomResource(CLUSTER, "first", {})
        # Nothing of `first` flows into `second`, and clusters are no required wait.
        pulumi.CustomResource(
            CLUSTER, "second", {}, opts=pulumi.ResourceOptions(depends_on=[first])
        )

    chain, best = _chain_and_best(engine.run_program(program))
    assert (chain, best) == (20.0, 10.0)


def test_data_flow_and_required_waits_count_in_the_best_chain(engine: OfflineEngine) -> None:
    def program() -> None:
        cluster = pulumi.CustomResource(CLUSTER, "cluster", {})
        base = pulumi.CustomResource(HELM, "base", {"name": cluster.id})  # data flow
        pulumi.CustomResource(HELM, "istiod", {}, opts=pulumi.ResourceOptions(depends_on=[base]))

    chain, best = _chain_and_best(engine.run_program(program))
    assert chain == best == 14.0


def _release(chart: str, name: str | None = None, after=()) -> pulumi.CustomResource:
    return pulumi.CustomResource(
        HELM, name or chart, {"chart": chart}, opts=pulumi.ResourceOptions(depends_on=list(after))
    )


def test_istiod_waiting_for_the_cni_shows_as_a_gap(engine: OfflineEngine) -> None:
    """istiod is not redirected by the CNI: its wait on it is not needed (CHART_NEEDED_BY)."""

    def program() -> None:
        base = _release("base")
        cni = _release("cni", after=[base])
        _release("istiod", after=[base, cni])

    chain, best = _chain_and_best(engine.run_program(program))
    assert (chain, best) == (6.0, 4.0)


@pytest.mark.parametrize(("waiter", "minutes"), [("ztunnel", 6.0), ("app", 4.5)])
def test_pods_and_ztunnel_waiting_for_the_cni_count_in_the_best_chain(
    engine: OfflineEngine, waiter: str, minutes: float
) -> None:
    """Pods in the mesh (here through the component holding them) and ztunnel need their
    node's CNI agent: those waits are inherent."""

    class App(pulumi.ComponentResource):
        def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
            super().__init__("test:index:App", name, None, opts)
            pulumi.CustomResource(
                "kubernetes:apps/v1:Deployment", name, {}, opts=pulumi.ResourceOptions(parent=self)
            )

    def program() -> None:
        cni = _release("cni", after=[_release("base")])
        if waiter == "ztunnel":
            _release("ztunnel", after=[cni])
        else:
            App("app", pulumi.ResourceOptions(depends_on=[cni]))

    chain, best = _chain_and_best(engine.run_program(program))
    assert chain == best == minutes


def test_reads_and_providers_take_no_time(engine: OfflineEngine) -> None:
    def program() -> None:
        pulumi.ProviderResource("kubernetes", "k", {})
        pulumi.CustomResource(
            "kubernetes:core/v1:Service", "svc", None, opts=pulumi.ResourceOptions(id="ns/svc")
        )

    declared = engine.run_program(program)
    assert [benchmark.minutes(r) for r in declared] == [0.0, 0.0]


def test_table_has_a_row_per_stack_and_flags_budget_misses() -> None:
    fast = benchmark.Measurement("a", 1.0, 0.2, 100, 10, 10.0, 10.0, ["Cluster c"])
    slow = benchmark.Measurement("b", 9.0, 3.0, 100, 10, 12.0, 10.0, ["Cluster c"])
    scale = [
        benchmark.ScaleMeasurement(2, 0.5, 50, 2, 150),
        benchmark.ScaleMeasurement(8, 1.5, 160, 56, 180),
        benchmark.ScaleMeasurement(32, 5.0, 600, 992, 240),
        benchmark.ScaleMeasurement(64, 12.0, 1190, 4032, 390),
    ]
    # Over the fresh-run CPU or memory budget alone.
    heavy = [replace(fast, stack="c", fresh_seconds=2.0), replace(fast, stack="d", peak_mb=250)]
    text = benchmark.markdown([fast, slow, *heavy], scale)
    rows = [
        line for line in text.splitlines() if line.startswith(("| a |", "| b |", "| c |", "| d |"))
    ]
    assert rows[0].endswith("| 0% | yes |") and rows[1].endswith("| 20% | NO |")
    assert rows[2].endswith("| 0% | NO |") and rows[3].endswith("| 0% | NO |")
    assert "- **a**: Cluster c" in text
    assert "| 32 | 5.00 | 10.0 | 240 | 600 | 992 |" in text
    assert (
        "(3.75×), time at most 8× N = 8's (3.33×); peak memory under 250 MB at N = 32 (240 MB), "
        "under 400 MB at N = 64 (390 MB): yes." in text
    )
    # Quadratic resources or time, or N = 32 or 64 over its memory budget, miss it.
    assert not benchmark.scale_within_budget(
        [*scale[:2], replace(scale[2], evaluate_seconds=13.0), scale[3]]
    )
    assert not benchmark.scale_within_budget(
        [*scale[:2], replace(scale[2], resources=700), scale[3]]
    )
    assert not benchmark.scale_within_budget([*scale[:2], replace(scale[2], peak_mb=250), scale[3]])
    assert not benchmark.scale_within_budget([*scale[:3], replace(scale[3], peak_mb=400)])


@pytest.mark.parametrize(("n", "remotes"), [(2, 0), (32, 0), (6, 5)])
def test_scaled_clusters_are_a_valid_mesh_of_n(n: int, remotes: int) -> None:
    config = {**stack_config(benchmark.SCALE_STACK)}
    config["meshstack:clusters"] = benchmark.scaled_clusters(n, remotes)
    stack = load(to_pulumi_strings(config))
    assert isinstance(stack, MultiClusterStack)
    assert [c.role for c in stack.clusters].count("remote") == remotes
    assert len(stack.topology.remote_secrets()) == (n - remotes) * (n - 1)


def test_a_child_reports_its_own_peak_not_its_large_parents():
    # Linux's ru_maxrss keeps the parent's peak across fork and exec: measured that way, a
    # child of a test worker that once held 600 MB reported 600 MB for every stack.
    held = bytearray(400 * 1024 * 1024)
    held[::4096] = b"x" * len(held[::4096])  # touched, so resident
    out = subprocess.run(
        [sys.executable, "-c", "from tools.benchmark import peak_mb; print(peak_mb())"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert float(out) < 200, out
    del held
