"""What serverless and ACK clusters share: delete options and cluster access.

All are `cs.ManagedKubernetes` (profile "Acs", "Serverless" or "Default"), created with an
exact version the config resolved from ACK's list (stacks/config/lookups.py). The kubeconfig
comes from
the cluster-credential data source (the cluster's own `kube_config` attribute is deprecated)
and stays a secret throughout.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_kubernetes as k8s

from meshstack.alicloud.sdk import alicloud
from meshstack.kube import kube_provider

EXACT_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+-aliyun\.[0-9]+$")
# Arguments ACK reads only when it creates the cluster (the provider documents each as "Only
# works for Create"): a later change would preview as an update that changes nothing, so it
# is not diffed. Changing them means a new cluster.
CREATE_ONLY_ARGUMENTS = ["addons", "new_nat_gateway", "slb_internet_enabled"]


def delete_options(delete_logs: bool) -> list[alicloud.cs.ManagedKubernetesDeleteOptionArgs]:
    """What happens to resources ACK created for the cluster when it is deleted."""
    logs = "delete" if delete_logs else "retain"
    modes = {
        # Load balancers of LoadBalancer Services (the ingress gateway): never orphaned.
        "SLB": "delete",
        "SLS_Data": logs,
        "SLS_ControlPlane": logs,
    }
    return [
        alicloud.cs.ManagedKubernetesDeleteOptionArgs(resource_type=kind, delete_mode=mode)
        for kind, mode in modes.items()
    ]


class ClusterAccess:
    """The cluster's credential (secret) and an explicit Kubernetes provider built from it."""

    credential: pulumi.Output[alicloud.cs.GetClusterCredentialResult]
    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self,
        name: str,
        cluster: alicloud.cs.ManagedKubernetes,
        invoke: pulumi.InvokeOutputOptions,
        parent: pulumi.Resource,
    ) -> None:
        self.credential = alicloud.cs.get_cluster_credential_output(
            cluster_id=cluster.id, opts=invoke
        )
        self.kubeconfig = pulumi.Output.secret(self.credential.kube_config)
        self.provider = kube_provider(
            f"{name}-kubernetes",
            self.kubeconfig,
            opts=pulumi.ResourceOptions(parent=parent),
        )

    @property
    def certificate_authority(self) -> pulumi.Output[str]:
        """The API server's CA (base64 PEM), as a kubeconfig's certificate-authority-data."""
        return self.credential.certificate_authorities.apply(lambda cas: cas[0].cluster_cert)
