"""Teardown: the order `pulumi destroy` deletes every stack in, proven on its recorded graph
(tools/teardown.py), load balancers awaited before their cluster goes, what stays behind on
purpose; and docs/teardown.md's account of Istio's CRDs, against the pinned `base` chart as the
real Helm renders the stacks' release: its CRDs are templates (no `crds/` folder, whose CRDs
Helm would skip when they exist), each annotated `helm.sh/resource-policy: keep` (Helm leaves
it on uninstall: helm v3.20 pkg/action/resource_policy.go), all named `*.istio.io`, which the
page's `grep` selects."""

from __future__ import annotations

import pulumi
import pytest
import yaml

from meshstack import versions
from meshstack.istio import gateway_api
from tests.conftest import rendered
from tests.variants import CANARY
from tools import charts, teardown
from tools.offline.engine import Declared, OfflineEngine, run_stack
from tools.stack_file import REPO_ROOT, committed_stacks, stack_config

PAGE = REPO_ROOT / "docs" / "teardown.md"
# Stacks and variants whose graphs the order is proven on: every stack file, the
# self-managed control plane of two-cluster-retention (its default is ASM), and revisions
# side by side in a remote cluster and for a VM (the `istio` overrides of CANARY).
CASES = [(stack, {}) for stack in committed_stacks()] + [
    ("two-cluster-retention", {"controlPlane": "istio"}),
    ("primary-remote", CANARY),
    ("vm", CANARY),
]
IDS = [f"{stack}-istio" if overrides else stack for stack, overrides in CASES]


def _evaluate(stack: str, overrides: dict) -> Declared:
    return OfflineEngine(stack).run(stack, overrides)


@pytest.fixture(scope="module")
def graphs() -> dict[str, Declared]:
    return {name: _evaluate(*case) for name, case in zip(IDS, CASES, strict=True)}


@pytest.mark.parametrize("case", IDS)
def test_destroy_deletes_in_the_documented_order(graphs, case):
    assert teardown.violations(graphs[case]) == []


def test_every_rule_orders_something_and_the_page_lists_it(graphs):
    page = PAGE.read_text()
    for rule in teardown.RULES:
        assert any(next(iter(rule.pairs(g)), None) for g in graphs.values()), rule.name
        assert f"**{rule.name}**" in page, rule.name


def _drop_dependency(declared: Declared, waiter: str, target: str) -> None:
    """Forget that `waiter` depends on `target` (both by name), as a lost `depends_on` would."""
    urn = declared.named(target).urn
    resource = declared.named(waiter)
    resource.dependencies = [u for u in resource.dependencies if u != urn]
    resource.property_dependencies = {
        key: [u for u in urns if u != urn] for key, urns in resource.property_dependencies.items()
    }


@pytest.mark.parametrize(
    ("stack", "waiter", "target", "rule"),
    [
        ("local", "istio-istiod", "istio-base", "istiod, istio-cni and ztunnel before base"),
        ("local", "istio-ingress", "istio-istiod", "gateways before istiod"),
        ("local-ambient", "istio-ztunnel", "istio-cni", "ztunnel before istiod and istio-cni"),
        ("single-cluster", "istio-base", "istio-namespace", "what is in a namespace before"),
    ],
)
def test_the_order_check_fails_when_a_dependency_goes_missing(stack, waiter, target, rule):
    declared = run_stack(stack)
    _drop_dependency(declared, waiter, target)
    found = teardown.violations(declared)
    assert any(
        v.startswith(rule) and f"{waiter} is not deleted before {target}" in v for v in found
    )


def test_a_lost_dependency_of_a_cluster_on_its_nat_is_caught():
    """The cluster waits for its vSwitches' SNAT entries (`depends_on`): without it the NAT
    could go while the cluster is being deleted."""
    declared = run_stack("single-cluster")
    [cluster] = declared.of_type("alicloud:cs/managedKubernetes:ManagedKubernetes")
    snat = {r.urn for r in declared.of_type(teardown.SNAT)}
    cluster.dependencies = [u for u in cluster.dependencies if u not in snat]
    assert any(
        v.startswith("clusters before the network") and "snat" in v
        for v in teardown.violations(declared)
    )


