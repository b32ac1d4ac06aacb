"""`multi-mesh` (issue #33 item 2): two meshes, each with its own root CA and trust domain,
federated through a gateway (docs/stacks/multi-mesh.md).

Each mesh is assembled as a multi-cluster mesh of its own (stacks/scenarios/assembly.py) on
its clusters' cloud floors (multi_cluster.py), under its own root; each istiod trusts the
other mesh's root for the other's trust domain only (meshConfig.caCertificates). Both run
Istio's helloworld in the same namespace; the exporter exposes its own through a federation
gateway that admits one service account of the importer (components/meshstack/istio/
federation.py), and the importer's checks prove who gets in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi

from meshstack.apps.hello_world import (
    APP,
    SAMPLE_ANSWER,
    SAMPLE_PATH,
    SERVICE_PORT,
    HelloWorld,
    responders_check,
)
from meshstack.istio.federation import (
    FederatedService,
    FederatedServiceArgs,
    FederationGateway,
    FederationGatewayArgs,
    exported_host,
    principal,
)
from meshstack.istio.trust import SharedRootOfTrust, SharedRootOfTrustArgs
from meshstack.verify.checks import AnswerClass, Check, Expect
from meshstack.verify.mesh_check import MeshCheck
from stacks.config.multi_cluster import topology_of
from stacks.config.multi_mesh import UNROOTED_ACCOUNT, MultiMeshStack
from stacks.scenarios.assembly import AssembledMesh, assemble_mesh, trust_outputs
from stacks.scenarios.mesh import istio_release
from stacks.scenarios.multi_cluster import (
    BuiltCluster,
    CloudFloor,
    built_clusters,
    hello_world_in,
    injection_ready,
    mesh_cluster,
)
from stacks.scenarios.tags import stack_tags
from stacks.scenarios.verification import mesh_check, verified_output

# The callers' proxies answer DNS for ServiceEntry hosts (the exported host has no DNS record
# of its own): istio-cni redirects a pod's DNS to its agent when the proxy's environment has
# ISTIO_META_DNS_CAPTURE (istio/istio release-1.31 cni/pkg/plugin/sidecar_redirect.go:293),
# which the injector takes from the pod's proxy.istio.io/config (pkg/kube/inject/webhook.go
# :1211), and istiod gives the ServiceEntry an address (PILOT_ENABLE_IP_AUTOALLOCATE, default
# true: pilot/pkg/features/pilot.go:184).
DNS_CAPTURE = {"ISTIO_META_DNS_CAPTURE": "true"}
# A proxy that does not take istiod's pushed bundle trusts its own mesh's root only
# (values.py MULTI_ROOT_PROXY_METADATA): what a caller without the imported root is.
WITHOUT_IMPORTED_ROOTS = {**DNS_CAPTURE, "PROXY_CONFIG_XDS_AGENT": "false"}
# Envoy's 503 when the upstream certificate does not verify: "... transport failure reason:
# TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED" (istio/istio
# #34920). A wrong SAN also ends so, which the allowed caller's 200 rules out (the same
# DestinationRule).
UNTRUSTED = r"CERTIFICATE_VERIFY_FAILED"
DENIED = "RBAC: access denied"


def proxy_config(metadata: dict[str, str]) -> dict[str, str]:
    """A pod's own proxy config (merged over the mesh's defaultConfig)."""
    return {"proxy.istio.io/config": json.dumps({"proxyMetadata": metadata}, sort_keys=True)}


def deploy(config: MultiMeshStack) -> dict[str, pulumi.Input[Any]]:
    tags = stack_tags()
    node_agents = config.istio.cni_enabled(serverless=False)
    floors = {
        m.name: CloudFloor(
            m.name,
            m.clusters,
            topology_of(m.clusters),
            config.alicloud,
            config.gcp,
            config.security,
        )
        for m in config.meshes
    }
    built = {name: built_clusters(floor, tags) for name, floor in floors.items()}
    # Every root first: each mesh's istiods import the other's.
    trusts = {
        m.name: SharedRootOfTrust(
            f"{m.name}-ca",
            SharedRootOfTrustArgs(
                clusters=floors[m.name].topology.primaries, roots=[m.name], signing_root=m.name
            ),
        )
        for m in config.meshes
    }
    meshes: dict[str, AssembledMesh] = {}
    for mesh in config.meshes:
        imported = tuple(
            {"pem": trusts[other.name].root_cert_pem, "trustDomains": [other.trust_domain]}
            for other in config.meshes
            if other is not mesh
        )
        spans_clouds = len({c.cloud for c in mesh.clusters}) > 1
        meshes[mesh.name] = assemble_mesh(
            floors[mesh.name].topology,
            {
                c.name: mesh_cluster(
                    c,
                    built[mesh.name][c.name],
                    spans_clouds=spans_clouds,
                    node_agents=node_agents,
                    trust_domain=mesh.trust_domain,
                    imported_roots=imported,
                )
                for c in mesh.clusters
            },
            config.istio,
            mesh.name,
            config.security,
            reader_tokens=config.membership.tokens,
            gate=config.verify.enabled,
            trust=trusts[mesh.name],
            prefix=mesh.name,
        )
    apps = {
        mesh.name: [
            hello_world_in(
                c.name,
                built[mesh.name][c.name].provider,
                sample=config.hello_world,
                istio=config.istio,
                security=config.security,
                ready=injection_ready(
                    c.name,
                    floors[mesh.name].topology,
                    meshes[mesh.name].control_planes,
                    meshes[mesh.name].gateways,
                    meshes[mesh.name].membership,
                ),
            )
            for c in mesh.clusters
        ]
        for mesh in config.meshes
    }
    exporter, importer = config.exporter, config.importer
    host = exported_host(APP, config.hello_world.namespace, exporter.name)
    federated = Federated(config, host, built, meshes, apps)
    gateway = _federation_gateway(federated)
    checks = _federated_calls(federated, gateway)
    every = [m for mesh in meshes.values() for m in _mesh_checks(mesh)]
    return {
        "meshes": {
            m.name: {
                "trustDomain": m.trust_domain,
                "clusters": [c.name for c in m.clusters],
                **trust_outputs(meshes[m.name]),
            }
            for m in config.meshes
        },
        "federation": {
            "exporter": exporter.name,
            "host": host,
            "gatewayAddress": gateway.address,
            "gatewayIdentity": gateway.identity,
            "admitted": principal(
                importer.trust_domain,
                config.hello_world.namespace,
                config.federation.allowed_account,
            ),
        },
        "kubeconfigs": pulumi.Output.secret(
            {c: b.kubeconfig for clusters in built.values() for c, b in clusters.items()}
        ),
        **verified_output([*checks, *every]),
    }


def _mesh_checks(mesh: AssembledMesh) -> list[Any]:
    return [*(mesh.membership.synced.values() if mesh.membership else ()), *mesh.trust_checks]


@dataclass(frozen=True)
class Federated:
    """The two meshes as built, and the host the exporter's service is called by."""

    config: MultiMeshStack
    host: str
    built: dict[str, dict[str, BuiltCluster]]
    meshes: dict[str, AssembledMesh]
    apps: dict[str, list[HelloWorld]]


