"""The policy pack (policy/mesh_policies.py): each rule passes and fails where it should, and
every stack's offline evaluation passes every rule."""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from policy import mesh_policies
from tools.offline.engine import Declared, OfflineEngine, Resource
from tools.stack_file import REPO_ROOT, committed_stacks

POLICIES = {p.name: p for p in mesh_policies.POLICIES}
KUBE_PROVIDER = PolicyProviderResource(
    "pulumi:providers:kubernetes", {}, "urn:pulumi:s::p::pulumi:providers:kubernetes::c1", "c1"
)


def violations(
    rule: str,
    resource_type: str,
    props: Mapping[str, Any],
    *,
    stack: str = "prod",
    secret_outputs: tuple[str, ...] = (),
    provider: PolicyProviderResource | None = KUBE_PROVIDER,
    config: Mapping[str, Any] | None = None,
    protect: bool = False,
) -> list[str]:
    args = ResourceValidationArgs(
        resource_type,
        props,
        f"urn:pulumi:{stack}::meshstack::{resource_type}::r",
        "r",
        PolicyResourceOptions(
            protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), list(secret_outputs), None
        ),
        provider,
        config,
    )
    return _run(POLICIES[rule], args)


def _run(policy: Any, args: ResourceValidationArgs) -> list[str]:
    assert isinstance(policy, ResourceValidationPolicy)
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


SG_RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule"
FIREWALL = "gcp:compute/firewall:Firewall"
HELM = "kubernetes:helm.sh/v3:Release"
PEER_AUTHN = "kubernetes:security.istio.io/v1:PeerAuthentication"
MESH = "alicloud:servicemesh/serviceMesh:ServiceMesh"


def _sg(cidr: str, protocol: str = "tcp", ports: str = "443/443", kind: str = "ingress"):
    return {"type": kind, "cidrIp": cidr, "ipProtocol": protocol, "portRange": ports}


def _deployment(image: str) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
    }


