"""A VM workload's objects in the cluster (what `istioctl x workload` steps create by hand).

The namespace and service account the VM's proxy runs as, the WorkloadGroup (its template),
the Service that gives it a stable name, the WorkloadEntry (one VM: its internal address and
labels) and the ServiceEntry that puts it in the registry. The VM's bootstrap token is not
made here: since Istio 1.22 istiod accepts only tokens for its audience (`istio-ca`), which a
TokenRequest gives and a legacy service-account-token Secret does not
(security/pkg/server/ca/authenticate/kubeauth/kube_jwt.go), so something in the cluster must
request one for the VM and renew it (components/meshstack/gcp/token_relay.py on GKE).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from meshstack.istio.objects import istio_object
from meshstack.istio.vm_files import VmWorkload

SERVICE_PORT = 80
# pilot/pkg/model/status/workloadentry.go WorkloadEntryHealthCheckAnnotation.
HEALTH_CHECKS = "proxy.istio.io/health-checks-enabled"


@dataclass(frozen=True)
class VmWorkloadObjectsArgs:
    provider: k8s.Provider
    workload: VmWorkload
    # The WorkloadEntry's `instance-id` label (e.g. vm1).
    instance_id: str
    # Where the VM's application listens.
    target_port: int
    # The VM's internal IP, from the instance resource.
    address: pulumi.Input[str]
    # istiod ready: its webhook admits the Istio objects.
    mesh_ready: pulumi.Resource


# The audience istiod validates CSR tokens for (TOKEN_AUDIENCES, default istio-ca).
ISTIO_CA_AUDIENCE = "istio-ca"


class VmWorkloadObjects(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    service_account: k8s.core.v1.ServiceAccount

    def __init__(
        self, name: str, args: VmWorkloadObjectsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:istio:VmWorkload", name, None, opts)
        workload = args.workload
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        after_istiod = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[args.mesh_ready])
        )
        self.namespace = namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=workload.namespace),
            opts=child,
        ).metadata.name
        # The VM's identity. No pod runs as it: no token is mounted anywhere.
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=workload.service_account, namespace=namespace),
            automount_service_account_token=False,
            opts=child,
        )

        labels = {"app": workload.name}
        group_template = {"serviceAccount": workload.service_account}
        if workload.network:
            group_template["network"] = workload.network
        group: dict[str, object] = {"metadata": {"labels": labels}, "template": group_template}
        if workload.probe is not None:
            group["probe"] = dict(workload.probe)
        istio_object(
            f"{name}-workload-group",
            "WorkloadGroup",
            workload.name,
            namespace,
            group,
            opts=after_istiod,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=workload.name, namespace=namespace, labels=labels
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="http-vm", port=SERVICE_PORT, target_port=args.target_port
                    )
                ],
            ),
            opts=child,
        )
        entry = {
            "serviceAccount": workload.service_account,
            "address": args.address,
            "labels": {**labels, "instance-id": args.instance_id},
        }
        if workload.network:
            entry["network"] = workload.network
        istio_object(
            f"{name}-workload-entry",
            "WorkloadEntry",
            workload.name,
            namespace,
            entry,
            opts=after_istiod,
            # istiod takes the proxy's health reports for a declared entry only with this
            # annotation, and keeps the entry out of endpoints until a probe passed
            # (pilot/pkg/autoregistration/internal/health/util.go, serviceentry/
            # conversion.go isHealthy).
            annotations=(
                {HEALTH_CHECKS: "true"}
                if workload.probe is not None and not workload.auto_register
                else None
            ),
        )
        istio_object(
            f"{name}-service-entry",
            "ServiceEntry",
            workload.name,
            namespace,
            {
                "hosts": [workload.name],
                "location": "MESH_INTERNAL",
                "ports": [
                    {
                        "number": SERVICE_PORT,
                        "name": "http",
                        "protocol": "HTTP",
                        "targetPort": args.target_port,
                    }
                ],
                "resolution": "STATIC",
                "workloadSelector": {"labels": labels},
            },
            opts=after_istiod,
        )
        self.register_outputs({"namespace": namespace})
