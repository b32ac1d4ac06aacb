"""Benchmark: how heavy each stack's program is, and how long its `pulumi up` must take at least.

    python -m tools.benchmark [STACK ...] [--write docs/benchmark.md]

For each stack, in a fresh Python process, as `pulumi up` runs the program once: the CPU time
of that process until the program is evaluated (*fresh*: the interpreter, the Pulumi SDK, the
program and the provider SDK modules it touches, which Pulumi's SDKs load lazily, and the
evaluation; the 2 s budget applies to it), the peak resident memory by then, the CPU time of a
second evaluation (the program's own cost), the number of resources, and the longest chain of
dependent creates weighted by typical provisioning minutes (`MINUTES`), next to the best
possible chain for that stack. CPU time, not wall time: the machine may be shared.

The best possible chain is the same critical path when each resource waits only for what it
cannot do without: the resources its inputs are computed from, its provider, and explicit
waits on the kinds of resource whose readiness something needs (`REQUIRED_WAITS`: CRDs and
webhooks, nodes, egress, enabled APIs), on a chart whose release only some kinds need, from
those kinds (`CHART_NEEDED_BY`: the CNI node agent, by the pods it redirects and ztunnel), and
every wait of a kind that runs against what it waits for (`WAITS_FOR_ALL`: the verification
and script Jobs). Any other `depends_on` that lengthens the chain shows up as a gap between
the two. Not a timed test: figures depend on the machine.

Then the multi-cluster scenario at N = 2, 8, 32 and 64 primaries (`scaled_clusters`: GKE,
one network, the worst case: every istiod reads every other cluster), each size in a fresh
process: a second evaluation's CPU time, the peak memory of the first (fresh) one, resources,
kubeconfigs held in remote secrets. Budgets: from N = 8 to 32, resources grow linearly (at
most 4.3×: 4 is linear) and evaluation time at most 8× (linear is 4×, quadratic 16×; the
super-linear part is in the Pulumi SDK, its cycle check walking every resource's transitive
dependencies and its scan of the N·(N−1) kubeconfigs for unknowns); peak memory under
`BUDGET_SCALE_MB` at N = 32 and 64.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from tools.offline.engine import Declared, Resource
from tools.stack_file import REPO_ROOT, selected_stacks, stack_names

# Typical minutes to create one resource of a type, from the providers' usual create times
# (the order of magnitude matters, not the decimals). Unlisted resources: DEFAULT_MINUTES.
MINUTES: dict[str, float] = {
    "alicloud:cs/managedKubernetes:ManagedKubernetes": 10.0,  # ACK / ACK Serverless cluster
    "alicloud:cs/nodePool:NodePool": 5.0,
    "alicloud:servicemesh/serviceMesh:ServiceMesh": 8.0,  # ASM instance
    "alicloud:vpc/natGateway:NatGateway": 1.0,
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": 1.0,
    "gcp:container/cluster:Cluster": 8.0,
    "gcp:container/nodePool:NodePool": 4.0,
    "gcp:projects/service:Service": 1.0,  # enabling an API
    "gcp:compute/routerNat:RouterNat": 0.5,
    "gcp:compute/instance:Instance": 1.0,
    # A chart install that waits for its workloads; a gateway's includes its load balancer.
    "kubernetes:helm.sh/v3:Release": 2.0,
    "kubernetes:apps/v1:Deployment": 0.5,  # rollout: image pull, readiness
    # The package's script Jobs: an image pull, then a check's rounds (or a token request).
    "kubernetes:batch/v1:Job": 1.0,
}
DEFAULT_MINUTES = 0.1
# Reads and providers take no time of their own.
FREE_TYPE_PREFIXES = ("pulumi:providers:",)

# Explicit waits on these kinds are inherent to a working deployment (the reason in comment).
REQUIRED_WAITS: dict[str, str] = {
    "kubernetes:helm.sh/v3:Release": "its CRDs, webhooks or control plane must exist first",
    "alicloud:servicemesh/serviceMesh:ServiceMesh": "the managed control plane must exist first",
    "kubernetes:core/v1:Secret": "istiod reads the plug-in CA when it starts",
    "alicloud:cs/nodePool:NodePool": "pods need nodes",
    "gcp:container/nodePool:NodePool": "pods need nodes",
    "alicloud:vpc/snatEntry:SnatEntry": "nodes pull images through the NAT gateway",
    "alicloud:ecs/eipAssociation:EipAssociation": "SNAT needs the NAT gateway's public address",
    "gcp:projects/service:Service": "an API must be enabled before it is called",
    "kubernetes:batch/v1:Job": "it proves something ready (sidecar injection, a first token)",
}

# Charts whose release only some kinds of resource need to wait for (a chart name -> those
# kinds, and why), before REQUIRED_WAITS applies; a component waits on behalf of what it holds.
# `Chart <name>` is the kind of a Helm release of that chart.
CHART_NEEDED_BY: dict[str, tuple[frozenset[str], str]] = {
    "cni": (
        frozenset({"kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job", "Chart ztunnel"}),
        "a pod in the mesh needs its node's CNI agent (istiod, not injected, and gateways, "
        "proxies of type router, are not redirected: istio/istio cni/pkg/plugin/plugin.go); "
        "ztunnel is ready once connected to it (istio/ztunnel src/inpod/workloadmanager.rs)",
    ),
}

# Kinds whose every wait is inherent: a Job runs its script once, against what it waits for
# (a check, the mesh it checks; a script, the permissions it uses).
WAITS_FOR_ALL: dict[str, str] = {
    "kubernetes:batch/v1:Job": "a check runs after what it checks; a script after its rights",
}

HELM = "kubernetes:helm.sh/v3:Release"
BUDGET_SECONDS = 2.0  # a fresh run's CPU time
BUDGET_MB = 250
BUDGET_CHAIN_GAP = 0.005
SCALE_SIZES = (2, 8, 32, 64)
SCALE_STACK = "primary-remote"  # its file is GKE-only; the cluster list is replaced
# Growth is judged from N = 8 to 32; memory at 32 and 64.
SCALE_JUDGED = 32
BUDGET_SCALE_MB = {32: 250, 64: 400}
BUDGET_SCALE_RATIO = 8.0  # evaluation time, N = 8 → 32 (see the docstring)
BUDGET_SCALE_RESOURCES = 4.3  # N = 8 → 32: linear, with a little constant part
DOC = REPO_ROOT / "docs" / "benchmark.md"


def minutes(resource_: Resource) -> float:
    if resource_.read or resource_.type.startswith(FREE_TYPE_PREFIXES):
        return 0.0
    return MINUTES.get(resource_.type, DEFAULT_MINUTES)


def chain_minutes(chain: list[Resource]) -> float:
    return sum(minutes(r) for r in chain)


def kind(resource_: Resource) -> str:
    """A resource's type; for a Helm release, `Chart <chart>`."""
    if resource_.type == HELM:
        return f"Chart {resource_.inputs.get('chart')}"
    return resource_.type


