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

from meshstack import hardening, network_policy, versions
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
    service_labels: NotRequired[Mapping[str, str]]
    """More labels of the Services (ambient multi-cluster: istio.io/global=true makes a
    Service reachable from every cluster)."""
    network_policies: NotRequired[bool]
    """A NetworkPolicy per service admitting only its port and the data plane's (default
    true)."""
    image_digests: NotRequired[Mapping[str, str]]
    """Digests (sha256:…) by image reference (`<hub>/examples-bookinfo-<svc>-<version>:<tag>`):
    those images are pulled by digest."""
    pod_annotations: NotRequired[Mapping[str, str]]
    """Annotations of every pod template (e.g. the revision its namespace's tag names: a
    change restarts the pods onto it)."""


# details (Ruby WEBrick) and ratings (Node.js): one small process each.
SMALL = hardening.Resources("10m", "64Mi", "500m", "256Mi")


@dataclass(frozen=True)
class Workload:
    service: str
    version: str
    env: dict[str, str] = field(default_factory=dict)
    # name -> mount path of an emptyDir: where the image writes (its root file system is
    # read-only)
    scratch: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    resources: hardening.Resources = SMALL
    # The image's group: None keeps it (group 0 for an image made for arbitrary UIDs).
    group: int | None = hardening.HIGH_UID


# Every service answers GET /health on its port: istio/istio samples/bookinfo/src details.rb
# (mount_proc '/health'), ratings.js, productpage.py (@app.route('/health')) and reviews'
# LibertyRestEndpoint.java. The images' own users are 1000 and 1001 (their Dockerfiles' USER);
# they run as any UID: they only read their files.
HEALTH_PATH = "/health"


def workloads(reviews_versions: Sequence[str]) -> list[Workload]:
    """The Deployments upstream declares, reviews limited to the requested versions."""
    reviews = [
        Workload(
            "reviews",
            version,
            env={"LOG_DIR": "/tmp/logs"},
            # Open Liberty (the image's base since istio/istio#49215; its Dockerfile
            # OpenLiberty/ci.docker kernel-slim): the server's output (workarea, pid) in
            # WLP_OUTPUT_DIR=/opt/ol/wlp/output, its scripts' temporary files in /tmp, and
            # the entrypoint docker-server.sh writes configDropins/defaults/keystore.xml at
            # every start. (Upstream's /opt/ibm/wlp/output is WebSphere Liberty's path.)
            scratch={
                "tmp": "/tmp",
                "wlp-output": "/opt/ol/wlp/output",
                "config-defaults": "/opt/ol/wlp/usr/servers/defaultServer/configDropins/defaults",
            },
            # A JVM: OpenJ9 sizes its heap from the limit.
            resources=hardening.Resources("50m", "256Mi", "1", "1Gi"),
            # Built for arbitrary UIDs in group 0 (the base image's chmod g+rwx).
            group=None,
        )
        for version in reviews_versions
    ]
    return [
        Workload("details", "v1", scratch={"tmp": "/tmp"}),
        Workload("ratings", "v1", scratch={"tmp": "/tmp"}),
        *reviews,
        Workload(
            "productpage",
            "v1",
            # gunicorn's workers keep a heartbeat file in the temporary directory.
            scratch={"tmp": "/tmp"},
            annotations={
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(PORT),
                "prometheus.io/path": "/metrics",
            },
            # Eight gevent workers (its Dockerfile's gunicorn -w 8), each a Python process.
            resources=hardening.Resources("20m", "256Mi", "1", "1Gi"),
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
        service_labels = {**extra, **(args.get("service_labels") or {})}
        self.services = {}
        accounts: dict[str, k8s.core.v1.ServiceAccount] = {}
        for svc in SERVICES:
            self.services[svc] = k8s.core.v1.Service(
                f"{name}-{svc}-service",
                metadata=_meta(svc, namespace, {"app": svc, "service": svc, **service_labels}),
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

            if args.get("network_policies", True):
                network_policy.ingress_policy(
                    f"{name}-{svc}-network-policy",
                    svc,
                    namespace,
                    network_policy.ingress_spec(
                        {"app": svc}, open_ports=(PORT, *network_policy.DATA_PLANE_PORTS)
                    ),
                    child,
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
    image = hardening.pinned(
        f"{args.get('image_hub', versions.BOOKINFO_HUB)}/examples-bookinfo-"
        f"{workload.service}-{workload.version}:{args.get('image_tag', versions.BOOKINFO_TAG)}",
        args.get("image_digests") or {},
    )
    mounts, volumes = hardening.scratch_volumes(workload.scratch)
    container = k8s.core.v1.ContainerArgs(
        name=workload.service,
        image=image,
        image_pull_policy=hardening.pull_policy(image),
        ports=[k8s.core.v1.ContainerPortArgs(container_port=PORT)],
        env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in workload.env.items()] or None,
        volume_mounts=mounts or None,
        security_context=hardening.container_security(),
        resources=workload.resources.args(),
        **hardening.http_probes(PORT, HEALTH_PATH),
    )
    return k8s.apps.v1.Deployment(
        resource_name,
        metadata=_meta(f"{workload.service}-{workload.version}", args["namespace"], labels),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels=labels,
                    annotations={**workload.annotations, **(args.get("pod_annotations") or {})}
                    or None,
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=account.metadata.name,
                    # Nothing in Bookinfo calls the Kubernetes API; a sidecar brings its own
                    # projected token.
                    automount_service_account_token=False,
                    security_context=hardening.pod_security(gid=workload.group),
                    containers=[container],
                    volumes=volumes or None,
                ),
            ),
        ),
        opts=opts,
    )
