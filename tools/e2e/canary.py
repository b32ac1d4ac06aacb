"""The canary upgrade of issue #32 under the real Pulumi engine against a real API server
(tools/e2e/lifecycle.py runs it for `local-canary` instead of the lifecycle of the others).

One `up` per step, each of which must succeed (tests/test_revisions.py UPGRADE declares the
same steps offline): 1.30.3 alone, add 1.31.0, move the `canary` tag, move `default`, drop
1.30.3. Before moving `default`, the step that skips one (dropping 1.30.3 in that same `up`)
must be refused by the real CLI's run of the program (stacks/config/previous.py). At the end
no pod or Deployment names the dropped revision (Istio's label, the package's restart
annotation), and a destroy leaves nothing behind (the same census as the lifecycle's).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from meshstack import versions
from meshstack.apps.namespace import REVISION_ANNOTATION
from meshstack.versions import LOCAL_CHARTS
from tools import charts
from tools.e2e import lifecycle as life

# The steps, each (revisions, tags) by name; OLD's and NEW's versions below.
STACK = "local-canary"
OLD, NEW = ("1-30-3", "1.30.3"), ("1-31-0", "1.31.0")
STEPS: tuple[tuple[str, tuple[tuple[str, str], ...], dict[str, str]], ...] = (
    ("1.30.3 alone", (OLD,), {"default": OLD[0], "canary": OLD[0]}),
    ("add 1.31.0", (OLD, NEW), {"default": OLD[0], "canary": OLD[0]}),
    ("move canary", (OLD, NEW), {"default": OLD[0], "canary": NEW[0]}),
    ("move default", (OLD, NEW), {"default": NEW[0], "canary": NEW[0]}),
    ("drop 1.30.3", (NEW,), {"default": NEW[0], "canary": NEW[0]}),
)
# Taken out of order after "move canary": dropping 1.30.3 in the `up` that moves `default`.
REFUSED = (
    (NEW,),
    {"default": NEW[0], "canary": NEW[0]},
    f"drops '{OLD[0]}', which tag(s) 'default' named",
)


def config_of(
    config: Mapping[str, Any],
    revisions: Iterable[tuple[str, str]],
    tags: Mapping[str, str],
    sources: Mapping[str, Path],
) -> dict[str, Any]:
    """The stack's config with these revisions (each from its version's local charts) and
    tags; istio.tagCharts left at its default, relative to the project."""
    istio = {
        **config[f"{life.PROJECT}:istio"],
        "revisions": [
            {
                "name": name,
                "version": version,
                "chartRepository": f"{LOCAL_CHARTS}{sources[version]}",
            }
            for name, version in revisions
        ],
        "tags": dict(tags),
    }
    istio.pop("chartRepository", None)
    return {**config, f"{life.PROJECT}:istio": istio}


def on_revision(kubeconfig: Path, revision: str) -> list[str]:
    """Workloads (pods, and the templates of Deployments) that still name `revision`: by
    Istio's label or by the package's restart annotation."""
    found = []
    for kind in ("pods", "deployments"):
        listed = json.loads(life.kubectl(kubeconfig, "get", kind, "-A", "-o", "json"))
        for item in listed.get("items", []):
            meta = item["metadata"]
            template = item.get("spec", {}).get("template", {}).get("metadata", {})
            names = [
                m.get(key, {}).get(name)
                for m in (meta, template)
                for key, name in (("labels", "istio.io/rev"), ("annotations", REVISION_ANNOTATION))
            ]
            if revision in names:
                found.append(f"{kind}/{meta.get('namespace')}/{meta['name']}")
    return sorted(found)


def upgrade(
    run: life.Run, kubeconfig: Path, config: Mapping[str, Any], chart_dir: Path
) -> dict[str, Any]:
    """Each step of the upgrade is an `up` that must succeed; the out-of-order step is
    refused; at the end nothing runs on the dropped revision, and a destroy leaves nothing.
    1.31.0's charts are `chart_dir` (every stack's), 1.30.3's those the tests render."""
    sources = {OLD[1]: charts.chart_source("istiod", OLD[1]).parent, NEW[1]: chart_dir}
    stack_file = run.work / "stacks" / f"Pulumi.e2e-{run.stack}.yaml"
    # Where `make charts` puts them, in the scratch project: the program and the provider
    # both resolve the default relative istio.tagCharts against the project directory
    # (pulumi/pulumi sdk/go/common/resource/plugin/plugin.go starts plugins in ctx.Pwd).
    charts.derive_tag_charts(run.work / versions.TAG_CHARTS)

    def configure(revisions, tags) -> None:
        salted = yaml.safe_load(stack_file.read_text()) if stack_file.is_file() else {}
        step = config_of(config, revisions, tags, sources)
        stack_file.write_text(yaml.safe_dump({**(salted or {}), "config": step}))

    report: dict[str, Any] = {"steps": []}
    before = life.census(kubeconfig)
    for name, revisions, tags in STEPS:
        if name == "move default":
            refused_revisions, refused_tags, words = REFUSED
            configure(refused_revisions, refused_tags)
            code, out_text, _ = run.pulumi("preview", "--non-interactive")
            report["refused"] = {
                "exit": code,
                "step": "move default + drop 1.30.3",
                "said": words in out_text,
            }
        configure(revisions, tags)
        code, _, seconds = run.pulumi("up", "--yes", "--non-interactive")
        report["steps"].append({"step": name, "exit": code, "seconds": seconds})
        if code:
            return report
    report["leftOnRemoved"] = on_revision(kubeconfig, OLD[0])
    code, _, seconds = run.pulumi("destroy", "--yes", "--non-interactive")
    report["destroy"] = {
        "exit": code,
        "seconds": seconds,
        "leftovers": life.leftovers(kubeconfig, before),
    }
    return report


def passed(result: Mapping[str, Any]) -> bool:
    steps = result.get("steps", [])
    refused = result.get("refused") or {}
    return (
        len(steps) == len(STEPS)
        and not any(step["exit"] for step in steps)
        and bool(refused.get("exit"))
        and bool(refused.get("said"))
        and result.get("leftOnRemoved") == []
        and not result["destroy"]["exit"]
        and not result["destroy"]["leftovers"]
    )