def essential_edges(declared: Declared):
    """Per resource, the dependencies it cannot do without (see the module's docstring)."""

    def required(waiter: Resource, target: Resource) -> bool:
        if target.type == HELM and target.inputs.get("chart") in CHART_NEEDED_BY:
            needed_by = CHART_NEEDED_BY[target.inputs["chart"]][0]
            return any(kind(r) in needed_by for r in (waiter, *declared.descendants(waiter)))
        return target.type in REQUIRED_WAITS

    def edges(resource_: Resource) -> set[str]:
        if resource_.type in WAITS_FOR_ALL:
            return set(resource_.dependencies)
        explicit = resource_.explicit_dependencies
        needed = {u for u in explicit if required(resource_, declared.by_urn(u))}
        return resource_.flowing_dependencies | needed

    return edges


@dataclass(frozen=True)
class Measurement:
    stack: str
    fresh_seconds: float
    evaluate_seconds: float
    peak_mb: float
    resources: int
    chain_minutes: float
    best_minutes: float
    chain: list[str]

    @property
    def gap(self) -> float:
        return self.chain_minutes / self.best_minutes - 1 if self.best_minutes else 0.0

    @property
    def within_budget(self) -> bool:
        return (
            self.fresh_seconds < BUDGET_SECONDS
            and self.peak_mb < BUDGET_MB
            and self.gap <= BUDGET_CHAIN_GAP
        )


