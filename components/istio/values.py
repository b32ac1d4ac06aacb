"""Pure builders of Helm values for Istio's charts (base, cni, istiod, gateway).

Keys are those of Istio's own charts (see the `values.yaml` of each chart); the gateway chart
has a strict values schema, so only keys it declares may appear in `gateway_values`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

ServiceType = Literal["LoadBalancer", "NodePort", "ClusterIP"]


@dataclass(frozen=True)
class IstioRelease:
    """Which Istio, from where, with which images."""

    version: str
    chart_repository: str
    hub: str
    tag: str
    image_pull_policy: str = "IfNotPresent"
    revision: str | None = None


@dataclass(frozen=True)
class MeshSettings:
    """Mesh-wide behaviour that lands in istiod's values."""

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


def _global(release: IstioRelease) -> dict[str, Any]:
    return {
        "hub": release.hub,
        "tag": release.tag,
        "imagePullPolicy": release.image_pull_policy,
    }


def base_values(release: IstioRelease, *, remote: bool = False) -> dict[str, Any]:
    """`base` runs no image (CRDs, reader RBAC, the default validating webhook)."""
    values: dict[str, Any] = {"defaultRevision": release.revision} if release.revision else {}
    if remote:
        values["profile"] = "remote"
    return values


def cni_values(release: IstioRelease) -> dict[str, Any]:
    return {"global": _global(release)}


def istiod_values(release: IstioRelease, mesh: MeshSettings) -> dict[str, Any]:
    global_values = _global(release)
    if mesh.mesh_id:
        global_values["meshID"] = mesh.mesh_id
    if mesh.cluster_name:
        global_values["multiCluster"] = {"clusterName": mesh.cluster_name}
    if mesh.network is not None:
        global_values["network"] = mesh.network
    if mesh.external_istiod:
        global_values["externalIstiod"] = True
    mesh_config: dict[str, Any] = {
        "outboundTrafficPolicy": {"mode": mesh.outbound_traffic_policy},
    }
    if mesh.service_settings:
        mesh_config["serviceSettings"] = list(mesh.service_settings)
    if mesh.extension_providers:
        mesh_config["extensionProviders"] = list(mesh.extension_providers)
    pilot: dict[str, Any] = {"cni": {"enabled": mesh.cni}}
    if mesh.pilot_env:
        pilot["env"] = dict(mesh.pilot_env)
    values: dict[str, Any] = {
        "profile": mesh.profile,
        "global": global_values,
        "meshConfig": mesh_config,
        "pilot": pilot,
    }
    if release.revision:
        values["revision"] = release.revision
    return values


def injection_path(cluster_name: str, network: str) -> str:
    """Where a remote cluster's injection webhook calls its primary's istiod."""
    return f"/inject/cluster/{cluster_name}/net/{network}"


def remote_istiod_values(
    release: IstioRelease, mesh: MeshSettings, discovery_address: str
) -> dict[str, Any]:
    """The istiod chart in `remote` profile: no istiod, webhooks and config pointing at the
    primary's istiod through its east-west gateway (`discovery_address`)."""
    if not (mesh.cluster_name and mesh.network):
        raise ValueError("a remote cluster needs its cluster name and network")
    values = istiod_values(release, replace(mesh, profile="remote", external_istiod=False))
    values["global"] |= {"remotePilotAddress": discovery_address, "configCluster": True}
    values["istiodRemote"] = {"injectionPath": injection_path(mesh.cluster_name, mesh.network)}
    return values


def gateway_values(
    release: IstioRelease,
    service_type: ServiceType,
    labels: dict[str, str] | None = None,
    network: str | None = None,
    service: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Values for the `gateway` chart. Its selector label `istio` comes from the release name;
    `service` adds keys of the chart's `service` block (annotations, loadBalancerIP, ports)."""
    values: dict[str, Any] = {
        "service": {"type": service_type, **(service or {})},
        # The chart injects the proxy (`image: auto`); pin it to the mesh's images anyway.
        "global": {"hub": release.hub, "tag": release.tag},
        "imagePullPolicy": release.image_pull_policy,
    }
    if release.revision:
        values["revision"] = release.revision
    if labels:
        values["labels"] = dict(labels)
    if network:
        values["networkGateway"] = network
    return values
