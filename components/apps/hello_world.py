"""Seed 001's hello-world: the in-cluster service a VM calls (`curl hello-world.default`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.apps.namespace import injection_labels

APP = "hello-world"
CONTAINER_PORT = 3000
SERVICE_PORT = 80
# Namespaces every cluster has: labelled for injection in place, never created or deleted.
BUILT_IN_NAMESPACES = frozenset({"default"})


@dataclass(frozen=True)
class HelloWorldArgs:
    provider: k8s.Provider
    namespace: str
    image: str
    revision: str | None
    # What injection needs (istiod ready; for a remote cluster also the way to its primary's
    # istiod): the pod is injected when it is created.
    mesh_ready: Sequence[pulumi.Resource]


class HelloWorld(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: HelloWorldArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:apps:HelloWorld", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        injection = injection_labels(args.revision)
        if args.namespace in BUILT_IN_NAMESPACES:
            # Server-side apply of just the label; `pulumi destroy` removes the label only.
            namespace = k8s.core.v1.NamespacePatch(
                f"{name}-namespace",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=args.namespace, labels=injection),
                opts=child,
            ).metadata.name
        else:
            namespace = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels=injection),
                opts=child,
            ).metadata.name
        labels = {"app": APP}
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=APP, namespace=namespace, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="svc",
                                image=args.image,
                                ports=[
                                    k8s.core.v1.ContainerPortArgs(container_port=CONTAINER_PORT)
                                ],
                            )
                        ]
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=list(args.mesh_ready))
            ),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=APP, namespace=namespace, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="http", port=SERVICE_PORT, target_port=CONTAINER_PORT
                    )
                ],
            ),
            opts=child,
        )
        self.register_outputs({"namespace": namespace})