@pytest.mark.parametrize("case", IDS)
def test_load_balancers_are_awaited_before_their_cluster_is_deleted(graphs, case):
    """Whatever makes a cloud load balancer is deleted, and its load balancer awaited, before
    the cluster (or mesh) it runs in and the network under it."""
    declared = graphs[case]
    makers = [r for r in declared.created if teardown.load_balancer_type(r) == "LoadBalancer"]
    clusters = [r for r in declared.created if r.type in {*teardown.CLUSTERS, teardown.ASM}]
    if stack_config(case.removesuffix("-istio"))["meshstack:scenario"] == "local":
        # No cluster of ours, and no load balancer unless asked for (test_local_stack.py).
        assert not clusters and not makers
        return
    assert makers, "no LoadBalancer found: the check would be vacuous"
    for maker in makers:
        awaiter = teardown.load_balancer_awaited_by(declared, maker)
        assert awaiter is not None, maker.name
        assert awaiter == maker or declared.deleted_before(maker, awaiter), maker.name
        upstream = [c for c in clusters if c.urn in declared.upstream(maker)]
        assert upstream, maker.name
        # ASM's gateway reuses the stack's own CLB: Pulumi deletes it, cluster or not.
        waits = [maker] if awaiter.type == teardown.CLB else [maker, awaiter]
        for cluster in upstream:
            assert all(declared.deleted_before(w, cluster) for w in waits), cluster.name


def test_a_gateway_outside_a_namespace_of_the_stack_is_not_awaited():
    declared = run_stack("multi-primary-ambient")
    gateway = next(r for r in declared.of_type(teardown.GATEWAY) if "eastwest" in r.name)
    awaiter = teardown.load_balancer_awaited_by(declared, gateway)
    assert awaiter is not None and awaiter.type == teardown.NAMESPACE
    gateway.inputs["metadata"]["namespace"] = "default"
    assert teardown.load_balancer_awaited_by(declared, gateway) is None


@pytest.mark.parametrize("stack", ["local-ambient", "multi-primary-ambient"])
def test_gateway_api_crds_are_kept_on_a_shared_cluster_only(stack):
    """On `local` (a cluster the stack did not create, perhaps shared) destroy leaves the
    Gateway API CRDs: deleting one deletes every object of it, other people's routes too.
    On a cluster the stack created, they go with it."""
    crds = run_stack(stack).of_type(teardown.GATEWAY_API_CRDS)
    assert crds
    shared = stack_config(stack)["meshstack:scenario"] == "local"
    assert {c.options.retain_on_delete for c in crds} == {shared}
    # Kept objects are applied by one field manager, so that the next install adopts them.
    assert {c.options.transforms for c in crds} == {int(shared)}


def test_kept_gateway_api_objects_are_applied_by_one_field_manager():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"}
    props = {**crd, "metadata": {"name": "x", "annotations": {"a": "b"}}}
    args = pulumi.ResourceTransformArgs(
        True,
        "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        "x",
        props,
        pulumi.ResourceOptions(),
    )
    result = gateway_api.stable_field_manager(args)
    assert result is not None
    metadata = result.props["metadata"]
    assert isinstance(metadata, dict)
    assert metadata["annotations"] == {
        "a": "b",
        "pulumi.com/patchFieldManager": "meshstack-gateway-api",
    }
    assert props["metadata"]["annotations"] == {"a": "b"}  # the input is left as it was
    component = pulumi.ResourceTransformArgs(
        False, teardown.GATEWAY_API_CRDS, "crds", {"file": "f"}, pulumi.ResourceOptions()
    )
    assert gateway_api.stable_field_manager(component) is None


def test_istios_crds_are_kept_on_uninstall_and_the_page_says_how_to_remove_them(helm):
    releases = [
        charts.Release.of(r.inputs) for r in run_stack("local").of_type(charts.RELEASE_TYPE)
    ]
    [base] = [r for r in releases if r.chart == "base"]
    objects = rendered(base)
    source = charts.chart_source(base.chart, versions.ISTIO)
    assert not (source / "crds").exists()
    shipped = [
        d for d in yaml.safe_load_all((source / "files" / "crd-all.gen.yaml").read_text()) if d
    ]
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    assert len(crds) == len(shipped) == 15
    assert {c["metadata"]["annotations"]["helm.sh/resource-policy"] for c in crds} == {"keep"}
    assert all(c["metadata"]["name"].endswith(".istio.io") for c in crds)
    page = PAGE.read_text()
    assert f"Istio's {len(crds)} CustomResourceDefinitions" in page
    assert "kubectl get crd -o name | grep --color=never 'istio.io' | xargs kubectl delete" in page
    assert f"meta.helm.sh/release-name: {base.name}" in page
    assert f"meta.helm.sh/release-namespace: {base.namespace}" in page
