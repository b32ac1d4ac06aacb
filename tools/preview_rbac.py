"""The Kubernetes RBAC a `pulumi preview` of a deployed stack needs, as a ClusterRole per stack.

    python -m tools.preview_rbac [STACK ...] [--check]

A preview of Kubernetes objects is a dry run on the API server: pulumi-kubernetes reads the
live object (`get`) and sends the create or the server-side apply with `dryRun=All`
(provider/pkg/await/await.go: `client.Create`/`client.Patch` with `DryRunAll` when
`c.Preview`; CRDs are replaced with `client.Update`). Kubernetes authorizes a dry run exactly
as the real request ("Authorization for dry-run and non-dry-run requests is identical",
kubernetes.io/docs/reference/using-api/api-concepts/#dry-run-authorization), so a read-only
identity's previews are refused. RBAC cannot grant the dry run alone: whoever holds this role
may make the same writes for real, so it grants no more than the stack's own objects need:
`get`, `create` and `patch` on the kinds the stack declares (`update` on CRDs), `get` and
`patch` on its Secrets by name only, never `delete`, `list` or `watch`, and the rules of the
Roles it declares (RBAC lets a user create a Role or binding only with the permissions in it).
Helm releases render client-side in a preview (helm_release.go: `ClientOnly`): nothing more.

Writes `ci/preview-rbac/<stack>.yaml` for each stack the preview workflow covers;
`--check` fails when one is out of date. docs/ci-trust.md says how to bind it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from typing import Any

import yaml

from meshstack import versions
from tools.offline.engine import Declared, Resource, run_stack
from tools.plan import synced
from tools.stack_file import REPO_ROOT

OUT_DIR = REPO_ROOT / "ci" / "preview-rbac"
ROLE = "meshstack-preview"
PREVIEW_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "preview.yml"
WRITE = ("get", "create", "patch")
# What yaml/v2 ConfigFiles of these files apply, as (apiGroup, resource): the Gateway API
# standard install is its CRDs and the safe-upgrades admission policy with its binding.
CONFIG_FILES = {
    versions.GATEWAY_API_CRDS: (
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
    )
}
HEADER = """\
# The Kubernetes RBAC that `pulumi preview` of stack `{stack}` needs (dry-run writes are
# authorized as writes). Written by tools/preview_rbac.py; do not edit: regenerate. Apply it
# to each of the stack's clusters and bind it to the preview identity (docs/ci-trust.md).
"""


def plural(kind: str) -> str:
    """The resource name of a kind (the API's own rule for the kinds stacks declare)."""
    lower = kind.lower()
    if re.search(r"[^aeiou]y$", lower):
        return lower[:-1] + "ies"
    if re.search(r"(s|ss|x|ch|sh)$", lower):
        return lower + "es"
    return lower + "s"


def _group_and_kind(resource: Resource) -> tuple[str, str]:
    """`kubernetes:<group>/<version>:<Kind>` (group `core` is the empty group)."""
    _, group_version, kind = resource.type.split(":")
    group = group_version.rsplit("/", 1)[0] if "/" in group_version else ""
    return ("" if group == "core" else group), kind.removesuffix("Patch")


def rules(declared: Declared) -> list[dict[str, Any]]:
    """The ClusterRole's rules for what `declared` applies, sorted."""
    verbs: dict[tuple[str, str], set[str]] = defaultdict(set)
    secrets: set[str] = set()
    extra: list[dict[str, Any]] = []
    for resource in declared.kube_objects():
        if resource.type == "kubernetes:yaml/v2:ConfigFile":
            for key in CONFIG_FILES[resource.inputs["file"]]:
                verbs[key] |= {*WRITE, "update"}  # CRDs: replaced with a PUT
            continue
        group, kind = _group_and_kind(resource)
        if kind == "Secret":
            secrets.add(resource.manifest["metadata"]["name"])
            verbs[(group, "secrets")].add("create")  # no name to restrict a create by
            continue
        verbs[(group, plural(kind))] |= set(WRITE)
        if kind in ("Role", "ClusterRole"):
            extra += [_sorted_rule(rule) for rule in resource.manifest.get("rules", [])]
    found = [
        {"apiGroups": [group], "resources": [resource], "verbs": sorted(verbs[(group, resource)])}
        for group, resource in sorted(verbs)
    ]
    if secrets:
        found.append(
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": sorted(secrets),
                "verbs": ["get", "patch"],
            }
        )
    for rule in extra:
        if rule not in found:
            found.append(rule)
    return found


def _sorted_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {key: sorted(value) for key, value in sorted(rule.items())}


def cluster_role(stack: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ROLE, "labels": {"app.kubernetes.io/part-of": "meshstack"}},
        "rules": rules(run_stack(stack)),
    }


def previewed_stacks() -> list[str]:
    """The stacks .github/workflows/preview.yml previews."""
    job = yaml.safe_load(PREVIEW_WORKFLOW.read_text())["jobs"]["preview"]
    return sorted(entry["stack"] for entry in job["strategy"]["matrix"]["include"])


def render(stack: str) -> str:
    return HEADER.format(stack=stack) + yaml.safe_dump(cluster_role(stack), sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stacks", nargs="*", help="default: every stack the preview covers")
    parser.add_argument("--check", action="store_true", help="fail when a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for stack in args.stacks or previewed_stacks():
        path = OUT_DIR / f"{stack}.yaml"
        if not synced(path, render(stack), check=args.check):
            stale.append(path)
        elif not args.check:
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    for path in stale:
        print(f"stale: {path}: run `python -m tools.preview_rbac` and commit the result")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
