"""Pure builders of Helm values for Istio's charts (base, cni, istiod, gateway).

Keys are those of Istio's own charts (see the `values.yaml` of each chart), and only keys the
chart reads: tests/test_helm_releases.py renders every release with the real Helm and fails
on a key whose change or removal changes nothing. The gateway chart also has a strict values
schema.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from meshstack import versions

ServiceType = Literal["LoadBalancer", "NodePort", "ClusterIP"]
# Istio's default profile is the chart's own defaults: no `profile` value. The chart has a
# file per named profile (istiod `files/profile-<name>.yaml`: demo, ambient, remote, …) and
# fails the render on any other name, "default" included (`templates/zzz_profile.yaml`).
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class IstioRelease:
    """Which Istio, from where, with which images (default: the pinned release)."""

    version: str = versions.ISTIO
    """The Istio charts' version."""
    chart_repository: str = versions.ISTIO_CHART_REPOSITORY
    """Where the charts come from."""
    gateway_api_crds: str = versions.GATEWAY_API_CRDS
    """The Gateway API CRDs' manifest (a URL or a local file), where Gateway API is used."""
    hub: str = versions.ISTIO_HUB
    """The images' registry."""
    tag: str = versions.ISTIO
    """The images' tag."""
    image_pull_policy: str = "Always"
    """The images' pull policy (Always: images are named by tag; meshstack/hardening.py
    pull_policy)."""
    revision: str | None = None
    """The control plane's revision; none: the default one."""
    network_policies: bool = False
    """The charts' own NetworkPolicies (`global.networkPolicy.enabled`: istiod, istio-cni,
    ztunnel and gateways admit their serving ports)."""
    tag_charts: str = versions.TAG_CHARTS
    """The directory of the revision-tag charts, one per version (versions.TAG_CHART)."""


@dataclass(frozen=True)
class MeshSettings:
    """Mesh-wide behaviour that lands in istiod's values."""

    # A profile of the istiod chart (demo, …) or DEFAULT_PROFILE (none).
    profile: str = "demo"
    mesh_id: str | None = None
    cluster_name: str | None = None
    network: str | None = None
    cni: bool = False
    outbound_traffic_policy: str = "ALLOW_ANY"
    # meshConfig.serviceSettings entries, e.g. cluster-local hosts.
    service_settings: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # meshConfig.extensionProviders entries, e.g. where traces go.
    extension_providers: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # istiod feature flags (`pilot.env`), e.g. WorkloadEntry auto-registration.
    pilot_env: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # This istiod also serves remote clusters (it manages their webhooks).
    external_istiod: bool = False
    # "sidecar", or "ambient": ztunnel on every node, istio-cni and istiod in the charts'
    # `ambient` profile (each chart's files/profile-ambient.yaml).
    data_plane: str = "sidecar"
    # The charts' platform profile (files/profile-platform-<name>.yaml: gke, k3d, k3s,
    # microk8s, minikube, openshift), for istio-cni's and ztunnel's host paths.
    platform: str | None = None
    # A plugged-in CA whose root bundle may change (trust.py): istiod accepts a new bundle
    # and pushes it to every proxy at once (MULTI_ROOT_ENV, MULTI_ROOT_PROXY_METADATA).
    multi_root: bool = False
    # Namespace tenancy: Services, VirtualServices and DestinationRules are visible in their
    # own namespace only unless they say otherwise (meshConfig.default*ExportTo ".").
    export_to_own_namespace: bool = False
    # meshConfig.discoverySelectors: the namespaces this istiod reads (none: every one).
    discovery_selectors: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    # The mesh's SPIFFE trust domain (meshConfig.trustDomain; none: the chart's
    # cluster.local): a tenant's own control plane, or each of federating meshes.
    trust_domain: str | None = None
    # global.istioNamespace: the istiod's own system namespace, when not istio-system (a
    # control plane of its own, istiod chart templates and injection templates read it).
    istio_namespace: str | None = None
    # Other meshes' roots, each trusted for its own trust domains only
    # (meshConfig.caCertificates: [{pem, trustDomains}]); they reach the proxies only with
    # multi_root (ISTIO_MULTIROOT_MESH in istiod, PROXY_CONFIG_XDS_AGENT in the proxies).
    imported_roots: tuple[Mapping[str, Any], ...] = ()

    @property
    def ambient(self) -> bool:
        return self.data_plane == "ambient"


