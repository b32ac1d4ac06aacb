"""`local`: the mesh and Bookinfo on an existing Kubernetes context (kind, minikube, …)."""

from __future__ import annotations

import os

import pulumi

from meshstack.kube import AMBIENT_KUBECONFIG, kube_provider
from stacks.config import LocalStack
from stacks.scenarios.mesh import mesh_on_cluster, mesh_outputs
from stacks.scenarios.tenancy import shared_scoping, tenancy_on_cluster, tenants_of
from stacks.scenarios.verification import verified_output


def deploy(config: LocalStack) -> dict[str, pulumi.Input[str]]:
    kubeconfig = config.kubernetes.kubeconfig
    provider = kube_provider(
        "local",
        kubeconfig=os.path.expanduser(kubeconfig) if kubeconfig else AMBIENT_KUBECONFIG,
        context=config.kubernetes.context,
    )
    tenants = tenants_of(config)
    # An existing cluster, perhaps shared: its Gateway API CRDs stay on destroy.
    mesh = mesh_on_cluster(provider, config, shared_cluster=True, **shared_scoping(tenants))
    if not tenants:
        return mesh_outputs(mesh)
    # Bookinfo is refused beside tenants (stacks/config/tenancy.py): its check is not there.
    return {
        **mesh_outputs(mesh),
        **verified_output(tenancy_on_cluster(provider, config, mesh, tenants)),
    }
