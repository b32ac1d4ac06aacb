"""Invariants every stack keeps, checked on its recorded graph: first-deploy ordering, secrecy
of every sensitive value, stack files without plain-text secrets."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tools.offline.engine import Declared, OfflineEngine, Resource
from tools.stack_file import STACKS_DIR, committed_stacks, stack_config

CLUSTER_TYPES = {
    "alicloud:cs/managedKubernetes:ManagedKubernetes",
    "gcp:container/cluster:Cluster",
    "alicloud:servicemesh/serviceMesh:ServiceMesh",  # the ASM API server
}
ASM = "alicloud:servicemesh/serviceMesh:ServiceMesh"
HELM = "kubernetes:helm.sh/v3:Release"
# Input keys that hold credentials wherever they appear, and output names that do.
SENSITIVE_INPUT = re.compile(r"^(kubeconfig|stringData|data|secretData|\w*[pP]rivateKeyPem)$")
SENSITIVE_OUTPUT = re.compile(r"kubeconfig|token|private|password|secret", re.IGNORECASE)
# Every ignore_changes the program sets, by resource type (README "Re-runs" says why).
IGNORED_CHANGES = {
    "alicloud:cs/managedKubernetes:ManagedKubernetes": {
        "addons",
        "newNatGateway",
        "slbInternetEnabled",
    },
    # Membership is one AsmMember per cluster; the provider's list would detach every member
    # on any change (components/meshstack/alicloud/asm_api.py).
    "alicloud:servicemesh/serviceMesh:ServiceMesh": {"clusterIds"},
}
SENSITIVE_CONFIG_KEY = re.compile(r"password|secret|token|accesskey|privatekey|credential", re.I)


def _evaluate(stack: str) -> Declared:
    return OfflineEngine(stack).run(stack)


def _charts(declared: Declared, chart: str) -> list[Resource]:
    return [r for r in declared.of_type(HELM) if r.inputs.get("chart") == chart]


@pytest.mark.parametrize("stack", committed_stacks())
def test_kubernetes_providers_wait_for_their_cluster(stack: str) -> None:
    declared = _evaluate(stack)
    clusters = {r.urn for r in declared if r.type in CLUSTER_TYPES}
    providers = declared.of_type("pulumi:providers:kubernetes")
    assert providers
    if not clusters:  # `local` deploys onto a cluster that exists already
        assert stack_config(stack)["meshstack:scenario"] == "local"
        return
    for provider in providers:
        assert declared.upstream(provider) & clusters, provider.name


NODE_POOLS = {"alicloud:cs/nodePool:NodePool", "gcp:container/nodePool:NodePool"}
# What runs pods: workloads, Jobs, and every chart but Istio's `base` (CRDs, webhooks,
# service accounts: no pod) and istiod in `remote` profile (webhooks only: the chart's
# templates/deployment.yaml needs istiodRemote.enabled off; tests/test_external_plane.py).
POD_RUNNERS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
}


def _runs_pods(resource: Resource) -> bool:
    if resource.type == HELM:
        values = resource.inputs.get("values") or {}
        return resource.inputs.get("chart") != "base" and values.get("profile") != "remote"
    return resource.type in POD_RUNNERS


@pytest.mark.parametrize("stack", committed_stacks())
def test_what_runs_pods_waits_for_nodes_and_nothing_else_does(stack: str) -> None:
    """Namespaces, CRDs, CA and remote Secrets are created while the nodes are; a pod would
    wait unscheduled (and a Helm release or a Job time out) without them."""
    declared = _evaluate(stack)
    pools = {r.urn: r for r in declared if r.type in NODE_POOLS}
    if not pools:  # `local`, and serverless clusters: no nodes of the stack's
        return
    # Each provider's cluster, and that cluster's node pool.
    clusters = {r.urn for r in declared if r.type in CLUSTER_TYPES and r.type != ASM}
    pool_of_cluster = {
        cluster: pool for pool in pools.values() for cluster in declared.upstream(pool) & clusters
    }
    pool_of_provider = {
        provider.urn: pool_of_cluster[cluster]
        for provider in declared.of_type("pulumi:providers:kubernetes")
        for cluster in declared.upstream(provider) & set(pool_of_cluster)
    }
    checked = 0
    for resource in declared.kube_objects() + declared.of_type(HELM):
        pool = pool_of_provider.get(resource.provider_urn)
        if pool is None:  # the ASM API server: no nodes
            continue
        waits = pool.urn in declared.upstream(resource)
        if _runs_pods(resource):
            assert waits, f"{resource.name} runs pods before {pool.name} exists"
            checked += 1
        elif resource.type in {"kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret"}:
            assert not waits, f"{resource.name} needs no nodes but waits for {pool.name}"
    assert checked


@pytest.mark.parametrize("stack", committed_stacks())
def test_istio_objects_wait_for_crds_and_mesh_workloads_for_istiod(stack: str) -> None:
    declared = _evaluate(stack)
    crd_sources = {r.urn for r in [*_charts(declared, "base"), *declared.of_type(ASM)]}
    control_planes = {r.urn for r in [*_charts(declared, "istiod"), *declared.of_type(ASM)]}
    assert crd_sources and control_planes
    for istio_object in declared.istio_objects():
        assert declared.upstream(istio_object) & crd_sources, istio_object.name
    mesh = declared.mesh_namespaces()
    # An ambient pod is in the mesh once ztunnel (which waits for istiod and the CNI) runs.
    ztunnels = {r.urn for r in _charts(declared, "ztunnel")}
    workloads = [
        (r, mesh[key])
        for r in declared.of_type("kubernetes:apps/v1:Deployment")
        if (key := (r.provider_urn, r.manifest["metadata"].get("namespace"))) in mesh
    ]
    assert workloads, "no workload in the mesh found: the check would be vacuous"
    for workload, data_plane in workloads:
        waits = declared.upstream(workload)
        assert waits & (ztunnels if data_plane == "ambient" else control_planes), workload.name
    # Gateway API objects (gateways, routes, waypoints) need their CRDs and istiod.
    crds = declared.of_type("kubernetes:yaml/v2:ConfigFile")
    for gateway_api in declared.gateway_api_objects():
        assert any(declared.depends_on(gateway_api, c) for c in crds), gateway_api.name
        assert declared.upstream(gateway_api) & control_planes, gateway_api.name


@pytest.mark.parametrize("stack", committed_stacks())
def test_istiod_installs_beside_the_cni_and_mesh_pods_wait_for_both(stack: str) -> None:
    """istiod is not injected (the CNI plugin leaves it alone) and tolerates the CNI's node
    taint (istiod chart, templates/deployment.yaml), so it never waits for istio-cni. What
    the CNI agent redirects must: sidecar-injected pods (their istio-validation init container
    fails until then), ambient pods, and ztunnel, ready once connected to the agent
    (istio/ztunnel src/inpod/workloadmanager.rs)."""
    declared = _evaluate(stack)
    cni = {r.provider_urn: r for r in _charts(declared, "cni")}
    if not cni:  # serverless clusters (no DaemonSets) and ASM: no istio-cni
        return
    for istiod in _charts(declared, "istiod"):
        if istiod.provider_urn in cni:
            assert not declared.depends_on(istiod, cni[istiod.provider_urn]), istiod.name
    mesh = declared.mesh_namespaces()
    pods = [
        r
        for r in declared.of_type("kubernetes:apps/v1:Deployment")
        + declared.of_type("kubernetes:batch/v1:Job")
        if (r.provider_urn, r.manifest["metadata"].get("namespace")) in mesh
        and r.provider_urn in cni
    ]
    ztunnels = [r for r in _charts(declared, "ztunnel") if r.provider_urn in cni]
    assert pods, "no pod in the mesh beside a CNI: the check would be vacuous"
    for waiter in [*pods, *ztunnels]:
        assert declared.depends_on(waiter, cni[waiter.provider_urn]), waiter.name


@pytest.mark.parametrize("stack", committed_stacks())
def test_helm_releases_are_atomic_and_their_uninstall_waits(stack: str) -> None:
    """Atomic: a failed install rolls back. It also makes the provider's uninstall wait (up to
    the timeout) until every object is gone, a LoadBalancer Service's cloud LB included."""
    declared = _evaluate(stack)
    releases = declared.of_type(HELM)
    assert releases or declared.of_type(ASM), "no release: the check would be vacuous"
    for release in releases:
        assert release.inputs["atomic"] is True, release.name
        assert release.inputs["cleanupOnFail"] is True, release.name
        assert 300 <= release.inputs["timeout"] <= 1800, release.name