# istiod: "mesh will support certificates signed by more than one trustAnchor"; without it a
# changed root-cert.pem is ignored ("Multi root is disabled, updating new ROOT-CA not
# supported"), with it accepted when one bundle is a subset of the other, then pushed to the
# proxies (istio/istio release-1.31 pilot/pkg/features/pilot.go:214, pilot/pkg/bootstrap/
# istio_ca.go:353-368, certcontroller.go:213-224, pilot/pkg/xds/pcds.go:35-69). Its panic in
# 1.23.0 (istio/istio#52803) was fixed by #52820, which release-1.31 has (server.go:308-312).
MULTI_ROOT_ENV = (("ISTIO_MULTIROOT_MESH", "true"),)
# Proxies: the agent takes that push (PCDS) and re-signs its workload certificate under the
# new bundle at once instead of at its next renewal (pilot/cmd/pilot-agent/options/
# options.go:124, pkg/istio-agent/xds_proxy.go:162-175, security/pkg/nodeagent/cache/
# secretcache.go:1120-1133). Istio's own rotation test sets both:
# tests/integration/security/cacert_rotation/main_test.go:62-75.
MULTI_ROOT_PROXY_METADATA = {"PROXY_CONFIG_XDS_AGENT": "true"}


def _global(release: IstioRelease) -> dict[str, Any]:
    """Images of the charts that run their own (istiod, cni); gateway pods are injected."""
    return {
        "hub": release.hub,
        "tag": release.tag,
        "imagePullPolicy": release.image_pull_policy,
        **_network_policy(release),
    }


def _network_policy(release: IstioRelease) -> dict[str, Any]:
    """The `global` key of every Istio chart that runs pods (templates/networkpolicy.yaml)."""
    return {"networkPolicy": {"enabled": True}} if release.network_policies else {}


def base_values(release: IstioRelease, *, remote: bool = False) -> dict[str, Any]:
    """`base` runs no image (CRDs, reader RBAC, the default validating webhook)."""
    values: dict[str, Any] = {"defaultRevision": release.revision} if release.revision else {}
    if remote:
        values["profile"] = "remote"
    return values


def _platform(values: dict[str, Any], mesh: MeshSettings) -> dict[str, Any]:
    if mesh.platform:
        values.setdefault("global", {})["platform"] = mesh.platform
    return values


def cni_values(release: IstioRelease, mesh: MeshSettings) -> dict[str, Any]:
    values: dict[str, Any] = {"global": _global(release)}
    if mesh.ambient:
        values["profile"] = "ambient"
    return _platform(values, mesh)


def ztunnel_values(release: IstioRelease, mesh: MeshSettings) -> dict[str, Any]:
    """The ztunnel chart keeps its image keys at the top level (values.yaml), not in
    `global`; the `ambient` profile sets the distroless variant Istio publishes."""
    values: dict[str, Any] = {
        "profile": "ambient",
        "hub": release.hub,
        "tag": release.tag,
        "imagePullPolicy": release.image_pull_policy,
    }
    if release.revision:
        values["revision"] = release.revision
    if mesh.cluster_name:
        values["multiCluster"] = {"clusterName": mesh.cluster_name}
    if mesh.network:
        values["network"] = mesh.network
    if release.network_policies:
        values["global"] = _network_policy(release)
    return _platform(values, mesh)


def _mesh_globals(mesh: MeshSettings) -> dict[str, Any]:
    """istiod's `global` keys of the mesh: its ID, this cluster's name and network, …"""
    global_values: dict[str, Any] = {}
    if mesh.mesh_id:
        global_values["meshID"] = mesh.mesh_id
    if mesh.cluster_name:
        global_values["multiCluster"] = {"clusterName": mesh.cluster_name}
    if mesh.network is not None:
        global_values["network"] = mesh.network
    if mesh.external_istiod:
        global_values["externalIstiod"] = True
    if mesh.istio_namespace:
        global_values["istioNamespace"] = mesh.istio_namespace
    return global_values


def _mesh_config(mesh: MeshSettings) -> dict[str, Any]:
    """istiod's meshConfig values (merged over the chart's mesh: templates/configmap.yaml)."""
    mesh_config: dict[str, Any] = {
        "outboundTrafficPolicy": {"mode": mesh.outbound_traffic_policy},
    }
    if mesh.service_settings:
        mesh_config["serviceSettings"] = list(mesh.service_settings)
    if mesh.extension_providers:
        mesh_config["extensionProviders"] = list(mesh.extension_providers)
    mesh_config.update(_scoping(mesh))
    if mesh.imported_roots:
        if not mesh.multi_root:
            raise ValueError("imported roots need multi_root: without it istiod ignores them")
        mesh_config["caCertificates"] = [dict(entry) for entry in mesh.imported_roots]
    if mesh.multi_root:
        mesh_config["defaultConfig"] = {"proxyMetadata": dict(MULTI_ROOT_PROXY_METADATA)}
    return mesh_config


