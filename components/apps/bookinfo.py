"""Istio's Bookinfo sample as typed Kubernetes resources.

Same objects as upstream `samples/bookinfo/platform/kube/bookinfo.yaml` (services on 9080,
`bookinfo-<svc>` service accounts, one Deployment per version), with the versions that run,
the image source and extra labels (e.g. `cluster: m1c1`) as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components import versions

PORT = 9080
SERVICES = ("details", "ratings", "reviews", "productpage")


@dataclass(frozen=True)
class BookinfoArgs:
    provider: k8s.Provider
    namespace: pulumi.Input[str]
    # What the Deployments wait for: istiod ready, so their pods get a sidecar.
    mesh_ready: pulumi.Resource
    image_hub: str = versions.BOOKINFO_HUB
    image_tag: str = versions.BOOKINFO_TAG
    reviews_versions: Sequence[str] = ("v1", "v2", "v3")
    extra_labels: dict[str, str] = field(default_factory=dict)


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
    services: dict[str, k8s.core.v1.Service]
    deployments: dict[str, k8s.apps.v1.Deployment]

    def __init__(
        self, name: str, args: BookinfoArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:apps:Bookinfo", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        extra = dict(args.extra_labels)
        self.services = {}
        accounts: dict[str, k8s.core.v1.ServiceAccount] = {}
        for svc in SERVICES:
            self.services[svc] = k8s.core.v1.Service(
                f"{name}-{svc}-service",
                metadata=_meta(svc, args.namespace, {"app": svc, "service": svc, **extra}),
                spec=k8s.core.v1.ServiceSpecArgs(
                    ports=[k8s.core.v1.ServicePortArgs(port=PORT, name="http")],
                    selector={"app": svc},
                ),
                opts=child,
            )
            accounts[svc] = k8s.core.v1.ServiceAccount(
                f"{name}-{svc}-account",
                metadata=_meta(f"bookinfo-{svc}", args.namespace, {"account": svc, **extra}),
                opts=child,
            )

        self.deployments = {}
        after_mesh = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[args.mesh_ready])
        )
        for workload in workloads(args.reviews_versions):
            key = f"{workload.service}-{workload.version}"
            self.deployments[key] = _deployment(
                f"{name}-{key}", workload, args, accounts[workload.service], after_mesh
            )

        self.register_outputs(
            {
                "services": {k: v.metadata.name for k, v in self.services.items()},
                "deployments": {k: v.metadata.name for k, v in self.deployments.items()},
            }
        )


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
    labels = {**selector, **args.extra_labels}
    image = (
        f"{args.image_hub}/examples-bookinfo-{workload.service}-{workload.version}:{args.image_tag}"
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
        metadata=_meta(f"{workload.service}-{workload.version}", args.namespace, labels),
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
