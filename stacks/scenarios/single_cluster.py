"""`single-cluster` (seeds 000/003/004): network, a serverless cluster (ACS, or the seed's ASK),
then the mesh on it."""

from __future__ import annotations

import pulumi

from meshstack.alicloud.network import AlicloudNetwork, NetworkArgs, VSwitchSpec
from meshstack.alicloud.serverless import ServerlessCluster, ServerlessClusterArgs
from stacks.config import SingleClusterStack
from stacks.scenarios.alibaba import alibaba_provider
from stacks.scenarios.commands import stack_output_command
from stacks.scenarios.mesh import mesh_on_cluster, mesh_outputs
from stacks.scenarios.tags import stack_tags


def deploy(config: SingleClusterStack) -> dict[str, pulumi.Input[str]]:
    network_config, cluster_config = config.network, config.cluster
    cloud = alibaba_provider(network_config.region)
    tags = stack_tags()
    network = AlicloudNetwork(
        cluster_config.name,
        NetworkArgs(
            vpc_cidr=network_config.vpc_cidr,
            vswitches=list(VSwitchSpec(zone=v.zone, cidr=v.cidr) for v in network_config.vswitches),
            eip_bandwidth_mbps=network_config.eip_bandwidth_mbps,
            tags=tags,
        ),
        pulumi.ResourceOptions(provider=cloud),
    )
    cluster = ServerlessCluster(
        cluster_config.name,
        ServerlessClusterArgs(
            provider=cloud,
            cluster_name=cluster_config.name,
            offering=cluster_config.offering,
            kubernetes_version=cluster_config.kubernetes_version,
            vswitch_ids=network.vswitch_ids,
            service_cidr=cluster_config.service_cidr,
            cluster_spec=cluster_config.cluster_spec,
            api_server_public=cluster_config.api_server_public,
            timezone=cluster_config.timezone,
            log_project=cluster_config.log_project,
            delete_logs_on_destroy=cluster_config.delete_logs_on_destroy,
            deletion_protection=cluster_config.deletion_protection,
            tags=tags,
            internet=list(network.snat_entries),
        ),
    )
    mesh = mesh_on_cluster(cluster.provider, config)
    kubeconfig = f"{cluster_config.name}.kubeconfig"
    return {
        "clusterId": cluster.cluster.id,
        "kubernetesVersion": cluster.kubernetes_version,
        "egressIp": network.eip.ip_address,
        "kubeconfig": cluster.kubeconfig,
        "kubectlSetup": f"{stack_output_command()} kubeconfig --show-secrets > {kubeconfig} "
        f"&& export KUBECONFIG=$PWD/{kubeconfig}",
        **mesh_outputs(mesh),
    }