def istiod_values(release: IstioRelease, mesh: MeshSettings) -> dict[str, Any]:
    global_values = {**_global(release), **_mesh_globals(mesh)}
    mesh_config = _mesh_config(mesh)
    # Only when on: a platform profile may turn the CNI on itself (explicit values win).
    pilot: dict[str, Any] = {"cni": {"enabled": True}} if mesh.cni else {}
    env = (*mesh.pilot_env, *(MULTI_ROOT_ENV if mesh.multi_root else ()))
    if env:
        pilot["env"] = dict(env)
    values: dict[str, Any] = {
        "global": global_values,
        "meshConfig": mesh_config,
        # istiod's container (templates/deployment.yaml); the chart already drops every
        # capability and runs it as 1337, non-root, read-only.
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if pilot:
        values["pilot"] = pilot
    if mesh.ambient:
        values["profile"] = "ambient"
    elif mesh.profile != DEFAULT_PROFILE:
        values["profile"] = mesh.profile
    if release.revision:
        values["revision"] = release.revision
    return _platform(values, mesh)


# istio/api mesh/v1alpha1/config.proto MeshConfig: default_service_export_to (31),
# default_virtual_service_export_to (32), default_destination_rule_export_to (33): "."
# is "Current Namespace"; unset, Istio uses "*" (every namespace).
EXPORT_TO_DEFAULTS = (
    "defaultServiceExportTo",
    "defaultVirtualServiceExportTo",
    "defaultDestinationRuleExportTo",
)


def _scoping(mesh: MeshSettings) -> dict[str, Any]:
    """What an istiod sees and who it is: exportTo defaults, discoverySelectors (istio/api
    config.proto discovery_selectors, 59: namespaces matching any selector), trustDomain."""
    scoping: dict[str, Any] = {}
    if mesh.export_to_own_namespace:
        scoping.update({key: ["."] for key in EXPORT_TO_DEFAULTS})
    if mesh.discovery_selectors:
        scoping["discoverySelectors"] = list(mesh.discovery_selectors)
    if mesh.trust_domain:
        scoping["trustDomain"] = mesh.trust_domain
    return scoping


def tag_values(revision: str, tag: str, *, remote: str | None = None) -> dict[str, Any]:
    """The revision-tag chart (versions.TAG_CHART, the istiod chart's tag templates) for one
    tag: its webhook `istio-revision-tag-<tag>` calls `istiod-<revision>` and its Service
    `istiod-revision-tag-<tag>` selects that istiod (templates/revision-tags-*.yaml). In a
    remote cluster (`remote`: its injection path) the webhook calls that Service, the remote
    release's, on the path that names this cluster to the primary's istiod
    (revision-tags-mwc.yaml reads `istiodRemote.injectionPath`)."""
    values: dict[str, Any] = {"revision": revision, "revisionTags": [tag]}
    if remote:
        values["istiodRemote"] = {"injectionPath": remote}
    return values


def injection_path(cluster_name: str, network: str) -> str:
    """Where a remote cluster's injection webhooks call the istiod that serves it."""
    return f"/inject/cluster/{cluster_name}/net/{network}"


def remote_injection_path(mesh: MeshSettings) -> str:
    """Where a remote cluster's injection webhooks call its primary's istiod."""
    if not (mesh.cluster_name and mesh.network):
        raise ValueError("a remote cluster needs its cluster name and network")
    return injection_path(mesh.cluster_name, mesh.network)


def remote_istiod_values(
    release: IstioRelease, mesh: MeshSettings, discovery_address: str
) -> dict[str, Any]:
    """The istiod chart in `remote` profile: no istiod, only the webhooks and the `istiod`
    Service pointing at the primary's istiod through its east-west gateway
    (`discovery_address`). The remote templates read nothing else: images, mesh config,
    mesh ID, cluster name and network come from the primary's istiod (whose remote secret
    names this cluster) and from istio-system's network label. No `global.configCluster`:
    that is the external control plane's config cluster, which this package does not build.
    """
    values: dict[str, Any] = {
        "profile": "remote",
        "global": {"remotePilotAddress": discovery_address},
        "istiodRemote": {"injectionPath": remote_injection_path(mesh)},
    }
    if release.revision:
        values["revision"] = release.revision
    return values


def gateway_values(
    release: IstioRelease,
    service_type: ServiceType,
    labels: dict[str, str] | None = None,
    network: str | None = None,
    service: Mapping[str, Any] | None = None,
    *,
    pod_annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Values for the `gateway` chart. Its selector label `istio` comes from the release name;
    `service` adds keys of the chart's `service` block (annotations, loadBalancerIP, ports).
    No image: the pods run `image: auto`, which istiod's injector replaces with the mesh's
    proxy image (hub and tag of istiod's release)."""
    values: dict[str, Any] = {
        "service": {"type": service_type, **(service or {})},
        "imagePullPolicy": release.image_pull_policy,
    }
    if release.revision:
        values["revision"] = release.revision
    if labels:
        values["labels"] = dict(labels)
    if pod_annotations:
        values["podAnnotations"] = dict(pod_annotations)
    if network:
        values["networkGateway"] = network
    if release.network_policies:
        values["global"] = _network_policy(release)
    return values
