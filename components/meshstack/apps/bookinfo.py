"""Istio's Bookinfo sample as typed Kubernetes resources.

Same objects as upstream `samples/bookinfo/platform/kube/bookinfo.yaml` (services on 9080,
`bookinfo-<svc>` service accounts, one Deployment per version), with the versions that run,
the image source and extra labels (e.g. `cluster: m1c1`) as parameters.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from meshstack import versions
from meshstack.options import pods_wait_for, register_schema_outputs, renamed

PORT = 9080
SERVICES = ("details", "ratings", "reviews", "productpage")


REVIEWS_VERSIONS = ("v1", "v2", "v3")


class BookinfoArgs(TypedDict):
    namespace: pulumi.Input[str]
    """The namespace, labelled for the mesh: pass the Namespace's name output, so that every
    object waits for it."""
    image_hub: NotRequired[str]
    """Where the images come from (default docker.io/istio)."""
    image_tag: NotRequired[str]
    """The images' tag (default the pinned Bookinfo release)."""
    reviews_versions: NotRequired[Sequence[str]]
    """Which reviews versions run (default v1, v2 and v3)."""
    extra_labels: NotRequired[Mapping[str, str]]
    """Labels added to every object."""


@dataclass(frozen=True)
class Workload:
    service: str
    version: str
    env: dict[str, str] = field(default_factory=dict)
    # name -> mount path of an emptyDir
    scratch: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def workloads(reviews_versions: Sequence[str]) -> list[Workload]:
    """The Deployments upstream declares, reviews limited to the requested versions."""
    reviews = [
        Workload(
            "reviews",
            version,
            env={"LOG_DIR": "/tmp/logs"},
            scratch={"tmp": "/tmp", "wlp-output": "/opt/ibm/wlp/output"},
        )
        for version in reviews_versions
    ]
    return [
        Workload("details", "v1"),
        Workload("ratings", "v1"),
        *reviews,
        Workload(
            "productpage",
            "v1",
            scratch={"tmp": "/tmp"},
            annotations={
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(PORT),
                "prometheus.io/path": "/metrics",
            },
        ),
    ]


class Bookinfo(pulumi.ComponentResource):
    """Istio's Bookinfo sample (productpage, details, ratings, reviews v1-v3) as upstream's
    bookinfo.yaml declares it. The Kubernetes provider comes through `opts`; `depends_on` there
    is what the Deployments wait for (istiod ready, so that the pods get a sidecar). In a Python
    program the Services and accounts do not wait for it; other languages' SDKs wait for
    depends_on before the provider constructs the component."""

    services: dict[str, k8s.core.v1.Service]
    """The Services, by name."""
    deployments: dict[str, k8s.apps.v1.Deployment]
    """The Deployments, by <service>-<version>."""

    def __init__(
        self, name: str, args: BookinfoArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        opts, pods_wait = pods_wait_for(opts)
        super().__init__(
            "meshstack:index:Bookinfo", name, None, renamed(opts, "meshstack:apps:Bookinfo")
        )
        child = pulumi.ResourceOptions(parent=self)
        namespace, extra = args["namespace"], dict(args.get("extra_labels") or {})
        self.services = {}
        accounts: dict[str, k8s.core.v1.ServiceAccount] = {}
        for svc in SERVICES:
            self.services[svc] = k8s.core.v1.Service(
                f"{name}-{svc}-service",
                metadata=_meta(svc, namespace, {"app": svc, "service": svc, **extra}),
                spec=k8s.core.v1.ServiceSpecArgs(
                    ports=[k8s.core.v1.ServicePortArgs(port=PORT, name="http")],
                    selector={"app": svc},
                ),
                opts=child,
            )
            accounts[svc] = k8s.core.v1.ServiceAccount(
                f"{name}-{svc}-account",
                metadata=_meta(f"bookinfo-{svc}", namespace, {"account": svc, **extra}),
                opts=child,
            )

        self.deployments = {}
        for workload in workloads(args.get("reviews_versions", REVIEWS_VERSIONS)):
            key = f"{workload.service}-{workload.version}"
            self.deployments[key] = _deployment(
                f"{name}-{key}",
                workload,
                args,
                accounts[workload.service],
                pulumi.ResourceOptions(parent=self, depends_on=pods_wait),
            )

        register_schema_outputs(self)


def _meta(name: str, namespace: pulumi.Input[str], labels: dict[str, str]):
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=labels)


def _deployment(
    resource_name: str,
    workload: Workload,
    args: BookinfoArgs,
    account: k8s.core.v1.ServiceAccount,
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.Deployment:
    selector = {"app": workload.service, "version": workload.version}
    labels = {**selector, **(args.get("extra_labels") or {})}
    image = (
        f"{args.get('image_hub', versions.BOOKINFO_HUB)}/examples-bookinfo-"
        f"{workload.service}-{workload.version}:{args.get('image_tag', versions.BOOKINFO_TAG)}"
    )
    container = k8s.core.v1.ContainerArgs(
        name=workload.service,
        image=image,
        image_pull_policy="IfNotPresent",
        ports=[k8s.core.v1.ContainerPortArgs(container_port=PORT)],
        env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in workload.env.items()] or None,
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name=vol, mount_path=path)
            for vol, path in workload.scratch.items()
        ]
        or None,
    )
    return k8s.apps.v1.Deployment(
        resource_name,
        metadata=_meta(f"{workload.service}-{workload.version}", args["namespace"], labels),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels=labels, annotations=workload.annotations or None
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=account.metadata.name,
                    containers=[container],
                    volumes=[
                        k8s.core.v1.VolumeArgs(
                            name=vol, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()
                        )
                        for vol in workload.scratch
                    ]
                    or None,
                ),
            ),
        ),
        opts=opts,
    )
