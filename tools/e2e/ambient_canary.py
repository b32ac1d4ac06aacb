"""The ambient upgrade (docs/day-2.md "Ambient") under the real Pulumi engine against a real
API server: `local-ambient`'s config with istio.revisions, one `up` per step
(tests/test_ambient_revisions.py UPGRADE declares the same steps offline): 1.30.3 alone, add
1.31.0, move `default`, move istio-cni and ztunnel (istio.ambient.revision), drop 1.30.3.

Each step's preview must replace no Helm release (every change an in-place update) and its
`up` must succeed; before the drop, dropping 1.30.3 in the `up` that moves ztunnel must be
refused by the real CLI's run of the program; after the ztunnel step its DaemonSet must dial
`istiod-1-31-0` with 1.31.0's image; a destroy leaves nothing behind.

    scripts/e2e.sh bash -c '.venv/bin/python -m tools.e2e.ambient_canary \
        --kubeconfig "$KUBECONFIG" --charts <chart dir> --gateway-api <gateway-api dir>'
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from meshstack import versions
from tools import charts
from tools.e2e import canary
from tools.e2e import lifecycle as life
from tools.teardown import GATEWAY_API_CRDS

STACK = "local-ambient"
RUN = "ambient-canary"
OLD, NEW = canary.OLD, canary.NEW
# (step, revisions, the `default` tag's revision, istio.ambient.revision)
STEPS: tuple[tuple[str, tuple[tuple[str, str], ...], str, str], ...] = (
    ("1.30.3 alone", (OLD,), OLD[0], OLD[0]),
    ("add 1.31.0", (OLD, NEW), OLD[0], OLD[0]),
    ("move default", (OLD, NEW), NEW[0], OLD[0]),
    ("move cni and ztunnel", (OLD, NEW), NEW[0], NEW[0]),
    ("drop 1.30.3", (NEW,), NEW[0], NEW[0]),
)
# Taken out of order before "move cni and ztunnel": the drop in that same `up`.
REFUSED = ((NEW,), NEW[0], NEW[0], "the revision istio-cni and ztunnel ran")


def config_of(
    config: Mapping[str, Any],
    revisions: Iterable[tuple[str, str]],
    default: str,
    node: str,
    sources: Mapping[str, Path],
) -> dict[str, Any]:
    step = canary.config_of(config, revisions, {"default": default}, sources)
    step[f"{life.PROJECT}:istio"]["ambient"] = {"revision": node}
    return step


def ztunnel(kubeconfig: Path) -> dict[str, str]:
    """What the running ztunnel DaemonSet dials and runs."""
    found = json.loads(
        life.kubectl(kubeconfig, "-n", "istio-system", "get", "daemonset", "ztunnel", "-o", "json")
    )
    (container,) = found["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
    return {"xds": env.get("XDS_ADDRESS", ""), "image": container["image"]}


def upgrade(
    run: life.Run,
    kubeconfig: Path,
    config: Mapping[str, Any],
    chart_dir: Path,
    kept: frozenset[life.Entry] = frozenset(),
) -> dict:
    """`kept`: what the destroy leaves on purpose (the Gateway API CRDs of a local stack)."""
    sources = {OLD[1]: charts.chart_source("istiod", OLD[1]).parent, NEW[1]: chart_dir}
    stack_file = run.work / "stacks" / f"Pulumi.e2e-{run.stack}.yaml"
    charts.derive_tag_charts(run.work / versions.TAG_CHARTS)

    def configure(revisions, default, node) -> None:
        salted = yaml.safe_load(stack_file.read_text()) if stack_file.is_file() else {}
        step = config_of(config, revisions, default, node, sources)
        stack_file.write_text(yaml.safe_dump({**(salted or {}), "config": step}))

    report: dict[str, Any] = {"steps": []}
    before = life.census(kubeconfig)
    for name, revisions, default, node in STEPS:
        if name == "move cni and ztunnel":
            refused_revisions, refused_default, refused_node, words = REFUSED
            configure(refused_revisions, refused_default, refused_node)
            code, out_text, _ = run.pulumi("preview", "--non-interactive")
            report["refused"] = {"exit": code, "said": words in out_text}
        configure(revisions, default, node)
        _, out, _ = run.pulumi("preview", "--json", "--non-interactive")
        summary, replaced = life.changes(out) if out.strip() else ({}, [])
        code, _, seconds = run.pulumi("up", "--yes", "--non-interactive")
        report["steps"].append(
            {
                "step": name,
                "exit": code,
                "seconds": seconds,
                "changes": summary,
                "replaces": replaced,
            }
        )
        if code:
            return report
        if name == "move cni and ztunnel":
            report["ztunnel"] = ztunnel(kubeconfig)
    code, _, seconds = run.pulumi("destroy", "--yes", "--non-interactive")
    report["destroy"] = {
        "exit": code,
        "seconds": seconds,
        "leftovers": life.leftovers(kubeconfig, before, kept),
    }
    return report


def passed(result: Mapping[str, Any]) -> bool:
    steps = result.get("steps", [])
    refused = result.get("refused") or {}
    dials = result.get("ztunnel") or {}
    return (
        len(steps) == len(STEPS)
        and not any(step["exit"] for step in steps)
        and not any("helm.sh/v3:Release" in u for step in steps for u in step["replaces"])
        and bool(refused.get("exit"))
        and bool(refused.get("said"))
        and dials.get("xds") == f"istiod-{NEW[0]}.istio-system.svc:15012"
        and str(dials.get("image", "")).endswith(f":{NEW[1]}-distroless")
        and not result["destroy"]["exit"]
        and not result["destroy"]["leftovers"]
    )


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The ambient upgrade against a real API server.")
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--charts", type=Path, required=True)
    parser.add_argument("--gateway-api", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=life.REPO_ROOT / ".e2e" / RUN)
    args = parser.parse_args(list(argv) if argv is not None else None)
    out = args.out.resolve()
    kubeconfig, chart_dir = args.kubeconfig.resolve(), args.charts.resolve()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "state").mkdir(exist_ok=True)
    manifest = life.gateway_api_manifest(args.gateway_api, out / "gateway-api-standard.yaml")
    env = life.pulumi_env(out / "state", out / "pulumi-home")
    run = life.Run(RUN, life.scratch_project(out / "project"), env, out / "logs")
    run.pulumi("stack", "init", "--secrets-provider", "passphrase", check=True)
    config = life.stack_config(STACK, kubeconfig, chart_dir, manifest)
    # As the lifecycle judges it: a stack on a shared cluster keeps the Gateway API CRDs.
    declared = life.offline_graph(STACK, config)
    retained = any(c.options.retain_on_delete for c in declared.of_type(GATEWAY_API_CRDS))
    kept = life.retained_objects(manifest) if retained else frozenset()
    result = upgrade(run, kubeconfig, config, chart_dir, kept)
    run.pulumi("stack", "rm", "--yes", "--force")
    result["passed"] = passed(result)
    (out / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
