"""The order `pulumi destroy` deletes a stack in, as rules checked on its recorded graph.

Pulumi deletes a resource only once every resource that depends on it is gone (its provider,
parent, dependencies, deletedWith: `Declared.deleted_after`). Each rule names pairs of
resources that must go in that order for a teardown that leaves nothing behind, in the order
of docs/teardown.md: apps and Istio objects → gateways → istiod → istio-cni / ztunnel →
base → namespaces → the ASM gateway → memberships → the mesh → clusters → addresses and
networks. `tests/test_teardown.py` checks every stack's graph against them offline;
`tools/e2e/lifecycle.py` checks the real `pulumi destroy`'s engine events against the same
pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from tools.offline.engine import Declared, Resource

HELM = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
GATEWAY_API_CRDS = "kubernetes:yaml/v2:ConfigFile"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ASM_GATEWAY = "kubernetes:istio.alibabacloud.com/v1beta1:IstioGateway"
ASM_MEMBER = "pulumi-python:dynamic/asm:Member"
ASM = "alicloud:servicemesh/serviceMesh:ServiceMesh"
SNAT = "alicloud:vpc/snatEntry:SnatEntry"
CLB = "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer"
CLUSTERS = {"alicloud:cs/managedKubernetes:ManagedKubernetes", "gcp:container/cluster:Cluster"}
# The components holding a cloud network: VPC, subnets, NAT, public and reserved addresses.
NETWORKS = {"meshstack:index:AlicloudNetwork", "meshstack:index:GcpNetwork"}
POD_KINDS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
}
# Gateway classes istiod deploys a Service for (a waypoint's is ClusterIP).
LOAD_BALANCED_CLASSES = ("istio", "istio-east-west")

Pair = tuple[Resource, Resource]


@dataclass(frozen=True)
class Rule:
    """`first` must be deleted before `then`, for every pair `pairs` finds."""

    name: str
    why: str
    pairs: Callable[[Declared], Iterable[Pair]]


def charts(declared: Declared, *names: str) -> list[Resource]:
    return [r for r in declared.of_type(HELM) if r.inputs.get("chart") in names]


DEFAULT_TAG = "revision-tag-default"


def tags(declared: Declared) -> list[Resource]:
    """The revision-tag releases (a tag chart derived from istiod's: tools/charts.py)."""
    return [
        r
        for r in declared.of_type(HELM)
        if str(r.inputs.get("chart", "")).endswith("/revision-tags")
    ]


def own_control_planes(declared: Declared) -> dict[tuple[str, str], Resource]:
    """(provider, revision) → a tenant's own istiod: one in a system namespace of its own
    (`global.istioNamespace`, meshstack/istio/tenancy.py), which injects only the namespaces
    labelled with its revision and validates nothing of the package's. (An external
    control plane's istiod has a namespace of its own too, but no revision: it is the mesh's.)"""
    return {
        (r.provider_urn, values["revision"]): r
        for r in charts(declared, "istiod")
        if (values := r.inputs.get("values") or {}).get("global", {}).get("istioNamespace")
        and values.get("revision")
    }


def shared_istiods(declared: Declared) -> list[Resource]:
    own = {r.urn for r in own_control_planes(declared).values()}
    return [r for r in charts(declared, "istiod") if r.urn not in own]


def sidecar_control(declared: Declared) -> list[Resource]:
    """What the package's injected workloads and Istio objects wait for: istiod, or with
    revision tags the default tag's release (its webhooks, injection and the default
    validator, call that tag's revision), which goes before its istiod (the rule of tags).
    A tenant's own istiod is not it (own_control_planes)."""
    default = [t for t in tags(declared) if t.inputs["name"] == DEFAULT_TAG]
    return default or shared_istiods(declared)


def namespace_of(resource: Resource) -> str | None:
    if resource.type == HELM:
        return resource.inputs.get("namespace")
    return (resource.manifest.get("metadata") or {}).get("namespace")


def _same_cluster(firsts: Iterable[Resource], thens: Iterable[Resource]) -> Iterator[Pair]:
    thens = list(thens)
    for first in firsts:
        yield from ((first, then) for then in thens if then.provider_urn == first.provider_urn)


def _kubernetes(declared: Declared) -> list[Resource]:
    return [*declared.kube_objects(), *declared.of_type(HELM)]


def _revisions(declared: Declared) -> dict[tuple[str, str], str]:
    """(provider, namespace) → the revision its `istio.io/rev` label names."""
    return {
        (r.provider_urn, r.manifest["metadata"]["name"]): labels["istio.io/rev"]
        for r in declared.of_type(NAMESPACE)
        if "istio.io/rev" in (labels := r.manifest["metadata"].get("labels") or {})
    }


def _workloads_before_their_data_plane(declared: Declared) -> Iterator[Pair]:
    mesh, revisions = declared.mesh_namespaces(), _revisions(declared)
    own = own_control_planes(declared)
    for workload in declared.kube_objects():
        where = (workload.provider_urn, namespace_of(workload) or "")
        data_plane = mesh.get(where)
        if workload.type in POD_KINDS and data_plane:
            if data_plane == "ambient":
                control = charts(declared, "ztunnel")
            elif (workload.provider_urn, revisions.get(where, "")) in own:
                control = [own[workload.provider_urn, revisions[where]]]
            else:
                control = sidecar_control(declared)
            yield from _same_cluster([workload], control)


def _gateways(declared: Declared) -> list[Resource]:
    return [*charts(declared, "gateway"), *declared.of_type(GATEWAY)]


def _namespaced_before_their_namespace(declared: Declared) -> Iterator[Pair]:
    namespaces = {
        (r.provider_urn, r.manifest["metadata"]["name"]): r for r in declared.of_type(NAMESPACE)
    }
    for resource in _kubernetes(declared):
        namespace = namespaces.get((resource.provider_urn, namespace_of(resource) or ""))
        if namespace is not None:
            yield resource, namespace


def _clusters_of(declared: Declared, resource: Resource) -> list[Resource]:
    return [
        declared.by_urn(u)
        for u in declared.upstream(resource)
        if declared.by_urn(u).type in CLUSTERS
    ]


def _kubernetes_before_their_cluster(declared: Declared) -> Iterator[Pair]:
    for resource in [*_kubernetes(declared), *declared.of_type(ASM_MEMBER)]:
        yield from ((resource, cluster) for cluster in _clusters_of(declared, resource))


def _network_parts(declared: Declared, cluster: Resource) -> set[str]:
    """The network parts a cluster stands on: the subnets (vSwitches) and network its inputs
    name, and on Alibaba Cloud the SNAT entry of each of its vSwitches with the NAT gateway
    and public address it uses (serverless pods and nodes pull images through them)."""
    parts = {
        r.urn
        for network in declared.resources
        if network.type in NETWORKS
        for r in declared.descendants(network)
        if r.custom
    }
    stands_on = cluster.flowing_dependencies & parts
    for snat in declared.of_type(SNAT):
        if set(snat.property_dependencies.get("sourceVswitchId", [])) & stands_on:
            stands_on |= {snat.urn, *(snat.flowing_dependencies & parts)}
    return stands_on


def _clusters_before_their_network(declared: Declared) -> Iterator[Pair]:
    for cluster in [r for r in declared.created if r.type in CLUSTERS]:
        yield from ((cluster, declared.by_urn(u)) for u in _network_parts(declared, cluster))


def _asm(declared: Declared) -> Iterator[Pair]:
    """The gateway before the memberships of the clusters it runs in (its spec's clusterIds),
    every membership before the mesh."""
    members, meshes = declared.of_type(ASM_MEMBER), declared.of_type(ASM)
    for gateway in declared.of_type(ASM_GATEWAY):
        runs_in = set(gateway.property_dependencies.get("spec", []))
        for member in members:
            if set(member.property_dependencies.get("cluster_id", [])) & runs_in:
                yield gateway, member
    yield from ((member, mesh) for member in members for mesh in meshes)


RULES: tuple[Rule, ...] = (
    Rule(
        "workloads in the mesh before istiod (sidecars) or ztunnel (ambient)",
        "the reverse of their creation: a pod in the mesh keeps its proxy's control plane "
        "(or its node's ztunnel) until it is gone",
        _workloads_before_their_data_plane,
    ),
    Rule(
        "Istio objects before istiod",
        "the reverse of their creation (istiod's webhook validates them)",
        lambda d: _same_cluster(d.istio_objects(), sidecar_control(d)),
    ),
    Rule(
        "Gateway API objects before their CRDs",
        "deleting a CRD deletes every object of it at once, unawaited: a Gateway's load "
        "balancer would go unobserved",
        lambda d: _same_cluster(d.gateway_api_objects(), d.of_type(GATEWAY_API_CRDS)),
    ),
    Rule(
        "gateways before the default tag, each tag before its revision's istiod",
        "gateways follow the default tag; a tag's webhook injects the namespaces that name it "
        "and calls its revision's istiod (istio.revisions: istio-revision-tag-<tag>)",
        lambda d: [
            *_same_cluster(_gateways(d), [t for t in tags(d) if t.inputs["name"] == DEFAULT_TAG]),
            *(
                (tag, istiod)
                for tag, istiod in _same_cluster(tags(d), charts(d, "istiod"))
                # A tag chart is derived from its revision's istiod chart (tools/charts.py).
                if f"/{istiod.inputs.get('version')}/" in tag.inputs["chart"]
            ),
        ],
    ),
    Rule(
        "gateways before istiod",
        "a gateway's proxy is injected and configured by istiod until it is gone (with revision "
        "tags, through the default tag: the rule above)",
        lambda d: _same_cluster(_gateways(d), [] if tags(d) else shared_istiods(d)),
    ),
    Rule(
        "ztunnel before istiod and istio-cni",
        "Istio's ambient install order, reversed: base → istiod → istio-cni → ztunnel",
        lambda d: _same_cluster(charts(d, "ztunnel"), charts(d, "istiod", "cni")),
    ),
    Rule(
        "istiod, istio-cni and ztunnel before base",
        "base holds the CRDs, the service accounts and the default validator they use",
        lambda d: _same_cluster(charts(d, "istiod", "cni", "ztunnel"), charts(d, "base")),
    ),
    Rule(
        "what is in a namespace before the namespace",
        "a namespace's deletion deletes its objects behind Pulumi's back (Helm keeps its "
        "release records there); awaited, it is what waits for the load balancers of the "
        "Services istiod deploys for Gateway API gateways",
        _namespaced_before_their_namespace,
    ),
    Rule(
        "the ASM gateway before the memberships, memberships before the mesh",
        "ASM runs the gateway in a member cluster; a cluster leaves the mesh before it is deleted",
        _asm,
    ),
    Rule(
        "Kubernetes objects and memberships before their cluster",
        "their deletion needs the cluster's API server, and a load balancer's the cloud "
        "controller running in it",
        _kubernetes_before_their_cluster,
    ),
    Rule(
        "clusters before the network they stand on",
        "a network or subnet in use cannot be deleted, and a cluster being deleted still "
        "reaches the internet through its NAT; reserved addresses go after the gateway "
        "that holds one (its input)",
        _clusters_before_their_network,
    ),
)


def violations(declared: Declared) -> list[str]:
    """Every pair of a rule that `pulumi destroy` would not delete in order."""
    return [
        f"{rule.name}: {first.name} is not deleted before {then.name}"
        for rule in RULES
        for first, then in rule.pairs(declared)
        if not declared.deleted_before(first, then)
    ]


def load_balancer_type(resource: Resource) -> str | None:
    """The Service type a resource makes a cluster create, if it makes one."""
    if resource.type == HELM:
        return ((resource.inputs.get("values") or {}).get("service") or {}).get("type")
    spec = resource.manifest.get("spec") or {}
    if resource.type == "kubernetes:core/v1:Service":
        return spec.get("type")
    if resource.type == ASM_GATEWAY:  # ASM creates the Service in the member cluster
        return spec.get("serviceType")
    # istiod deploys a Service for gateways of its classes, LoadBalancer unless annotated
    # (waypoints: ClusterIP).
    if resource.type == GATEWAY and spec.get("gatewayClassName") in LOAD_BALANCED_CLASSES:
        annotations = resource.manifest["metadata"].get("annotations") or {}
        return annotations.get("networking.istio.io/service-type", "LoadBalancer")
    return None


def _awaited(resource: Resource) -> bool:
    annotations = (resource.manifest.get("metadata") or {}).get("annotations") or {}
    return annotations.get("pulumi.com/skipAwait") != "true"


def load_balancer_awaited_by(declared: Declared, maker: Resource) -> Resource | None:
    """The resource whose deletion `pulumi destroy` waits on until the cloud load balancer
    that `maker` makes is gone (the cloud controller holds a LoadBalancer Service behind its
    finalizer `service.kubernetes.io/load-balancer-cleanup` until then), or None.

    - A Helm release: its own uninstall, which waits when the release is atomic or awaited
      (pulumi-kubernetes provider/pkg/provider/helm_release.go Delete, `uninstall.Wait`)
      until a Get of every object it deleted answers NotFound (Helm v3.20.2
      pkg/kube/wait.go waitForDeletedResources).
    - A Service: its own deletion, awaited until the object is gone (pulumi-kubernetes
      provider/pkg/await/await.go Deletion, condition/deleted.go).
    - A Gateway API Gateway: the Namespace it is in. The Service istiod deploys for it is
      owned by the Gateway without `blockOwnerDeletion` (istiod chart
      files/kube-gateway.yaml), so even the provider's foreground deletion (its default:
      provider/pkg/metadata/overrides.go DeletionPropagation) returns before that Service
      is gone; a namespace is gone only once everything in it is, and Pulumi awaits it.
    - ASM's IstioGateway: the CLB its Service reuses, the stack's own resource, which Pulumi
      deletes (listeners and all) after the IstioGateway.
    """
    if maker.type == HELM:
        return maker if maker.inputs.get("atomic") or not maker.inputs.get("skipAwait") else None
    if maker.type == "kubernetes:core/v1:Service":
        return maker if _awaited(maker) else None
    if maker.type == GATEWAY:
        namespace = namespace_of(maker)
        return next(
            (
                n
                for n in declared.of_type(NAMESPACE)
                if n.provider_urn == maker.provider_urn
                and n.manifest["metadata"]["name"] == namespace
                and _awaited(n)
            ),
            None,
        )
    if maker.type == ASM_GATEWAY:
        return next(
            (
                declared.by_urn(u)
                for u in maker.property_dependencies.get("spec", [])
                if declared.by_urn(u).type == CLB
            ),
            None,
        )
    return None
