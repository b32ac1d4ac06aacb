"""One Istio mesh over a topology and built clusters: the one place a mesh is assembled.

A shared root of trust (an intermediate CA per primary), a control plane per cluster
(primaries first: a remote needs its primary's east-west gateway), east-west gateways where
the topology needs them, and the membership (which istiod reads which API server). The
multi-cluster scenario, the self-managed two-cluster mesh and the VM's cluster all build
their mesh here; what differs between them is data: the topology and each cluster's
MeshCluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.namespace import revision_annotation
from meshstack.istio.control_plane import ControlPlaneArgs, IstioControlPlane, RemoteOf
from meshstack.istio.eastwest import EastWestGateway, EastWestGatewayArgs
from meshstack.istio.membership import MemberCluster, MeshMembership, MeshMembershipArgs
from meshstack.istio.topology import MeshTopology, ReaderTokens
from meshstack.istio.trust import SharedRootOfTrust, SharedRootOfTrustArgs, expiring
from meshstack.istio.trust_check import TrustCheck, TrustCheckArgs
from meshstack.istio.trust_names import DEFAULT_ROOT
from stacks.config import IstioConfig, SecurityConfig
from stacks.config.fields import PROJECT
from stacks.config.revisions import DEFAULT_TAG
from stacks.config.trust import TrustConfig
from stacks.scenarios.mesh import control_plane_args, istio_release


@dataclass(frozen=True)
class MeshCluster:
    """A built cluster, as the mesh needs it, and the scenario's choices for it."""

    provider: k8s.Provider
    # Its API server as readers on the same site see it (e.g. a VPC endpoint), its CA
    # (base64 PEM), and where other sites reach it (None: `server` from everywhere).
    server: pulumi.Input[str] | None = None
    certificate_authority: pulumi.Input[str] | None = None
    site: str = ""
    public_server: pulumi.Input[str] | None = None
    # What pods need to be scheduled (a node pool).
    nodes: Sequence[pulumi.Resource] = ()
    # An ingress gateway in this cluster (primaries only).
    ingress: bool = True
    # More MeshSettings fields the scenario sets (e.g. pilot_env, service_settings).
    mesh_settings: Mapping[str, Any] = field(default_factory=dict)
    # The east-west gateway: cloud-specific Service annotations, a reserved address, and the
    # user's choice (None: where the topology needs one).
    gateway_annotations: Mapping[str, str] = field(default_factory=dict)
    gateway_address: pulumi.Input[str] | None = None
    eastwest_gateway: bool | None = None


@dataclass(frozen=True)
class AssembledMesh:
    trust: SharedRootOfTrust
    control_planes: dict[str, IstioControlPlane]
    gateways: dict[str, EastWestGateway]
    # None for a single cluster.
    membership: MeshMembership | None
    # The gates of a root rotation, one per cluster (none with the one default root).
    trust_checks: tuple[TrustCheck, ...] = ()
    # When each certificate of the trust ends; fails `up` when one is close (trust.py).
    trust_valid_until: pulumi.Output[dict[str, str]] | None = None