@pytest.mark.parametrize("stack", committed_stacks())
def test_ignored_changes_are_the_documented_ones(stack: str) -> None:
    for resource in _evaluate(stack).created:
        expected = IGNORED_CHANGES.get(resource.type, set())
        assert set(resource.options.ignore_changes) == expected, resource.name


def _sensitive_paths(value: Any, path: str = "") -> list[str]:
    if not isinstance(value, dict):
        return []
    found = []
    for key, item in value.items():
        here = f"{path}.{key}" if path else key
        if SENSITIVE_INPUT.match(key) and item not in (None, "", {}):
            found.append(here)
        else:
            found += _sensitive_paths(item, here)
    return found


@pytest.mark.parametrize("stack", committed_stacks())
def test_every_sensitive_value_is_secret(stack: str) -> None:
    declared = _evaluate(stack)
    checked = 0
    for resource in declared:
        if resource.type in (HELM, "kubernetes:core/v1:ConfigMap"):
            continue  # chart values and ConfigMaps: `data` there is not a Secret's payload
        for path in _sensitive_paths(resource.inputs):
            checked += 1
            assert any(
                path == secret or path.startswith(f"{secret}.") for secret in resource.secret_inputs
            ), f"{resource.type} {resource.name}: {path} is not secret"
    # The local stack holds no credential: its provider reads what kubectl reads, outside the
    # state. Every other stack has some, or the check would be vacuous.
    is_local = stack_config(stack)["meshstack:scenario"] == "local"
    assert checked or is_local, "no sensitive input found: the check would be vacuous"
    sensitive_outputs = {k for k in declared.outputs if SENSITIVE_OUTPUT.search(k)}
    assert sensitive_outputs <= declared.secret_outputs


def _plain_secrets(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return []  # `pulumi config set --secret`: encrypted
        found = []
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if SENSITIVE_CONFIG_KEY.search(str(key)) and not isinstance(item, dict | list):
                found.append(here)
            found += _plain_secrets(item, here)
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _plain_secrets(item, f"{path}[{i}]")]
    if isinstance(value, str) and re.search(r"-----BEGIN|\bLTAI[0-9A-Za-z]{12,}|AIza", value):
        return [path]
    return []


@pytest.mark.parametrize("stack", committed_stacks())
def test_stack_files_hold_no_plain_text_secret(stack: str) -> None:
    document = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())
    assert _plain_secrets(document) == []


def test_the_plain_text_secret_check_can_fail() -> None:
    assert _plain_secrets({"config": {"a:token": "abc", "a:ok": {"secure": "v1:xyz"}}}) == [
        "config.a:token"
    ]
    assert _plain_secrets({"x": ["-----BEGIN PRIVATE KEY-----"]}) == ["x[0]"]
