"""`external-control-plane` (issue #33, item 1): Istio's external control plane on GKE.

One VPC, a subnet and a GKE cluster per cluster of the config (the primary-remote stack's
floor). The external cluster runs the mesh's istiod and nothing of the mesh; every other
cluster is a remote of it, the config cluster first (components/meshstack/istio/
external.py). Checks, from an injected pod in every remote: the sample answers from every
remote (injected there, with config and a certificate of the external istiod: mTLS is
STRICT); the pod's own proxy holds a workload certificate of the mesh; a route written to
the config cluster only takes effect in every remote; and no remote runs an istiod.
"""

from __future__ import annotations

from typing import Any

import pulumi

from meshstack.apps.hello_world import (
    APP,
    SAMPLE_HEALTH_PATH,
    SAMPLE_PORT,
    HelloWorld,
    HelloWorldArgs,
    responders_check,
)
from meshstack.apps.namespace import injected_namespace
from meshstack.gcp.gke import GkeCluster
from meshstack.gcp.sdk import gcp
from meshstack.hardening import pinned
from meshstack.istio.eastwest import istiod_service
from meshstack.istio.external import ExternalControlPlane, ExternalControlPlaneArgs, PlaneCluster
from meshstack.istio.external_checks import (
    NoIstiod,
    NoIstiodArgs,
    certificate_check,
    pinned_route_specs,
    routed_check,
)
from meshstack.istio.objects import istio_object
from meshstack.istio.trust import SharedRootOfTrust, SharedRootOfTrustArgs
from meshstack.istio.values import MeshSettings
from stacks.config.external_plane import ExternalControlPlaneStack
from stacks.scenarios.google import gke_floor
from stacks.scenarios.mesh import istio_release
from stacks.scenarios.tags import gcp_labels, stack_tags
from stacks.scenarios.verification import mesh_check, verified_output


def deploy(config: ExternalControlPlaneStack) -> dict[str, pulumi.Input[Any]]:
    floor = gke_floor(
        config.mesh_id,
        config.gcp,
        config.clusters,
        labels=gcp_labels(stack_tags()),
        network_policies=config.security.network_policies,
    )
    cloud, network, gke = floor.cloud, floor.network, floor.clusters
    external = config.external
    # The external cluster's own istiod injects its gateway (webhooks on the nodes' 15017);
    # the remotes' API servers call the gateway's load balancer instead.
    floor.webhook_firewall(external.name, external.node_cidr)
    settings = config.external_istiod
    # Public: the remotes' API servers (Google's network) call the webhooks through it.
    address = network.external_address(f"{external.name}-istiod").address
    if settings.dns_zone:
        gcp.dns.RecordSet(
            f"{external.name}-istiod-host",
            managed_zone=settings.dns_zone,
            name=f"{settings.host}.",
            type="A",
            ttl=300,
            rrdatas=[address],
            opts=pulumi.ResourceOptions(provider=cloud),
        )
    trust = SharedRootOfTrust("mesh-ca", SharedRootOfTrustArgs(clusters=[external.name]))

    def plane_cluster(name: str) -> PlaneCluster:
        cluster = next(c for c in config.clusters if c.name == name)
        return PlaneCluster(
            name=name,
            provider=gke[name].provider,
            server=gke[name].server,
            certificate_authority=gke[name].certificate_authority,
            network=cluster.network,
            nodes=(gke[name].node_pool,),
        )

    remotes = [c.name for c in config.remotes]
    istio = config.istio
    plane = ExternalControlPlane(
        "external-plane",
        ExternalControlPlaneArgs(
            release=istio_release(istio, config.security),
            mesh=MeshSettings(
                profile=istio.profile,
                mesh_id=config.mesh_id,
                outbound_traffic_policy=istio.outbound_traffic_policy,
            ),
            external=plane_cluster(external.name),
            remotes=[plane_cluster(name) for name in remotes],
            host=settings.host,
            ca_certificates=trust.cacerts[external.name],
            root_cert_pem=trust.root_cert_pem,
            namespace=settings.namespace,
            replicas=settings.replicas,
            ingress_address=address,
            reader_tokens=config.membership.tokens,
            mtls=istio.mtls,
        ),
    )
    checks = _checks(config, {name: gke[name] for name in remotes}, plane)
    return {
        "model": {
            "network": "single network",
            "controlPlane": "external control plane",
            "mesh": "single mesh, one root of trust",
            "tenancy": "namespace",
        },
        "clusters": {
            c.name: {"role": c.role, "network": c.network, "controlPlane": external.name}
            for c in config.clusters
        },
        "externalIstiodHost": settings.host,
        "externalIstiodAddress": address,
        "configCluster": remotes[0],
        "rootCertPem": trust.root_cert_pem,
        "kubeconfigs": pulumi.Output.secret({name: c.kubeconfig for name, c in gke.items()}),
        **verified_output(checks),
    }


def _checks(
    config: ExternalControlPlaneStack, clusters: dict[str, GkeCluster], plane: ExternalControlPlane
) -> list[Any]:
    """The sample in every remote, and from each remote the model's checks."""
    sample = config.hello_world
    revision = config.istio.revision
    remotes = list(clusters)
    providers = {name: cluster.provider for name, cluster in clusters.items()}
    # A pod is injected when it is created: after the webhooks and the istiod they call.
    no_istiod = {
        name: NoIstiod(
            f"{name}-no-istiod",
            NoIstiodArgs(
                provider=providers[name],
                namespace=plane.namespaces[name].metadata.name,
                deployment=istiod_service(revision),
            ),
            pulumi.ResourceOptions(
                depends_on=[plane.remote_istiods[name], clusters[name].node_pool]
            ),
        )
        for name in remotes
        if config.verify.enabled
    }
    if not sample.enabled:
        return list(no_istiod.values())
    apps: dict[str, HelloWorld] = {}
    for name in remotes:
        apps[name] = HelloWorld(
            f"{name}-hello-world",
            HelloWorldArgs(
                namespace=injected_namespace(
                    f"{name}-hello-world-namespace",
                    sample.namespace,
                    revision,
                    pulumi.ResourceOptions(provider=providers[name]),
                ).metadata.name,
                image=pinned(sample.image, config.security.image_digests),
                network_policies=config.security.network_policies,
                container_port=SAMPLE_PORT,
                health_path=SAMPLE_HEALTH_PATH,
                env={"SERVICE_VERSION": name},
            ),
            pulumi.ResourceOptions(
                provider=providers[name], depends_on=[*plane.ready, clusters[name].node_pool]
            ),
        )
    # The route lives in the config cluster only; the external istiod pushes it everywhere.
    config_cluster, pinned_to = remotes[0], remotes[-1]
    routes = [
        istio_object(
            f"{config_cluster}-pinned-{kind.lower()}",
            kind,
            f"{APP}-pinned",
            apps[config_cluster].namespace,
            spec,
            opts=pulumi.ResourceOptions(
                provider=providers[config_cluster], depends_on=list(plane.ready)
            ),
        )
        for kind, spec in pinned_route_specs(sample.namespace, pinned_to).items()
    ]
    return [
        *no_istiod.values(),
        *(
            mesh_check(
                f"{name}-hello-world-check",
                config.verify,
                provider=providers[name],
                namespace=app.namespace,
                job_name="hello-world-check",
                checks=[
                    responders_check(sample.namespace, remotes, config.verify.samples),
                    certificate_check(sample.namespace),
                    routed_check(sample.namespace, pinned_to, config.verify.samples),
                ],
                after=[*apps.values(), *routes],
                in_mesh=True,
                revision=revision,
            )
            for name, app in apps.items()
        ),
    ]