def assemble_mesh(
    topology: MeshTopology,
    clusters: Mapping[str, MeshCluster],
    istio: IstioConfig,
    mesh_id: str,
    security: SecurityConfig,
    *,
    reader_tokens: ReaderTokens | None = None,
    gate: bool = False,
    trust_config: TrustConfig | None = None,
    trust: SharedRootOfTrust | None = None,
    prefix: str | None = None,
) -> AssembledMesh:
    """`gate`: each istiod reading others is checked to have synced them (verify.enabled).
    `trust`: a root of trust made by the caller (one mesh of several: each mesh's
    istiods import the others' roots, so every root exists before any mesh); `prefix`: the
    name of this mesh among several in one stack (its membership `<prefix>-membership`, and
    `<cluster>-<role>` names even for one cluster)."""

    # Resource names: `<cluster>-<role>` in a mesh of several clusters, `<role>` for one.
    def named(cluster: str, role: str) -> str:
        return role if len(topology.members) == 1 and prefix is None else f"{cluster}-{role}"

    release = istio_release(istio, security)
    ambient = istio.data_plane == "ambient"
    # Ambient across networks (Beta since Istio 1.29) is off in istiod unless asked for
    # (pilot/pkg/features/ambient.go AMBIENT_ENABLE_MULTI_NETWORK, default false). Waypoints
    # then reach endpoints on other networks (AMBIENT_ENABLE_MULTI_NETWORK_WAYPOINT, default
    # true); ingress gateways only with AMBIENT_ENABLE_MULTI_NETWORK_INGRESS (default false in
    # release-1.31's code, whatever releasenotes/notes/ambient-ingress-remotes.yaml says).
    multi_network = ambient and topology.multi_network
    ambient_env = (
        (("AMBIENT_ENABLE_MULTI_NETWORK", "true"), ("AMBIENT_ENABLE_MULTI_NETWORK_INGRESS", "true"))
        if multi_network
        else ()
    )
    trust_config = trust_config or TrustConfig()
    trust = trust or SharedRootOfTrust(
        "mesh-ca",
        SharedRootOfTrustArgs(
            clusters=topology.primaries,
            roots=trust_config.roots,
            signing_root=trust_config.signing,
            renew_before_hours=trust_config.renew_before_hours,
        ),
    )
    control_planes: dict[str, IstioControlPlane] = {}
    gateways: dict[str, EastWestGateway] = {}
    for member in sorted(topology.members, key=lambda m: m.role != "primary"):
        name, cluster = member.name, clusters[member.name]
        primary = member.role == "primary"
        args = control_plane_args(
            cluster.provider,
            istio,
            security,
            ingress=cluster.ingress and primary,
            ca_certificates=trust.cacerts[name] if primary else None,
            external_istiod=topology.external_istiod(name),
            mesh_id=mesh_id,
            cluster_name=name,
            network=member.network,
            **{
                **cluster.mesh_settings,
                "pilot_env": (*cluster.mesh_settings.get("pilot_env", ()), *ambient_env),
            },
        )
        args = replace(args, nodes=cluster.nodes)
        if member.primary is not None:
            args = _as_remote(args, _remote_of(member.primary, control_planes, gateways))
        control_planes[name] = IstioControlPlane(named(name, "istio"), args)
        if has_eastwest_gateway(topology, name, cluster.eastwest_gateway):
            gateways[name] = EastWestGateway(
                named(name, "eastwest"),
                EastWestGatewayArgs(
                    istio_version=release.version,
                    chart_repository=release.chart_repository,
                    revision=release.revision,
                    image_pull_policy=release.image_pull_policy,
                    network_policy=release.network_policies,
                    namespace=control_planes[name].namespace.metadata.name,
                    # Labelled with its network even on one network, as Istio's primary-remote
                    # install does (gen-eastwest-gateway.sh --network network1).
                    network=member.network,
                    service_annotations=cluster.gateway_annotations,
                    load_balancer_ip=cluster.gateway_address,
                    expose_istiod=topology.exposes_istiod(name) and not ambient,
                    # Each revision's istiod on its own SNI host; the gateway's pods follow
                    # the `default` tag, whose webhook injects them.
                    istiod_revisions=[str(r.revision) for r in args.revisions],
                    pod_annotations=revision_annotation(args.tags.get(DEFAULT_TAG)),
                    expose_services=topology.exposes_services(name) and not ambient,
                    ambient=ambient,
                ),
                pulumi.ResourceOptions(
                    provider=cluster.provider, depends_on=[control_planes[name].istiod]
                ),
            )
    membership = None
    if len(topology.members) > 1:
        membership = MeshMembership(
            f"{prefix}-membership" if prefix else "membership",
            MeshMembershipArgs(
                reads=topology.remote_secrets(),
                members={name: _member(clusters[name], cp) for name, cp in control_planes.items()},
                reader_tokens=reader_tokens or ReaderTokens(),
                # Every revision's istiod reads the remote secrets: the gate asks each.
                gate={
                    name: (*cp.ready, *cp.istiods.values()) for name, cp in control_planes.items()
                }
                if gate
                else None,
            ),
        )
    checks = ()
    if trust_config.roots != [DEFAULT_ROOT]:
        checks = tuple(
            _trust_check(
                named(name, "trust-check"), name, clusters[name].provider, control_planes, trust
            )
            for name in control_planes
        )
    return AssembledMesh(
        trust,
        control_planes,
        gateways,
        membership,
        checks,
        valid_for(trust, trust_config.min_validity_hours),
    )


