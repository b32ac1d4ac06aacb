"""The real lifecycle of a stack under the real Pulumi engine against a real API server.

    python -m tools.e2e.lifecycle --kubeconfig K --charts DIR --gateway-api DIR STACK [STACK …]

For each stack: `pulumi up`, `pulumi preview --expect-no-changes`, one update (another
routing scenario; for `tenancy` another outbound policy: preview, then up), `pulumi
destroy`, a census of what the API server still holds, and `pulumi up` again on the
emptied cluster (then destroyed again). `local-canary` runs the canary upgrade instead
(tools/e2e/canary.py): 1.30.3 alone, add 1.31.0, move `canary`, move `default`, drop 1.30.3,
each an `up`, then a destroy with the census. Every command's
output goes to `<report dir>/logs/`; the outcome of each step to the report (JSON).

The project is copied (its git-tracked files) into a scratch directory so that the stack
files Pulumi writes (`stacks/Pulumi.e2e-<stack>.yaml`, the passphrase salt) never land in the
tree; it imports `meshstack` from the repository's own virtualenv. Charts and the Gateway API
CRDs come from local copies (no network): `istio.chartRepository`, `addons.*.repository`
and `istio.gatewayApiCrds` are set to them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from meshstack.versions import LOCAL_CHARTS
from stacks.config.tenancy import system_namespace
from tools import charts, kubetools, teardown
from tools.e2e import canary, sdks, yaml_program
from tools.kubetools import REPO_ROOT, TOOLS_BIN
from tools.offline.engine import Declared, run_stack

PROJECT = "meshstack"
# What the update step changes: another routing scenario (VirtualServices or HTTPRoutes and
# the check that reads them change; no release may be replaced).
UPDATE = ("bookinfo.routing", "reviews-80-20")
# Stacks without Bookinfo: the tenants' istiods and their checks change instead (every istiod
# release updated in place, the cross-control-plane checks expect 502, not 503).
UPDATES = {"tenancy": ("istio.outboundTrafficPolicy", "REGISTRY_ONLY")}


def update_of(stack: str) -> tuple[str, str]:
    return UPDATES.get(stack, UPDATE)


def istio_namespaces(stacks: Iterable[str]) -> list[str]:
    """Where the stacks run an istiod: istio-system, and each tenant's own control plane
    (tenancy.tenants with controlPlane own): the webhook stand-in answers as their istiods
    (tools/e2e/controlplane.sh, E2E_ISTIO_NAMESPACES)."""
    found = ["istio-system"]
    for stack in stacks:
        config = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        tenancy = config["config"].get(f"{PROJECT}:tenancy") or {}
        found += [
            system_namespace(t["name"])
            for t in tenancy.get("tenants", [])
            if t.get("controlPlane") == "own"
        ]
    return found


# A change that is safe only in steps, refused by comparing with what the last `up` deployed
# (stacks/config/previous.py, read back through the real CLI by stacks/state.py): its key,
# value and the refusal's words, per stack.
REFUSED = {"local": ("istio.revision", "canary", "this stack's istiod runs revision 'default'")}
# Objects the API server holds after a destroy that the stack created on purpose:
# Istio's CRDs carry `helm.sh/resource-policy: keep` (charts/base/files/crd-all.gen.yaml),
# so Helm's uninstall leaves them (kept_on_purpose).
KEPT_GROUP_SUFFIX = ".istio.io"
# Kinds the control plane itself writes all the time (not the stack's objects). Everything
# else is compared with what the cluster held before the first `up`.
CHURN = {"events", "events.events.k8s.io", "leases.coordination.k8s.io"}
NAMESPACE_DELETION_SECONDS = 300
# Longer than any wait of the provider's (a Helm release's 900 s timeout is not reached on
# fake nodes); a command past it is ended and counts as failed with exit code 124.
COMMAND_SECONDS = 600
TIMED_OUT = 124


@dataclass
class Run:
    """One stack's scratch project, backend and logs."""

    stack: str
    work: Path
    env: dict[str, str]
    logs: Path
    steps: int = 0
    outcome: dict[str, Any] = field(default_factory=dict)

    def pulumi(self, *arguments: str, check: bool = False) -> tuple[int, str, float]:
        """Runs the real CLI in the scratch project; returns exit code, stdout, seconds."""
        self.steps += 1
        log = self.logs / f"{self.stack}-{self.steps:02d}-{arguments[0]}.log"
        started = time.monotonic()
        cli = [str(TOOLS_BIN / "pulumi"), *arguments, "--stack", f"e2e-{self.stack}"]
        # The CLI with the Python SDK's language runtime (tools/e2e/langhost.py), in a process
        # group of its own so that a command past its time ends with everything it started.
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.e2e.langhost", "--cwd", str(self.work), "--", *cli],
            cwd=self.work,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=COMMAND_SECONDS)
            code = process.returncode
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            code, stderr = TIMED_OUT, f"{stderr}\ntimed out after {COMMAND_SECONDS} s"
        seconds = round(time.monotonic() - started, 1)
        log.write_text(f"$ pulumi {' '.join(arguments)}\n{stdout}\n--- stderr\n{stderr}")
        if check and code:
            raise RuntimeError(f"pulumi {arguments[0]} failed ({code}): see {log}")
        return code, stdout, seconds


