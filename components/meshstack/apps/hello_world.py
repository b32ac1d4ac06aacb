"""hello-world: the in-cluster service a VM calls (`curl hello-world.default`), or,
in a multi-cluster mesh, Istio's helloworld sample naming the cluster that answers."""

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from meshstack import hardening, network_policy
from meshstack.options import pods_wait_for, register_schema_outputs, renamed
from meshstack.verify.checks import AnswerClass, Check, Expect

APP = "hello-world"
CONTAINER_PORT = 3000
SERVICE_PORT = 80
# Istio's samples/helloworld/src/app.py: GET /hello answers
# "Hello version: <SERVICE_VERSION>, instance: <pod>" (gunicorn on port 5000, its Dockerfile).
SAMPLE_PORT = 5000
SAMPLE_PATH = "/hello"
# app.py's cheap GET /health (its /hello burns CPU on purpose).
SAMPLE_HEALTH_PATH = "/health"
SAMPLE_ANSWER = r"Hello version: (?P<label>[^,\s]+), instance:"


def namespace_moved_from(component: str) -> pulumi.Alias:
    """An alias for the namespace HelloWorld `component` of 0.1.0 created as its child (it now
    takes an existing one): a deployed stack keeps its namespace."""
    return pulumi.Alias(parent=pulumi.create_urn(component, "meshstack:apps:HelloWorld"))


class HelloWorldArgs(TypedDict):
    namespace: pulumi.Input[str]
    """The namespace, labelled for the mesh: pass the Namespace's name output, so that every
    object waits for it."""
    image: str
    """The container image."""
    container_port: NotRequired[int]
    """The port the container listens on (default 3000)."""
    env: NotRequired[Mapping[str, str]]
    """The container's environment."""
    network_policies: NotRequired[bool]
    """A NetworkPolicy admitting only the container port and the data plane's (default
    true)."""
    health_path: NotRequired[str]
    """The HTTP path the probes ask on the container port (default /)."""
    service_labels: NotRequired[Mapping[str, str]]
    """More labels of the Service (ambient multi-cluster: istio.io/global=true makes it
    reachable from every cluster)."""
    pod_annotations: NotRequired[Mapping[str, str]]
    """Annotations of its pod (a change restarts it, e.g. onto another Istio revision)."""
    service_annotations: NotRequired[Mapping[str, str]]
    """Annotations of the Service (e.g. networking.istio.io/exportTo: the namespaces whose
    proxies see it)."""


class HelloWorld(pulumi.ComponentResource):
    """A one-replica HTTP service with a sidecar: the smallest proof that injection and
    routing work in a cluster. The Kubernetes provider comes through `opts`; `depends_on` there
    is what the Deployment waits for, what injection needs (istiod ready; for a remote cluster
    also the way to its primary's istiod): the pod is injected when it is created."""

    namespace: pulumi.Output[str]
    """The namespace, once it exists (or is labelled)."""

    def __init__(
        self, name: str, args: HelloWorldArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        opts, pods_wait = pods_wait_for(opts)
        super().__init__(
            "meshstack:index:HelloWorld", name, None, renamed(opts, "meshstack:apps:HelloWorld")
        )
        child = pulumi.ResourceOptions(parent=self)
        namespace = pulumi.Output.from_input(args["namespace"])
        container_port = args.get("container_port", CONTAINER_PORT)
        labels = {"app": APP}
        # gunicorn (Istio's helloworld) keeps its workers' heartbeat files in /tmp.
        mounts, volumes = hardening.scratch_volumes({"tmp": "/tmp"})
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=APP, namespace=namespace, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels, annotations=dict(args.get("pod_annotations") or {}) or None
                    ),
                    spec=k8s.core.v1.PodSpecArgs(
                        # It calls no Kubernetes API; a sidecar brings its own token.
                        automount_service_account_token=False,
                        # Istio's helloworld image has no USER (root) and the other one
                        # none documented: both only read their files.
                        security_context=hardening.pod_security(),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="svc",
                                image=args["image"],
                                image_pull_policy=hardening.pull_policy(args["image"]),
                                ports=[
                                    k8s.core.v1.ContainerPortArgs(container_port=container_port)
                                ],
                                env=[
                                    k8s.core.v1.EnvVarArgs(name=k, value=v)
                                    for k, v in (args.get("env") or {}).items()
                                ]
                                or None,
                                volume_mounts=mounts,
                                security_context=hardening.container_security(),
                                # Istio's samples/helloworld/helloworld.yaml requests 100m.
                                resources=hardening.Resources(
                                    "100m", "64Mi", "500m", "256Mi"
                                ).args(),
                                **hardening.http_probes(
                                    container_port, args.get("health_path", "/")
                                ),
                            )
                        ],
                        volumes=volumes,
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=pods_wait),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=APP,
                namespace=namespace,
                labels={**labels, **(args.get("service_labels") or {})},
                annotations=dict(args.get("service_annotations") or {}) or None,
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="http", port=SERVICE_PORT, target_port=container_port
                    )
                ],
            ),
            opts=child,
        )
        if args.get("network_policies", True):
            network_policy.ingress_policy(
                f"{name}-network-policy",
                APP,
                namespace,
                network_policy.ingress_spec(
                    labels, open_ports=(container_port, *network_policy.DATA_PLANE_PORTS)
                ),
                child,
            )
        self.namespace = namespace
        register_schema_outputs(self)


def responders_check(
    namespace: str, responders: Sequence[str], samples: int, revision: str | None = None
) -> Check:
    """Every responder (the sample's SERVICE_VERSION, set to its cluster's name) answers
    the Service, and nobody else. `revision`: the Istio revision the pods run on, named so
    that the check (a Job, replaced when its spec changes) runs again when they move."""
    on = f" (revision {revision})" if revision else ""
    return Check(
        name=f"hello-world answers from every cluster: {', '.join(responders)}{on}",
        url=f"http://{APP}.{namespace}{SAMPLE_PATH}",
        classes=(AnswerClass("responder", status=200, body=SAMPLE_ANSWER),),
        expect=Expect(only=tuple(responders), each=tuple(responders)),
        samples=samples,
    )
