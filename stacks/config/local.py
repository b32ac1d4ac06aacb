"""`local`: the mesh on an existing Kubernetes context."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from stacks.config.checks import (
    Problems,
    cni_on_serverless,
)
from stacks.config.fields import (
    Flag,
    Model,
)
from stacks.config.mesh import IstioConfig, MeshStack
from stacks.config.tenancy import TenancyConfig, tenancy_problems


class KubeContextConfig(Model):
    """An existing cluster (the `local` scenario), reached as `kubectl` reaches it."""

    kubeconfig: str | None = Field(default=None, min_length=1)
    """Unset: what kubectl reads, $KUBECONFIG (a list of files) or ~/.kube/config."""
    context: str | None = Field(default=None, min_length=1)
    """Unset: the kubeconfig's current context."""
    serverless: Flag = False
    """Virtual nodes only (no DaemonSets): Istio CNI is refused."""


class LocalIstioConfig(IstioConfig):
    """kind and minikube give a LoadBalancer Service no address without an add-on, and Helm
    would wait for one until it rolls back: the gateway is a ClusterIP Service, reached with
    `kubectl port-forward`. Set LoadBalancer where the cluster has a load balancer (Docker
    Desktop, k3d, MetalLB, `minikube tunnel`, cloud-provider-kind)."""

    REVISIONS = True
    AMBIENT_REVISIONS = True
    ingress_service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "ClusterIP"
    """ClusterIP by default: kind and minikube give a LoadBalancer no address. LoadBalancer where
    the cluster has one (Docker Desktop, k3d, MetalLB, minikube tunnel)."""


class LocalStack(MeshStack):
    scenario: Literal["local"]
    kubernetes: KubeContextConfig = KubeContextConfig()
    istio: LocalIstioConfig = LocalIstioConfig()  # pyright: ignore[reportIncompatibleVariableOverride]
    """Frozen models: narrowing the field's type in a subclass is safe."""
    tenancy: TenancyConfig = TenancyConfig()

    @property
    def serverless(self) -> bool:
        return self.kubernetes.serverless

    @model_validator(mode="after")
    def _cross_field_checks(self) -> LocalStack:
        problems = Problems()
        problems.add(cni_on_serverless(self.istio, self.kubernetes.serverless))
        problems.add(tenancy_problems(self.tenancy, self.istio, self.bookinfo))
        problems.raise_any()
        return self
