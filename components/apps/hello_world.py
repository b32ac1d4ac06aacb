"""hello-world: the in-cluster service a VM calls (`curl hello-world.default`), or,
in a multi-cluster mesh, Istio's helloworld sample naming the cluster that answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.apps.namespace import injection_labels
from components.verify.checks import AnswerClass, Check, Expect

APP = "hello-world"
CONTAINER_PORT = 3000
SERVICE_PORT = 80
# Istio's samples/helloworld/src/app.py: GET /hello answers
# "Hello version: <SERVICE_VERSION>, instance: <pod>" (gunicorn on port 5000, its Dockerfile).
SAMPLE_PORT = 5000
SAMPLE_PATH = "/hello"
SAMPLE_ANSWER = r"Hello version: (?P<label>[^,\s]+), instance:"
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
    container_port: int = CONTAINER_PORT
    env: Mapping[str, str] = field(default_factory=dict)


class HelloWorld(pulumi.ComponentResource):
    # Known once the namespace exists (or is labelled).
    namespace: pulumi.Output[str]

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
                                    k8s.core.v1.ContainerPortArgs(
                                        container_port=args.container_port
                                    )
                                ],
                                env=[
                                    k8s.core.v1.EnvVarArgs(name=k, value=v)
                                    for k, v in args.env.items()
                                ]
                                or None,
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
                        name="http", port=SERVICE_PORT, target_port=args.container_port
                    )
                ],
            ),
            opts=child,
        )
        self.namespace = namespace
        self.register_outputs({"namespace": namespace})


def responders_check(namespace: str, responders: Sequence[str], samples: int) -> Check:
    """Every responder (the sample's SERVICE_VERSION, set to its cluster's name) answers
    the Service, and nobody else."""
    return Check(
        name=f"hello-world answers from every cluster: {', '.join(responders)}",
        url=f"http://{APP}.{namespace}{SAMPLE_PATH}",
        classes=(AnswerClass("responder", status=200, body=SAMPLE_ANSWER),),
        expect=Expect(only=tuple(responders), each=tuple(responders)),
        samples=samples,
    )