def peak_mb() -> float:
    """This process's peak resident set. Not getrusage's ru_maxrss: Linux keeps the larger of
    the parent's peak across fork and exec (kernel/sys.c getrusage, fs/exec.c
    setmax_mm_hiwater_rss), so a child of a large test worker would report the worker's.
    VmHWM is the high-water mark of this process's own memory map (proc(5)), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure_here(stack: str) -> Measurement:
    """Measure in this process; meaningful only in a fresh one (see `measure`)."""
    from tools.offline.engine import OfflineEngine

    declared = OfflineEngine(stack).run(stack)  # imports the program and the SDK modules it uses
    fresh, peak = time.process_time(), peak_mb()  # CPU time since the process started
    OfflineEngine(stack).run(stack)
    evaluated = time.process_time()
    chain = declared.longest_chain(minutes)
    best = declared.longest_chain(minutes, essential_edges(declared))
    return Measurement(
        stack=stack,
        fresh_seconds=round(fresh, 2),
        evaluate_seconds=round(evaluated - fresh, 2),
        peak_mb=peak,
        resources=len(declared.created),
        chain_minutes=round(chain_minutes(chain), 1),
        best_minutes=round(chain_minutes(best), 1),
        chain=[f"{r.type.rsplit(':', 1)[-1]} {r.name}" for r in chain if minutes(r)],
    )


def measure(stack: str) -> Measurement:
    """Measure one stack in a fresh interpreter."""
    return Measurement(**_child("--child", stack))


def scaled_clusters(n: int, remotes: int = 0) -> list[dict[str, object]]:
    """N GKE clusters on one network with disjoint ranges: the first a primary, the next
    `remotes` remotes of it, the rest primaries too."""
    nodes = ipaddress.ip_network("10.0.0.0/16").subnets(new_prefix=24)
    pods = ipaddress.ip_network("10.64.0.0/10").subnets(new_prefix=16)
    services = ipaddress.ip_network("10.1.0.0/16").subnets(new_prefix=24)
    return [
        {
            "name": f"c{i}",
            "cloud": "gke",
            "zone": "us-west1-b",
            "nodeCidr": str(node),
            "podCidr": str(pod),
            "serviceCidr": str(service),
            **({"role": "remote", "primary": "c0"} if 0 < i <= remotes else {}),
        }
        for i, node, pod, service in zip(range(n), nodes, pods, services, strict=False)
    ]


@dataclass(frozen=True)
class ScaleMeasurement:
    clusters: int
    evaluate_seconds: float
    resources: int
    kubeconfigs: int
    peak_mb: float = 0.0


def measure_scale_here(n: int) -> ScaleMeasurement:
    from tools.offline.engine import OfflineEngine

    overrides = {"clusters": scaled_clusters(n)}
    declared = OfflineEngine(SCALE_STACK).run(SCALE_STACK, overrides)  # with the imports
    peak = peak_mb()
    started = time.process_time()
    OfflineEngine(SCALE_STACK).run(SCALE_STACK, overrides)
    return ScaleMeasurement(
        clusters=n,
        evaluate_seconds=round(time.process_time() - started, 2),
        resources=len(declared.created),
        kubeconfigs=len(declared.outputs["istiodReads"]),
        peak_mb=peak,
    )


def measure_scale(n: int) -> ScaleMeasurement:
    """Measure the scaled mesh of N clusters in a fresh interpreter."""
    return ScaleMeasurement(**_child("--scale-child", str(n)))


def _child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "tools.benchmark", *args],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.splitlines()[-1])


def _at(results: list[ScaleMeasurement], n: int) -> ScaleMeasurement:
    return next(m for m in results if m.clusters == n)


def scale_ratio(results: list[ScaleMeasurement]) -> float:
    """Evaluation time at N = 32 over N = 8 (4 when exactly linear; N = 2 is mostly fixed
    costs, too small to compare with)."""
    return _at(results, SCALE_JUDGED).evaluate_seconds / _at(results, 8).evaluate_seconds


def resource_growth(results: list[ScaleMeasurement]) -> float:
    """Resources at N = 32 over N = 8 (4 when exactly linear)."""
    return _at(results, SCALE_JUDGED).resources / _at(results, 8).resources


def scale_within_budget(results: list[ScaleMeasurement]) -> bool:
    return (
        scale_ratio(results) <= BUDGET_SCALE_RATIO
        and resource_growth(results) <= BUDGET_SCALE_RESOURCES
        and all(_at(results, n).peak_mb < mb for n, mb in BUDGET_SCALE_MB.items())
    )


def markdown(results: list[Measurement], scale: list[ScaleMeasurement]) -> str:
    # The load says how far others' work inflated the CPU times (contention for the cores).
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[1]:.1f}"
    )
    lines = [
        "# Benchmark",
        "",
        f"Written by `make benchmark WRITE=1` on {datetime.now(UTC):%Y-%m-%d} ({machine}). "
        "Offline engine, one fresh process per stack, times in CPU seconds; *fresh* is that "
        "process until the program is evaluated once, as `pulumi up` runs it (the interpreter, "
        "the Pulumi SDK, the program and the provider SDK modules it touches), *peak MB* its "
        "peak resident memory by then, *evaluate* a second evaluation: the program's own cost. "
        f"Budgets: fresh under {BUDGET_SECONDS:g} s, peak memory under {BUDGET_MB} MB, "
        "longest weighted chain within "
        f"{BUDGET_CHAIN_GAP:.1%} of the best possible. How the figures are made: "
        "`tools/benchmark.py` (docstring), weights below.",
        "",
        "| stack | fresh s | evaluate s | peak MB | resources | chain min | best min | gap | ok |",
        "|---|---:|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    lines += [
        f"| {m.stack} | {m.fresh_seconds:.2f} | {m.evaluate_seconds:.2f} | {m.peak_mb:.0f} | "
        f"{m.resources} | {m.chain_minutes:.1f} | {m.best_minutes:.1f} | {m.gap:.0%} | "
        f"{'yes' if m.within_budget else 'NO'} |"
        for m in results
    ]
    if scale:
        lines += [
            "",
            "## Multi-cluster scale",
            "",
            f"`{SCALE_STACK}` with its cluster list replaced by N GKE primaries on one network "
            "(`scaled_clusters`), one fresh process per N: the peak memory of its first "
            "evaluation, the CPU time of a second. Remote secrets are one Secret per "
            "cluster holding a kubeconfig per other cluster, so resources grow linearly and only "
            f"the kubeconfigs grow as N·(N−1). Budgets at N = {SCALE_JUDGED}: resources at most "
            f"{BUDGET_SCALE_RESOURCES}× N = 8's ({resource_growth(scale):.2f}×), time at most "
            f"{BUDGET_SCALE_RATIO:g}× N = 8's ({scale_ratio(scale):.2f}×); peak memory "
            + ", ".join(
                f"under {mb} MB at N = {n} ({_at(scale, n).peak_mb:.0f} MB)"
                for n, mb in BUDGET_SCALE_MB.items()
            )
            + f": {'yes' if scale_within_budget(scale) else 'NO'}.",
            "",
            "| N | evaluate s | × N=2 | peak MB | resources | kubeconfigs in remote secrets |",
            "|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {m.clusters} | {m.evaluate_seconds:.2f} | "
                f"{m.evaluate_seconds / scale[0].evaluate_seconds:.1f} | {m.peak_mb:.0f} | "
                f"{m.resources} | {m.kubeconfigs} |"
                for m in scale
            ),
        ]
    lines += ["", "## Longest weighted chains", ""]
    lines += [f"- **{m.stack}**: {' → '.join(m.chain)}" for m in results]
    lines += [
        "",
        "## Weights (typical minutes to create)",
        "",
        "| resource type | minutes |",
        "|---|---:|",
        *(f"| `{t}` | {m:g} |" for t, m in sorted(MINUTES.items())),
        f"| any other resource | {DEFAULT_MINUTES:g} |",
        "| providers, reads | 0 |",
        "",
        "## Explicit waits counted as necessary in the best possible chain",
        "",
        *(
            f"- on the `{chart}` chart's release, only from "
            f"{', '.join(f'`{k}`' for k in sorted(by))}: {why}"
            for chart, (by, why) in sorted(CHART_NEEDED_BY.items())
        ),
        *(f"- on `{t}`: {why}" for t, why in sorted(REQUIRED_WAITS.items())),
        *(f"- every wait of `{t}`: {why}" for t, why in sorted(WAITS_FOR_ALL.items())),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure each stack's program.")
    parser.add_argument("stacks", nargs="*", help=f"default: all ({', '.join(stack_names())})")
    parser.add_argument("--write", type=Path, help=f"also write the table (e.g. {DOC})")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asdict(measure_here(args.child))))
        return 0
    if args.scale_child:
        print(json.dumps(asdict(measure_scale_here(args.scale_child))))
        return 0

    results = [measure(stack) for stack in selected_stacks(parser, args.stacks)]
    scale = [measure_scale(n) for n in SCALE_SIZES] if not args.stacks else []
    text = markdown(results, scale)
    print(text)
    if args.write and args.stacks:
        # The page holds every stack and the scale table: a subset would truncate it.
        print(f"not written: {args.write} holds every stack; run without STACK to update it")
    elif args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
    scale_ok = not scale or scale_within_budget(scale)
    return 0 if scale_ok and all(m.within_budget for m in results) else 1


if __name__ == "__main__":
    sys.exit(main())