# (rule, resource type, props, keyword arguments) that must pass, and that must fail.
PASSING = [
    ("no-world-open-ingress", SG_RULE, _sg("0.0.0.0/0", ports="80/80"), {}),
    ("no-world-open-ingress", SG_RULE, _sg("192.168.0.0/16", "all", "-1/-1"), {}),
    ("no-world-open-ingress", SG_RULE, _sg("0.0.0.0/0", "all", "-1/-1", kind="egress"), {}),
    (
        "no-world-open-ingress",
        FIREWALL,
        {"sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "tcp", "ports": ["80", "443"]}]},
        {},
    ),
    (
        "no-world-open-ingress",
        FIREWALL,
        {"sourceRanges": ["35.235.240.0/20"], "allows": [{"protocol": "tcp", "ports": ["22"]}]},
        {},
    ),
    (
        "credentials-secret-in-state",
        "pulumi:providers:kubernetes",
        {"kubeconfig": "apiVersion: v1"},
        {"secret_outputs": ("kubeconfig",)},
    ),
    ("credentials-secret-in-state", "pulumi:providers:kubernetes", {}, {}),
    (
        "credentials-secret-in-state",
        "kubernetes:core/v1:Secret",
        {},
        {"secret_outputs": ("data", "stringData")},
    ),
    ("mesh-mtls-not-disabled", PEER_AUTHN, {"spec": {"mtls": {"mode": "STRICT"}}}, {}),
    (
        "mesh-mtls-not-disabled",
        PEER_AUTHN,
        {"spec": {"selector": {"matchLabels": {"app": "legacy"}}, "mtls": {"mode": "DISABLE"}}},
        {},
    ),
    ("versions-pinned", HELM, {"chart": "istiod", "version": "1.30.3"}, {}),
    ("versions-pinned", HELM, {"chart": "./charts/local"}, {}),
    ("versions-pinned", MESH, {"version": "v1.26.3.110-g0fedcba9-aliyun"}, {}),
    ("versions-pinned", "kubernetes:apps/v1:Deployment", _deployment("nginx:1.29.1"), {}),
    (
        "versions-pinned",
        "kubernetes:apps/v1:Deployment",
        _deployment("registry.local:5000/app@sha256:" + "0" * 64),
        {},
    ),
    (
        "cluster-deletion-protection",
        "gcp:container/cluster:Cluster",
        {},  # the provider's default protects
        {},
    ),
    (
        "cluster-deletion-protection",
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        {"deletionProtection": False},
        {"stack": "dev-alice"},
    ),
    ("cluster-deletion-protection", MESH, {}, {"protect": True}),
    (
        "cluster-deletion-protection",
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        {"deletionProtection": False},
        {"stack": "lab", "config": {"throwawayStacks": ["lab"]}},
    ),
    ("explicit-kubernetes-provider", "kubernetes:core/v1:Namespace", {}, {}),
]
FAILING = [
    ("no-world-open-ingress", SG_RULE, _sg("0.0.0.0/0", ports="22/22"), {}, "tcp 22-22"),
    ("no-world-open-ingress", SG_RULE, _sg("::/0", "all", "-1/-1"), {}, "::/0"),
    ("no-world-open-ingress", SG_RULE, _sg("0.0.0.0/0", ports="80/443"), {}, "80-443"),
    (
        "no-world-open-ingress",
        FIREWALL,
        {"sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "tcp"}]},
        {},
        "all ports",
    ),
    (
        "credentials-secret-in-state",
        "pulumi:providers:kubernetes",
        {"kubeconfig": "apiVersion: v1"},
        {},
        "kubeconfig unencrypted",
    ),
    ("credentials-secret-in-state", MESH, {}, {}, "kubeconfig unencrypted"),
    (
        "mesh-mtls-not-disabled",
        PEER_AUTHN,
        {"metadata": {"namespace": "istio-system"}, "spec": {"mtls": {"mode": "DISABLE"}}},
        {},
        "'istio-system'",
    ),
    ("versions-pinned", HELM, {"chart": "istiod"}, {}, "version ''"),
    ("versions-pinned", HELM, {"chart": "istiod", "version": "~1.30"}, {}, "'~1.30'"),
    ("versions-pinned", MESH, {}, {}, "no version"),
    (
        "versions-pinned",
        "kubernetes:apps/v1:Deployment",
        _deployment("nginx:latest"),
        {},
        "'nginx:latest'",
    ),
    (
        "versions-pinned",
        "kubernetes:apps/v1:Deployment",
        _deployment("registry.local:5000/app"),
        {},
        "'registry.local:5000/app'",
    ),
    (
        "cluster-deletion-protection",
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        {},
        {},
        "stack 'prod'",
    ),
    (
        "cluster-deletion-protection",
        "gcp:container/cluster:Cluster",
        {"deletionProtection": False},
        {"stack": "dev-alice", "config": {"throwawayStacks": []}},
        "stack 'dev-alice'",
    ),
    ("cluster-deletion-protection", MESH, {}, {}, "asm.deletionProtection"),
    (
        "explicit-kubernetes-provider",
        "kubernetes:core/v1:Namespace",
        {},
        {
            "provider": PolicyProviderResource(
                "pulumi:providers:kubernetes", {}, "urn:x", "default_4_34_2"
            )
        },
        "default Kubernetes provider",
    ),
]


@pytest.mark.parametrize(("rule", "type_", "props", "kwargs"), PASSING)
def test_rule_passes(rule, type_, props, kwargs) -> None:
    assert violations(rule, type_, props, **kwargs) == []


@pytest.mark.parametrize(("rule", "type_", "props", "kwargs", "says"), FAILING)
def test_rule_fails_with_a_message_naming_the_problem(rule, type_, props, kwargs, says) -> None:
    found = violations(rule, type_, props, **kwargs)
    assert len(found) == 1 and says in found[0], found


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    assert {case[0] for case in PASSING} == set(POLICIES) == {case[0] for case in FAILING}


def _as_policy_args(declared: Declared, resource: Resource) -> ResourceValidationArgs:
    """What the engine would hand the pack for one recorded resource."""
    options = resource.options
    provider = None
    if resource.provider:
        target = declared.by_urn(resource.provider_urn)
        provider = PolicyProviderResource(target.type, target.inputs, target.urn, target.name)
    return ResourceValidationArgs(
        resource.type,
        resource.inputs,
        resource.urn,
        resource.name,
        PolicyResourceOptions(
            options.protect,
            list(options.ignore_changes),
            options.delete_before_replace,
            [],
            # No rule reads timeouts (the program sets none; Helm's is a Release input).
            PolicyCustomTimeouts(0, 0, 0),
            list(options.additional_secret_outputs),
            resource.parent or None,
        ),
        provider,
    )


@pytest.mark.parametrize("stack", committed_stacks())
def test_every_stack_passes_every_policy(stack: str) -> None:
    declared = OfflineEngine(stack).run(stack)
    found = [
        f"{policy.name}: {message}"
        for resource in declared
        if not resource.read
        for policy in mesh_policies.POLICIES
        for message in _run(policy, _as_policy_args(declared, resource))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("stack", "overrides", "resource_type"),
    [
        ("vm", {"cluster": {"deletionProtection": False}}, "gcp:container/cluster:Cluster"),
        ("two-cluster-retention", {"asm": {"deletionProtection": False}}, MESH),
    ],
)
def test_a_stack_that_breaks_a_rule_is_caught(
    stack: str, overrides: dict[str, Any], resource_type: str
) -> None:
    """The same run, with deletion protection off in a production stack."""
    declared = OfflineEngine(stack).run(stack, overrides)
    [resource] = declared.of_type(resource_type)
    found = _run(POLICIES["cluster-deletion-protection"], _as_policy_args(declared, resource))
    assert len(found) == 1 and f"stack {stack!r}" in found[0]


def test_the_pack_entry_point_builds_the_pack(monkeypatch) -> None:
    """policy/__main__.py as Pulumi runs it: the pack's directory first on sys.path. The
    PolicyPack constructor would start serving; record what it is given instead."""
    built: dict[str, Any] = {}
    monkeypatch.setattr("pulumi_policy.PolicyPack", lambda **kwargs: built.update(kwargs))
    monkeypatch.syspath_prepend(str(REPO_ROOT / "policy"))
    runpy.run_path(str(REPO_ROOT / "policy"), run_name="__main__")
    assert built["name"] == mesh_policies.PACK_NAME
    assert [p.name for p in built["policies"]] == list(POLICIES)