def scratch_project(destination: Path) -> Path:
    """The repository's tracked files, with its virtualenv linked in."""
    if destination.exists():
        shutil.rmtree(destination)
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(REPO_ROOT / ".venv")
    return destination


def gateway_api_manifest(directory: Path, destination: Path) -> Path:
    """The release's standard channel (what its standard-install.yaml holds: the CRDs and the
    safe-upgrades admission policy) from its per-object files, as one manifest."""
    documents = [
        document
        for path in sorted(directory.glob("gateway.networking.k8s.io_*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
        and document["metadata"].get("annotations", {}).get("gateway.networking.k8s.io/channel")
        == "standard"
    ]
    destination.write_text(yaml.safe_dump_all(documents))
    return destination


def stack_config(
    stack: str, kubeconfig: Path, chart_dir: Path, gateway_api: Path
) -> dict[str, Any]:
    """The committed stack file's config, pointed at this cluster and the local copies."""
    config = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    local = f"{LOCAL_CHARTS}{chart_dir}"
    config[f"{PROJECT}:kubernetes"] = {"kubeconfig": str(kubeconfig)}
    istio = config.setdefault(f"{PROJECT}:istio", {})
    istio.update({"chartRepository": local, "gatewayApiCrds": str(gateway_api)})
    addons = config.setdefault(f"{PROJECT}:addons", {})
    for addon in ("kiali", "prometheus", "grafana"):
        if addons.get(addon, {}).get("enabled", True):
            addons.setdefault(addon, {})["repository"] = local
    return config


def changes(preview_json: str) -> tuple[dict[str, int], list[str]]:
    """The change summary of `pulumi preview --json` and the URNs it would replace."""
    document = json.loads(preview_json)
    summary = {op: n for op, n in document.get("changeSummary", {}).items() if op != "same"}
    replaced = [
        step["urn"]
        for step in document.get("steps", [])
        if step.get("op") in {"replace", "create-replacement", "delete-replaced"}
    ]
    return summary, sorted(set(replaced))


def kubectl(kubeconfig: Path, *arguments: str, check: bool = True) -> str:
    done = subprocess.run(
        [str(kubetools.ensure().kubectl), "--kubeconfig", str(kubeconfig), *arguments],
        capture_output=True,
        text=True,
        check=check,
    )
    return done.stdout


def census(kubeconfig: Path) -> set[tuple[str, str, str]]:
    """Every object of every listable type the API server holds: (type, namespace, name)."""
    kinds = [
        kind
        for kind in kubectl(kubeconfig, "api-resources", "--verbs=list", "-o", "name").split()
        if kind not in CHURN
    ]
    # A kind that cannot be listed right now (an aggregated API that is down) is reported by
    # kubectl on stderr while the others are listed.
    listed = json.loads(
        kubectl(kubeconfig, "get", ",".join(kinds), "-A", "-o", "json", check=False) or "{}"
    )
    found = set()
    for item in listed.get("items", []):
        group = item["apiVersion"].split("/")[0] if "/" in item["apiVersion"] else ""
        kind = item["kind"] + (f".{group}" if group else "")
        metadata = item["metadata"]
        found.add((kind, metadata.get("namespace", ""), metadata["name"]))
    return found


Entry = tuple[str, str, str]
CRD = "CustomResourceDefinition.apiextensions.k8s.io"
API_SERVICE = "APIService.apiregistration.k8s.io"


def kept_on_purpose(entry: Entry, kept: frozenset[Entry] = frozenset()) -> bool:
    """Istio's CRDs, and the APIService the API server registers itself for each group and
    version they serve (k8s.io/kubernetes pkg/controlplane/controller/crdregistration); and
    `kept`, the objects of a manifest the stack retains on delete (`retained_objects`)."""
    kind, _, name = entry
    if entry in kept:
        return True
    return kind in (CRD, API_SERVICE) and name.endswith(KEPT_GROUP_SUFFIX)


def retained_objects(manifest: Path) -> frozenset[Entry]:
    """The census entries of a manifest applied with `retain_on_delete` (the Gateway API
    CRDs on a shared cluster, docs/teardown.md): its objects, by name, and the APIServices
    registered for the versions its CRDs serve."""
    kept: set[Entry] = set()
    for document in yaml.safe_load_all(manifest.read_text()):
        if not document:
            continue
        group = document["apiVersion"].split("/")[0] if "/" in document["apiVersion"] else ""
        kind = document["kind"] + (f".{group}" if group else "")
        metadata = document["metadata"]
        kept.add((kind, metadata.get("namespace", ""), metadata["name"]))
        if kind == CRD:
            spec = document["spec"]
            kept |= {
                (API_SERVICE, "", f"{version['name']}.{spec['group']}")
                for version in spec["versions"]
                if version.get("served")
            }
    return frozenset(kept)


def leftovers(
    kubeconfig: Path, before: set[Entry], kept: frozenset[Entry] = frozenset()
) -> list[str]:
    """What the destroy left of the stack's objects, once deleted namespaces are gone."""
    deadline = time.monotonic() + NAMESPACE_DELETION_SECONDS
    while True:
        left = sorted(e for e in census(kubeconfig) - before if not kept_on_purpose(e, kept))
        terminating = [e for e in left if e[0] == "Namespace"]
        if not terminating or time.monotonic() > deadline:
            return ["/".join(part for part in e if part) for e in left]
        time.sleep(5)


def engine_events(path: Path) -> list[dict[str, Any]]:
    """The engine events `--event-log` wrote, one JSON value a line (pulumi/pulumi
    pkg/backend/display/display.go startEventLogger: json.Encoder.Encode per event)."""
    text = path.read_text() if path.is_file() else ""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def resource_key(urn: str) -> str:
    """A URN without its stack and project: `<type>::<name>` (its last type and name)."""
    qualified_type, name = urn.split("::")[2:4]
    return f"{qualified_type.rsplit('$', 1)[-1]}::{name}"


def deletions(events: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """Per resource the engine deleted (`resource_key`), the sequence numbers of its delete
    step's start (resourcePreEvent) and end (resOutputsEvent) (sdk/go/common/apitype/events.go
    EngineEvent, StepEventMetadata.Op "delete")."""
    started: dict[str, int] = {}
    ended: dict[str, tuple[int, int]] = {}
    for event in events:
        for kind in ("resourcePreEvent", "resOutputsEvent"):
            metadata = (event.get(kind) or {}).get("metadata") or {}
            if metadata.get("op") != "delete":
                continue
            key = resource_key(metadata["urn"])
            if kind == "resourcePreEvent":
                started[key] = event["sequence"]
            elif key in started:
                ended[key] = (started[key], event["sequence"])
    return ended


def destroy_order(declared: Declared, deleted: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    """The order the engine deleted resources in, checked against every pair of
    tools/teardown.py's rules on the same config's offline graph: the first of a pair must be
    gone before the second's delete starts."""
    checked, wrong = 0, []
    for rule in teardown.RULES:
        for first, then in rule.pairs(declared):
            before, after = (deleted.get(f"{r.type}::{r.name}") for r in (first, then))
            if before is None or after is None:
                wrong.append(f"{rule.name}: {first.name} or {then.name} was not deleted")
                continue
            checked += 1
            if before[1] >= after[0]:
                wrong.append(f"{rule.name}: {then.name} was deleted before {first.name} was gone")
    order = sorted(deleted, key=lambda key: deleted[key][1])
    return {"order": order, "checkedPairs": checked, "outOfOrder": wrong}


def lifecycle(
    run: Run, kubeconfig: Path, declared: Declared, kept: frozenset[Entry]
) -> dict[str, Any]:
    report: dict[str, Any] = {}
    before = census(kubeconfig)
    code, _, seconds = run.pulumi("up", "--yes", "--non-interactive")
    exported = json.loads(run.pulumi("stack", "export")[1] or "{}")
    resources = len(exported.get("deployment", {}).get("resources", []) or [])
    report["up"] = {"exit": code, "seconds": seconds, "resources": resources}
    if code:
        return report
    code, out, _ = run.pulumi("preview", "--expect-no-changes", "--json", "--non-interactive")
    report["noChange"] = {"exit": code, "changes": changes(out)[0] if out.strip() else None}
    if run.stack in REFUSED:
        key, value, words = REFUSED[run.stack]
        run.pulumi("config", "set", "--path", f"{PROJECT}:{key}", value, check=True)
        code, out, _ = run.pulumi("preview", "--non-interactive")
        run.pulumi("config", "rm", "--path", f"{PROJECT}:{key}", check=True)
        report["refused"] = {"exit": code, "change": f"{key}: {value}", "said": words in out}
    key, value = update_of(run.stack)
    run.pulumi("config", "set", "--path", f"{PROJECT}:{key}", value, check=True)
    _, out, _ = run.pulumi("preview", "--json", "--non-interactive")
    summary, replaced = changes(out) if out.strip() else ({}, [])
    code, _, seconds = run.pulumi("up", "--yes", "--non-interactive")
    report["update"] = {
        "exit": code,
        "seconds": seconds,
        "change": f"{key}: {value}",
        "changes": summary,
        "replaces": replaced,
    }
    events = run.logs / f"{run.stack}-destroy-events.json"
    code, _, seconds = run.pulumi(
        "destroy", "--yes", "--non-interactive", "--event-log", str(events)
    )
    report["destroy"] = {
        "exit": code,
        "seconds": seconds,
        "leftovers": leftovers(kubeconfig, before, kept),
        **destroy_order(declared, deletions(engine_events(events))),
    }
    code, _, seconds = run.pulumi("up", "--yes", "--non-interactive")
    report["reup"] = {"exit": code, "seconds": seconds}
    run.pulumi("destroy", "--yes", "--non-interactive")
    return report


def pulumi_env(state: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{TOOLS_BIN}{os.pathsep}{env.get('PATH', '')}",
            "PULUMI_HOME": str(home),
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_CONFIG_PASSPHRASE": "e2e",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # Registers `--event-log` (pkg/cmd/pulumi/operations/destroy.go: only with
            # env.DebugCommands, sdk/go/common/env/env.go).
            "PULUMI_DEBUG_COMMANDS": "true",
        }
    )
    return env


def run_stacks(
    stacks: Sequence[str], kubeconfig: Path, chart_dir: Path, gateway_api_dir: Path, out: Path
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    manifest = gateway_api_manifest(gateway_api_dir, out / "gateway-api-standard.yaml")
    env = pulumi_env(out / "state", out / "pulumi-home")
    (out / "state").mkdir(exist_ok=True)
    results: dict[str, Any] = {}
    for stack in stacks:
        work = scratch_project(out / "project" / stack)
        run = Run(stack, work, env, logs)
        run.pulumi("stack", "init", "--secrets-provider", "passphrase", check=True)
        config = stack_config(stack, kubeconfig, chart_dir, manifest)
        stack_file = work / "stacks" / f"Pulumi.e2e-{stack}.yaml"
        salted = yaml.safe_load(stack_file.read_text()) if stack_file.is_file() else {}
        stack_file.write_text(yaml.safe_dump({**(salted or {}), "config": config}))
        if stack == canary.STACK:
            results[stack] = canary.upgrade(run, kubeconfig, config, chart_dir)
            run.pulumi("stack", "rm", "--yes", "--force")
            continue
        # What the stack declares when it is destroyed: after the update.
        declared = offline_graph(stack, updated_config(config, stack))
        retained = any(
            c.options.retain_on_delete for c in declared.of_type(teardown.GATEWAY_API_CRDS)
        )
        kept = retained_objects(manifest) if retained else frozenset()
        results[stack] = lifecycle(run, kubeconfig, declared, kept)
        run.pulumi("stack", "rm", "--yes", "--force")
    return results


def versions(kubeconfig: Path) -> dict[str, str]:
    pulumi = subprocess.run(
        [str(TOOLS_BIN / "pulumi"), "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    server = json.loads(kubectl(kubeconfig, "version", "-o", "json"))["serverVersion"]
    return {"pulumi": pulumi.removeprefix("v"), "kubernetes": server["gitVersion"].lstrip("v")}


INSTALL = ("--create-namespace", "--wait", "--timeout", "10m")


def updated_config(config: Mapping[str, Any], stack: str = "local") -> dict[str, Any]:
    """The config after the update step (`update_of`, as `pulumi config set --path` sets
    it)."""
    key, value = update_of(stack)
    section, field_name = key.split(".")
    namespaced = f"{PROJECT}:{section}"
    return {**config, namespaced: {**config.get(namespaced, {}), field_name: value}}


def offline_graph(stack: str, config: Mapping[str, Any]) -> Declared:
    """What the stack declares with this config, under the offline engine."""
    overrides = {
        key.split(":", 1)[1]: value
        for key, value in config.items()
        if key.startswith(f"{PROJECT}:") and key != f"{PROJECT}:scenario"
    }
    return run_stack(stack, overrides)


def helm_baseline(
    stack: str, config: Mapping[str, Any], kubeconfig: Path, values_dir: Path
) -> dict[str, Any]:
    """The same Helm releases as the stack declares, installed one after another with
    `helm install --wait` (then uninstalled): what `pulumi up` is measured against."""
    declared = offline_graph(stack, config)
    releases = [charts.Release.of(r.inputs) for r in declared.of_type(charts.RELEASE_TYPE)]
    helm = [str(kubetools.ensure().helm), "--kubeconfig", str(kubeconfig)]
    started = time.monotonic()
    for release in releases:
        values = values_dir / f"{release.name}-values.json"
        values.write_text(json.dumps(release.values))
        namespace = ["-n", release.namespace]
        source = str(release.source())
        done = subprocess.run(
            [*helm, "install", release.name, source, "-f", str(values), *namespace, *INSTALL],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"helm install {release.name} failed: {done.stderr.strip()}")
    seconds = round(time.monotonic() - started, 1)
    for release in reversed(releases):
        subprocess.run(
            [*helm, "uninstall", release.name, "-n", release.namespace, "--wait"],
            capture_output=True,
            check=False,
        )
    return {"stack": stack, "releases": len(releases), "seconds": seconds}


# The providers whose own input check (`Check`) the cloud stacks' resources would go through
# (issue #31 item 5), by the SDK pins of constraints.txt; kubernetes is built (tools/e2e/pulumi).
CLOUD_PROVIDERS = ("pulumi-alicloud", "pulumi-gcp", "pulumi-tls")


def providers() -> dict[str, str]:
    """Per provider, what the Go module proxy answers for its provider module at the pinned
    SDK's version (github.com/pulumi/<repo>/provider/v<major>): the evidence of why the cloud
    stacks' resources do not go through the real provider here."""
    pins = dict(
        line.split("==", 1)
        for line in (REPO_ROOT / "constraints.txt").read_text().splitlines()
        if line.startswith(CLOUD_PROVIDERS)
    )
    outcome = {}
    for name, version in sorted(pins.items()):
        module = f"github.com/pulumi/{name}/provider/v{version.split('.')[0]}@v{version}"
        done = subprocess.run(
            ["go", "list", "-m", "-json", module],
            env={**os.environ, "GOWORK": "off", "GOFLAGS": "-mod=mod"},
            cwd=REPO_ROOT / "tools" / "e2e" / "pulumi",
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        answer = " ".join(done.stderr.split())[:300]
        outcome[name] = (
            f"{module} served, not built by this harness" if not done.returncode else answer
        )
    return outcome


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The real lifecycle of stacks against a real API server."
    )
    parser.add_argument("stacks", nargs="+")
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--charts", type=Path, required=True)
    parser.add_argument("--gateway-api", type=Path, required=True)
    parser.add_argument("--webhooks", default="stand-in", choices=["istiod", "stand-in"])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".e2e")
    parser.add_argument("--report", type=Path, default=None)
    args = parser.parse_args(list(argv) if argv is not None else None)
    out = args.out.resolve()
    kubeconfig, chart_dir = args.kubeconfig.resolve(), args.charts.resolve()
    report_path = args.report or out / "report.json"
    report: dict[str, Any] = {**versions(kubeconfig), "webhooks": args.webhooks}
    report["stacks"] = run_stacks(args.stacks, kubeconfig, chart_dir, args.gateway_api, out)
    # Helm alone against the first stack of one revision (the canary's takes steps).
    first = next((s for s in args.stacks if s != canary.STACK), None)
    if first is None:
        return finish(report, report_path, out, kubeconfig)
    config = stack_config(first, kubeconfig, chart_dir, out / "gateway-api-standard.yaml")
    baseline = helm_baseline(first, config, kubeconfig, out)
    up = report["stacks"][first].get("up", {}).get("seconds")
    report["helmBaseline"] = {**baseline, "pulumiUpSeconds": up}
    if up:
        report["helmBaseline"]["ratio"] = round(up / baseline["seconds"], 2)
    return finish(report, report_path, out, kubeconfig)


def finish(report: dict[str, Any], report_path: Path, out: Path, kubeconfig: Path) -> int:
    env = pulumi_env(out / "state", out / "pulumi-home")
    # Recorded, not required: its binding is refused today (tools/e2e/yaml_program.py).
    report["programs"] = {"yaml": yaml_program.preview(kubeconfig, out, env)}
    generated = sdks.report(out / "sdks", env)
    report["sdks"] = generated.pop("languages")
    report["sdkChecks"] = generated
    report["providers"] = providers()
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    stacks_passed = all(passed(result) for result in report["stacks"].values())
    sdks_passed = sdks.passed({**generated, "languages": report["sdks"]})
    return 0 if stacks_passed and sdks_passed else 1


def passed(result: Mapping[str, Any]) -> bool:
    """Every step ran and succeeded: no changes after up, no release replaced, nothing left,
    the destroy deleted in the order tools/teardown.py proves offline."""
    if "steps" in result:
        return canary.passed(result)
    steps = ("up", "noChange", "update", "destroy", "reup")
    if any(step not in result or result[step]["exit"] for step in steps):
        return False
    refused = result.get("refused")
    if refused and not (refused["exit"] and refused["said"]):
        return False
    releases = [u for u in result["update"]["replaces"] if "helm.sh/v3:Release" in u]
    destroy = result["destroy"]
    ordered = destroy.get("checkedPairs", 0) > 0 and not destroy.get("outOfOrder", [None])
    return not releases and not destroy["leftovers"] and ordered


if __name__ == "__main__":
    raise SystemExit(main())