def _trust_check(
    resource_name: str,
    cluster: str,
    provider: k8s.Provider,
    control_planes: Mapping[str, IstioControlPlane],
    trust: SharedRootOfTrust,
) -> TrustCheck:
    """A remote cluster's roots come from its primary's istiod (which writes its ConfigMaps:
    pilot/pkg/serviceregistry/kube/controller/multicluster.go:299-334): it waits for every
    primary's CA and istiod."""
    control_plane = control_planes[cluster]
    serving = [cp for cp in control_planes.values() if cp.ca_secret is not None]
    return TrustCheck(
        resource_name,
        TrustCheckArgs(
            provider=provider,
            namespace=control_plane.namespace.metadata.name,
            cluster=cluster,
            expected_bundle=trust.root_cert_pem,
            after=[
                *(cp.ca_secret for cp in serving if cp.ca_secret is not None),
                *(cp.istiod for cp in serving),
                control_plane.istiod,
            ],
        ),
    )


def valid_for(trust: SharedRootOfTrust, min_hours: int) -> pulumi.Output[dict[str, str]]:
    """`trust.valid_until`, failing `up` (and preview, for certificates already created) when
    a certificate ends within `min_hours`: a stack output, so that the failure is the
    program's (the SDK re-raises a failed apply at the program's end: pulumi/runtime/
    stack.py run_pulumi_func)."""
    return trust.valid_until.apply(lambda ends: still_valid(ends, datetime.now(UTC), min_hours))


def still_valid(ends: dict[str, str], now: datetime, min_hours: int) -> dict[str, str]:
    late = expiring(ends, now, min_hours)
    if late:
        raise pulumi.RunError(
            f"{PROJECT}:trust.minValidityHours {min_hours}: {'; '.join(late)}. An "
            "intermediate is renewed by an `up` within trust.renewBeforeHours of its end; "
            "a root is rotated (docs/day-2.md, Root CA rotation)"
        )
    return ends


def trust_outputs(mesh: AssembledMesh) -> dict[str, Any]:
    """What the stack says about its roots: the bundle (PEM) and when each certificate ends."""
    return {"rootCertPem": mesh.trust.root_cert_pem, "trustValidUntil": mesh.trust_valid_until}


def has_eastwest_gateway(topology: MeshTopology, name: str, choice: bool | None) -> bool:
    """Where the topology needs one, unless the user said no (refused where it must exist)."""
    return choice is not False and topology.needs_eastwest_gateway(name)


def _member(cluster: MeshCluster, control_plane: IstioControlPlane) -> MemberCluster:
    assert cluster.server is not None and cluster.certificate_authority is not None
    return MemberCluster(
        provider=cluster.provider,
        server=cluster.server,
        certificate_authority=cluster.certificate_authority,
        base=control_plane.base,
        istiod_services=control_plane.istiod_services,
        site=cluster.site,
        public_server=cluster.public_server,
    )


def _remote_of(
    primary: str,
    control_planes: Mapping[str, IstioControlPlane],
    gateways: Mapping[str, EastWestGateway],
) -> RemoteOf:
    """A remote's link to its primary: the east-west gateway's address and, per revision,
    what answers that revision's injection (the primary's istiod of it, its check, the
    gateway that routes its SNI host)."""
    serving = control_planes[primary]
    gateway = gateways[primary]
    return RemoteOf(
        primary,
        gateway.address,
        serving={
            revision: (istiod, serving.checks[revision], gateway)
            for revision, istiod in serving.istiods.items()
        },
    )


def _as_remote(args: ControlPlaneArgs, remote: RemoteOf) -> ControlPlaneArgs:
    """A remote's control-plane args: no CA of its own, no gateways, no mesh-wide policy
    (its primary's applies), and the link to the primary."""
    return replace(args, remote=remote, mtls=None, egress_gateway=False)
