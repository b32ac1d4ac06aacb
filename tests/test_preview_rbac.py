"""The RBAC a preview identity needs (tools/preview_rbac.py): current, covering, no more."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import gateway_api_crd_files, istio_crd_file
from tests.schema.kube import kubernetes_errors
from tools import preview_rbac
from tools.offline.engine import run_stack

STACKS = preview_rbac.previewed_stacks()
# Verbs a preview never sends (pulumi-kubernetes previews create and apply, never delete), or
# that would let the role grant itself more.
NEVER = {"delete", "deletecollection", "list", "watch", "escalate", "bind", "impersonate", "*"}
# Resource names of the built-in kinds stacks declare (the Kubernetes API reference).
BUILT_IN = {
    "ConfigMap": "configmaps",
    "CronJob": "cronjobs",
    "Deployment": "deployments",
    "Job": "jobs",
    "Namespace": "namespaces",
    "NetworkPolicy": "networkpolicies",
    "Role": "roles",
    "RoleBinding": "rolebindings",
    "Secret": "secrets",
    "Service": "services",
    "ServiceAccount": "serviceaccounts",
}


@pytest.mark.parametrize("stack", STACKS)
def test_committed_role_is_current_and_a_valid_cluster_role(stack):
    path = preview_rbac.OUT_DIR / f"{stack}.yaml"
    assert path.read_text() == preview_rbac.render(stack), "run python -m tools.preview_rbac"
    role = yaml.safe_load(path.read_text())
    assert kubernetes_errors(role) == []


@pytest.mark.parametrize("stack", STACKS)
def test_role_grants_each_declared_object_its_dry_run_and_nothing_else(stack):
    declared = run_stack(stack)
    rules = preview_rbac.rules(declared)
    granted = {
        (group, resource, name, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for name in rule.get("resourceNames", [None])
        for verb in rule["verbs"]
    }
    for resource in declared.kube_objects():
        if resource.type == "kubernetes:yaml/v2:ConfigFile":
            assert ("apiextensions.k8s.io", "customresourcedefinitions", None, "update") in granted
            continue
        manifest = resource.manifest
        group = manifest["apiVersion"].rpartition("/")[0]
        kind = resource.type.rsplit(":", 1)[1].removesuffix("Patch")
        plural = preview_rbac.plural(kind)
        name = manifest["metadata"]["name"]
        assert (group, plural, None, "create") in granted, resource.name
        for verb in ("get", "patch"):
            assert {(group, plural, None, verb), (group, plural, name, verb)} & granted, (
                resource.name,
                verb,
            )
    assert not {verb for *_, verb in granted} & NEVER
    assert ("", "secrets", None, "get") not in granted  # Secrets by name only


def test_plural_names_are_the_apis_own(istio_crds, gateway_api_crds):
    for kind, plural in BUILT_IN.items():
        assert preview_rbac.plural(kind) == plural
    crds = [
        doc
        for path in [istio_crd_file(), *gateway_api_crd_files()]
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc.get("kind") == "CustomResourceDefinition"
    ]
    assert len(crds) > 20
    for crd in crds:
        names = crd["spec"]["names"]
        assert preview_rbac.plural(names["kind"]) == names["plural"], names["kind"]


def test_gateway_api_install_is_what_the_role_expects():
    """The kinds in the Gateway API standard install (shared/reference copy of the release)."""
    kinds = {
        doc["kind"]
        for path in gateway_api_crd_files()
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    }
    assert kinds == {
        "CustomResourceDefinition",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
    (granted,) = preview_rbac.CONFIG_FILES.values()
    assert {resource for _, resource in granted} == {
        "customresourcedefinitions",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
    }