def _federation_gateway(federated: Federated) -> FederationGateway:
    """In the exporter's first cluster: the gateway, its routes and whom it admits."""
    config, built, meshes, apps = (
        federated.config,
        federated.built,
        federated.meshes,
        federated.apps,
    )
    exporter, importer = config.exporter, config.importer
    cluster = exporter.clusters[0].name
    control_plane = meshes[exporter.name].control_planes[cluster]
    return FederationGateway(
        f"{cluster}-federation",
        FederationGatewayArgs(
            provider=built[exporter.name][cluster].provider,
            namespace=control_plane.namespace.metadata.name,
            release=istio_release(config.istio, config.security),
            trust_domain=exporter.trust_domain,
            host=federated.host,
            service=APP,
            service_namespace=apps[exporter.name][0].namespace,
            service_port=SERVICE_PORT,
            service_selector={"app": APP},
            admitted=[
                principal(
                    importer.trust_domain,
                    config.hello_world.namespace,
                    config.federation.allowed_account,
                )
            ],
            port=config.federation.gateway_port,
        ),
        pulumi.ResourceOptions(depends_on=control_plane.ready),
    )


def _federated_calls(federated: Federated, gateway: FederationGateway) -> list[MeshCheck | None]:
    """From the importer's first cluster: the way to the exported host, then a check Job per
    caller. The allowed account gets the exporter's answer (and its own mesh's helloworld of
    the same name from its own clusters); another account gets 403 from the gateway; a
    caller whose proxy lacks the imported root fails the TLS handshake."""
    config, host, built, apps = federated.config, federated.host, federated.built, federated.apps
    exporter, importer = config.exporter, config.importer
    cluster = importer.clusters[0].name
    provider = built[importer.name][cluster].provider
    control_plane = federated.meshes[importer.name].control_planes[cluster]
    namespace = apps[importer.name][0].namespace
    way = FederatedService(
        f"{cluster}-federated-{exporter.name}",
        FederatedServiceArgs(
            provider=provider,
            namespace=namespace,
            host=host,
            port=SERVICE_PORT,
            gateway_address=gateway.address,
            gateway_port=config.federation.gateway_port,
            gateway_identity=gateway.identity,
        ),
        pulumi.ResourceOptions(depends_on=control_plane.ready),
    )
    url = f"http://{host}{SAMPLE_PATH}"
    samples = config.verify.samples
    exporting = [c.name for c in exporter.clusters]
    answered = Check(
        name=f"{host} answers from {exporter.name} ({', '.join(exporting)})",
        url=url,
        classes=(AnswerClass("responder", status=200, body=SAMPLE_ANSWER),),
        expect=Expect(only=tuple(exporting)),
        samples=samples,
    )
    denied = Check(
        name=f"{exporter.name}'s gateway refuses another account of {importer.name}: {DENIED}",
        url=url,
        classes=(AnswerClass("denied", status=403, body=re.escape(DENIED)),),
        expect=Expect(only=("denied",)),
        samples=samples,
    )
    untrusted = Check(
        name=f"without {exporter.name}'s root the call fails (the gateway is not trusted)",
        url=url,
        classes=(AnswerClass("untrusted", status=503, body=UNTRUSTED),),
        expect=Expect(only=("untrusted",)),
        samples=samples,
    )
    local = responders_check(
        config.hello_world.namespace, [c.name for c in importer.clusters], samples
    )
    callers = {
        config.federation.allowed_account: ([answered, local], DNS_CAPTURE),
        config.federation.other_account: ([denied], DNS_CAPTURE),
        UNROOTED_ACCOUNT: ([untrusted], WITHOUT_IMPORTED_ROOTS),
    }
    after = [way, gateway, *apps[exporter.name], *apps[importer.name]]
    return [
        mesh_check(
            f"{cluster}-{account}-check",
            config.verify,
            provider=provider,
            namespace=namespace,
            job_name=account,
            checks=checks,
            after=after,
            in_mesh=True,
            revision=config.istio.revision,
            pod_annotations=proxy_config(metadata),
        )
        for account, (checks, metadata) in callers.items()
    ]
