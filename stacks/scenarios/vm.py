"""`vm` (seed 001, section 3): GKE + Istio + an east-west gateway + a GCE VM in the mesh.

The cluster side and the VM side are built side by side: the VM's boot script needs only
what exists within a minute (the mesh's root certificate, the gateway's reserved internal
address, the name of the secret its token will be in), and waits at boot until the cluster
has issued that token. So the VM is up and installed while GKE and Istio are still coming.
The token (audience istio-ca) is requested in the cluster and renewed there, and reaches the
VM through Secret Manager: components/meshstack/gcp/token_relay.py.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

from meshstack.apps.hello_world import HelloWorld, HelloWorldArgs, namespace_moved_from
from meshstack.apps.namespace import injected_namespace, revision_annotation
from meshstack.gcp.apis import ProjectApis, ProjectApisArgs
from meshstack.gcp.firewall import Firewall, FirewallArgs, FirewallRule
from meshstack.gcp.gke import GkeCluster
from meshstack.gcp.network import (
    GcpNetwork,
    GcpNetworkArgs,
    GcpSubnetSpec,
)
from meshstack.gcp.token_relay import TokenRelay, TokenRelayArgs, vm_reader
from meshstack.gcp.vm import GceVm, GceVmArgs, metadata_attribute_command
from meshstack.hardening import pinned
from meshstack.istio.topology import MeshMember, MeshTopology
from meshstack.istio.vm_files import (
    FilesSource,
    TokenSource,
    VmApplication,
    VmWorkload,
    http_probe,
    mesh_files,
    startup_script,
)
from meshstack.istio.vm_workload import (
    ISTIO_CA_AUDIENCE,
    VmWorkloadObjects,
    VmWorkloadObjectsArgs,
)
from meshstack.verify.checks import answers_with, refused_in_plain_text
from stacks.config import VmStack
from stacks.scenarios.assembly import MeshCluster, assemble_mesh, trust_outputs
from stacks.scenarios.google import (
    GKE_APIS,
    gke_cluster,
    google_provider,
    istiod_webhook_rule,
)
from stacks.scenarios.tags import gcp_labels, stack_tags
from stacks.scenarios.verification import mesh_check, verified_output

APIS = {**GKE_APIS, "secrets": "secretmanager.googleapis.com"}
# GKE's internal passthrough load balancer: the gateway is reachable inside the VPC only.
INTERNAL_LOAD_BALANCER = {"networking.gke.io/load-balancer-type": "Internal"}
# The instance metadata key the VM reads the mesh's files from while it runs.
MESH_FILES_KEY = "meshstack-mesh-files"
# On by default since Istio 1.10; stated so a chart default change cannot turn them off.
WORKLOAD_ENTRY_FLAGS = (
    ("PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION", "true"),
    ("PILOT_ENABLE_WORKLOAD_ENTRY_HEALTHCHECKS", "true"),
)


def deploy(config: VmStack) -> dict[str, pulumi.Input[Any]]:
    gcp_config, net, cluster_config, vm_config, mesh = (
        config.gcp,
        config.network,
        config.cluster,
        config.vm,
        config.mesh,
    )
    cloud = google_provider(gcp_config)
    labels = gcp_labels(stack_tags())
    apis = ProjectApis("apis", ProjectApisArgs(cloud, services=list(APIS.values()))).services
    network = GcpNetwork(
        cluster_config.name,
        GcpNetworkArgs(
            region=gcp_config.region,
            subnets=[
                GcpSubnetSpec(
                    cidr=net.subnet_cidr, pod_cidr=net.pod_cidr, service_cidr=net.service_cidr
                )
            ],
        ),
        pulumi.ResourceOptions(provider=cloud, depends_on=[apis[APIS["compute"]]]),
    )
    node_tag, vm_tag = f"{cluster_config.name}-node", vm_config.name
    cluster = gke_cluster(
        cluster_config.name,
        cluster_config,
        cloud=cloud,
        network=network,
        subnet="",
        zone=gcp_config.zone,
        node_pool=cluster_config.node_pool,
        node_tag=node_tag,
        labels=labels,
        apis=apis,
        network_policies=config.security.network_policies,
    )
    gateway_address = network.internal_address("eastwest").address

    # --- the mesh ------------------------------------------------------------------------
    istio = config.istio
    # Istio's plug-in CA: the roots are known before the cluster exists, so the VM can trust
    # them from its first boot (istiod publishes the same bundle as `istio-ca-root-cert`). The
    # VM reaches istiod through the east-west gateway, on its reserved internal address.
    assembled = assemble_mesh(
        MeshTopology(
            (MeshMember(mesh.cluster_name, mesh.network),), vm_networks=(vm_config.network,)
        ),
        {
            mesh.cluster_name: MeshCluster(
                provider=cluster.provider,
                nodes=[cluster.node_pool],
                mesh_settings={
                    "pilot_env": WORKLOAD_ENTRY_FLAGS,
                    # istio-cni's host paths and ResourceQuota on GKE (the charts' gke profile).
                    **({"platform": "gke"} if istio.cni_enabled(serverless=False) else {}),
                },
                gateway_annotations=INTERNAL_LOAD_BALANCER,
                gateway_address=gateway_address,
            )
        },
        istio,
        mesh.mesh_id,
        config.security,
        trust_config=config.trust,
    )
    trust = assembled.trust
    control_plane = assembled.control_planes[mesh.cluster_name]
    eastwest = assembled.gateways[mesh.cluster_name]

    # --- the VM ----------------------------------------------------------------------------
    workload = VmWorkload(
        name=vm_config.app,
        namespace=vm_config.namespace,
        service_account=vm_config.service_account,
        cluster_id=mesh.cluster_name,
        mesh_id=mesh.mesh_id,
        network=vm_config.network,
        # The istiod it dials: the `default` tag's (its istiod-<revision> host through the
        # east-west gateway); a move of the tag rewrites its mesh files, and its timer
        # restarts the sidecar (mesh_files_vm.py).
        revision=istio.tagged_default or istio.revision,
        labels={"app": vm_config.app},
        # The VM's page, as the mesh check asks for it.
        probe=http_probe(vm_config.port),
    )
    token_secret_id = f"{vm_config.name}-istio-token"
    application = VmApplication(
        vm_config.app,
        vm_config.port,
        f"{vm_config.app} ({vm_config.instance_id}) on {vm_config.name}",
    )
    mesh_inputs = pulumi.Output.all(trust.root_cert_pem, gateway_address)
    script = mesh_inputs.apply(
        lambda parts: startup_script(
            istio_version=istio.default_revision.version,
            workload=workload,
            root_cert_pem=parts[0],
            gateway_address=parts[1],
            token=TokenSource(*vm_reader(token_secret_id)),
            files_source=FilesSource(metadata_attribute_command(MESH_FILES_KEY)),
            application=application,
        )
    )
    # The same files for the running VM (its timer reads them, mesh_files_vm.py).
    current_files = mesh_inputs.apply(
        lambda parts: json.dumps(mesh_files(workload, parts[0], parts[1]), sort_keys=True)
    )
    vm = GceVm(
        vm_config.name,
        GceVmArgs(
            instance_name=vm_config.name,
            zone=gcp_config.zone,
            machine_type=vm_config.machine_type,
            image=vm_config.image,
            disk_size_gb=vm_config.disk_size_gb,
            subnetwork=network.subnetworks[""].id,
            startup_script=script,
            metadata={MESH_FILES_KEY: current_files},
            tags=[vm_tag],
            deletion_protection=vm_config.deletion_protection,
            labels=labels,
        ),
        pulumi.ResourceOptions(
            provider=cloud, depends_on=[apis[APIS["compute"]], apis[APIS["iam"]]]
        ),
    )
    objects = VmWorkloadObjects(
        "vm-workload",
        VmWorkloadObjectsArgs(
            provider=cluster.provider,
            workload=workload,
            instance_id=vm_config.instance_id,
            target_port=vm_config.port,
            address=vm.internal_ip,
            mesh_ready=control_plane.istiod,
        ),
    )
    relay = TokenRelay(
        "vm-token",
        TokenRelayArgs(
            kubernetes=cluster.provider,
            cloud=cloud,
            namespace=objects.namespace,
            service_account=objects.service_account.metadata.name,
            audience=ISTIO_CA_AUDIENCE,
            lifetime_hours=vm_config.token_lifetime_hours,
            secret_id=token_secret_id,
            workload_pool=cluster.workload_pool,
            reader_email=vm.service_account.email,
            api=apis[APIS["secrets"]],
            iam_api=apis[APIS["iam"]],
            labels=labels,
            nodes=[cluster.node_pool],
        ),
    )
    firewall = Firewall(
        cluster_config.name,
        FirewallArgs(
            provider=cloud,
            network=network.network.id,
            rules=_firewall_rules(config, cluster, node_tag, vm_tag),
        ),
    )
    hello_world = config.hello_world
    if hello_world.enabled:
        HelloWorld(
            "hello-world",
            HelloWorldArgs(
                namespace=injected_namespace(
                    "hello-world-namespace",
                    hello_world.namespace,
                    istio.revision,
                    pulumi.ResourceOptions(
                        provider=cluster.provider,
                        aliases=[namespace_moved_from("hello-world")],
                    ),
                ).metadata.name,
                image=pinned(hello_world.image, config.security.image_digests),
                network_policies=config.security.network_policies,
                pod_annotations=revision_annotation(istio.tagged_default),
            ),
            pulumi.ResourceOptions(provider=cluster.provider, depends_on=control_plane.ready),
        )
    # Seed 001's last step: a mesh pod calls hello-vm and gets the VM's answer (over mTLS: the
    # WorkloadEntry names a service account, pilot's getTLSModeFromWorkloadEntry).
    url = f"http://{vm_config.app}.{vm_config.namespace}/"
    from_mesh = answers_with(
        f"{vm_config.app} answers from the VM, through its Service, in the mesh",
        url,
        application.greeting,
        "the VM's page",
        config.verify.samples,
    )
    plain_text = refused_in_plain_text(
        f"mTLS STRICT: {vm_config.app} on the VM refuses a caller without a sidecar", url
    )
    after = [objects, vm, relay, firewall, eastwest, control_plane.peer_authentication]
    checks = [
        mesh_check(
            job,
            config.verify,
            provider=cluster.provider,
            namespace=objects.namespace,
            job_name=job,
            checks=found,
            after=[*filter(None, after)],
            in_mesh=in_mesh,
            revision=istio.revision,
        )
        for job, found, in_mesh in (
            ("vm-check", [from_mesh], True),
            ("vm-plain-text-check", [plain_text] if istio.mtls == "STRICT" else [], False),
        )
    ]
    return {
        **_outputs(config, cluster, vm, gateway_address),
        **trust_outputs(assembled),
        **verified_output([*checks, *assembled.trust_checks]),
    }


def _firewall_rules(
    config: VmStack, cluster: GkeCluster, node_tag: str, vm_tag: str
) -> list[FirewallRule]:
    vm_config = config.vm
    rules = [
        istiod_webhook_rule(config.cluster.name, cluster, config.network.subnet_cidr),
        FirewallRule(
            "mesh-to-vm",
            f"Pods of the mesh reach {vm_config.app} on the VM (its sidecar takes the traffic)",
            target_tags=[vm_tag],
            tcp_ports=[vm_config.port],
            source_ranges=[config.network.pod_cidr],
        ),
        FirewallRule(
            "vm-to-mesh",
            "The VM's sidecar reaches pods and the east-west gateway (istiod through it)",
            target_tags=[node_tag],
            source_tags=[vm_tag],
        ),
    ]
    if vm_config.ssh_source_ranges:
        rules.append(
            FirewallRule(
                "ssh-to-vm",
                "SSH to the VM from the configured ranges (vm.sshSourceRanges)",
                target_tags=[vm_tag],
                tcp_ports=[22],
                source_ranges=vm_config.ssh_source_ranges,
            )
        )
    return rules


def _outputs(
    config: VmStack, cluster: GkeCluster, vm: GceVm, gateway_address: pulumi.Output[str]
) -> dict[str, pulumi.Input[Any]]:
    gcp_config, vm_config = config.gcp, config.vm
    location = f"--zone {gcp_config.zone}" + (
        f" --project {gcp_config.project}" if gcp_config.project else ""
    )
    ssh = f"gcloud compute ssh {vm_config.name} {location} --tunnel-through-iap --command"
    outputs: dict[str, pulumi.Input[Any]] = {
        "clusterName": cluster.cluster.name,
        "kubeconfig": cluster.kubeconfig,
        "kubectlSetup": f"gcloud container clusters get-credentials {config.cluster.name} "
        f"{location}",
        "vmName": vm.instance.name,
        "vmInternalIp": vm.internal_ip,
        "eastWestGatewayAddress": gateway_address,
        "vmBootLog": f"gcloud compute instances get-serial-port-output {vm_config.name} "
        f"{location} | grep meshstack",
    }
    if config.hello_world.enabled:
        namespace = config.hello_world.namespace
        # The istio-proxy container of an injected pod has curl.
        outputs["checkPodToVm"] = (
            f"kubectl exec -n {namespace} deploy/hello-world -c istio-proxy -- "
            f"curl -sS http://{vm_config.app}.{vm_config.namespace}"
        )
        outputs["checkVmToPod"] = f"{ssh} 'curl -sS http://hello-world.{namespace}'"
    return outputs
