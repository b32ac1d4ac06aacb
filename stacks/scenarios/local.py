"""`local`: the mesh and Bookinfo on an existing Kubernetes context (kind, minikube, …)."""

from __future__ import annotations

import os

import pulumi

from meshstack.kube import AMBIENT_KUBECONFIG, kube_provider
from stacks.config import LocalStack
from stacks.scenarios.mesh import mesh_on_cluster, mesh_outputs


def deploy(config: LocalStack) -> dict[str, pulumi.Input[str]]:
    kubeconfig = config.kubernetes.kubeconfig
    provider = kube_provider(
        "local",
        kubeconfig=os.path.expanduser(kubeconfig) if kubeconfig else AMBIENT_KUBECONFIG,
        context=config.kubernetes.context,
    )
    # An existing cluster, perhaps shared: its Gateway API CRDs stay on destroy.
    mesh = mesh_on_cluster(provider, config, shared_cluster=True)
    return mesh_outputs(mesh)
