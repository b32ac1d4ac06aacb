"""What every mesh shares: Istio, Bookinfo, the addons, the sample app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components import versions
from stacks.config.fields import (
    PROJECT,
    AppNamespace,
    ChartRepository,
    ImageReference,
    ImageRegistry,
    ImageTag,
    Model,
    PullPolicy,
    Revision,
    SemVer,
)

MtlsMode = Literal["STRICT", "PERMISSIVE", "DISABLE"]


# Istio's default profile, or the demo profile of seed 000 (access log to stdout, 100 % trace
# sampling, small requests). Other chart profiles (remote, ambient) are set by the scenario.
IstioProfile = Literal["default", "demo"]


class IstioConfig(Model):
    """Istio control plane from Istio's Helm charts (seeds 000/004)."""

    version: SemVer = versions.ISTIO
    chart_repository: ChartRepository = versions.ISTIO_CHART_REPOSITORY
    hub: ImageRegistry = versions.ISTIO_HUB
    tag: ImageTag | None = None
    image_pull_policy: PullPolicy = "IfNotPresent"
    profile: IstioProfile = "demo"
    revision: Revision | None = None
    # Mesh-wide PeerAuthentication; PERMISSIVE only while migrating plain-text clients.
    mtls: MtlsMode = "STRICT"
    outbound_traffic_policy: Literal["ALLOW_ANY", "REGISTRY_ONLY"] = "ALLOW_ANY"
    cni: bool = False
    ingress_service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "LoadBalancer"
    egress_gateway: bool = True

    @property
    def image_tag(self) -> str:
        return self.tag or self.version

    @field_validator("version")
    @classmethod
    def _known_minor(cls, version: str) -> str:
        minor = ".".join(version.split(".")[:2])
        if minor not in versions.ISTIO_SUPPORTS_KUBERNETES:
            known = ", ".join(f"{m}.x" for m in versions.ISTIO_SUPPORTS_KUBERNETES)
            raise ValueError(
                f"Istio {minor} is not one this package is tested with ({known}: its charts "
                "are rendered by the tests and its Kubernetes range is known)"
            )
        return version


ReviewsVersion = Literal["v1", "v2", "v3"]


RoutingScenario = Literal[
    "none",
    "all-v1",
    "jason-v2",
    "reviews-80-20",
    "reviews-50-v3",
    "reviews-v3",
    "ratings-delay",
    "ratings-abort",
]


# Which reviews versions each routing scenario sends traffic to (it must be deployed).
ROUTING_NEEDS: Mapping[str, frozenset[str]] = {
    "none": frozenset(),
    "all-v1": frozenset({"v1"}),
    "jason-v2": frozenset({"v1", "v2"}),
    "reviews-80-20": frozenset({"v1", "v2"}),
    "reviews-50-v3": frozenset({"v1", "v3"}),
    "reviews-v3": frozenset({"v3"}),
    "ratings-delay": frozenset({"v1", "v2"}),
    "ratings-abort": frozenset({"v1", "v2"}),
}


class BookinfoConfig(Model):
    """The Bookinfo sample as typed resources (seed 000 / 003)."""

    enabled: bool = True
    namespace: AppNamespace = "bookinfo"
    image_hub: ImageRegistry = versions.BOOKINFO_HUB
    image_tag: ImageTag = versions.BOOKINFO_TAG
    reviews_versions: list[ReviewsVersion] = Field(default=["v1", "v2", "v3"], min_length=1)
    routing: RoutingScenario = "jason-v2"

    @model_validator(mode="after")
    def _routing_targets_deployed(self) -> BookinfoConfig:
        problems = []
        if len(set(self.reviews_versions)) != len(self.reviews_versions):
            problems.append(f"reviewsVersions lists a version twice: {self.reviews_versions}")
        missing = ROUTING_NEEDS[self.routing] - set(self.reviews_versions)
        if missing:
            problems.append(
                f"routing {self.routing!r} sends traffic to reviews {sorted(missing)}, "
                f"which reviewsVersions {self.reviews_versions} does not deploy"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


class KialiConfig(Model):
    enabled: bool = True
    chart_version: SemVer = versions.KIALI.version
    repository: ChartRepository = versions.KIALI.repository


class PrometheusConfig(Model):
    enabled: bool = True
    chart_version: SemVer = versions.PROMETHEUS.version
    repository: ChartRepository = versions.PROMETHEUS.repository


class GrafanaConfig(Model):
    enabled: bool = True
    chart_version: SemVer = versions.GRAFANA.version
    repository: ChartRepository = versions.GRAFANA.repository


class JaegerConfig(Model):
    """Jaeger v2 all-in-one (in-memory), declared as typed objects like Istio's own addon."""

    enabled: bool = True
    image: ImageRegistry = versions.JAEGER_IMAGE
    tag: ImageTag = versions.JAEGER_TAG
    sampling_percentage: float = Field(default=100.0, ge=0.0, le=100.0)


class AddonsConfig(Model):
    """Seed 004's observability addons, each switchable, wired so Kiali finds the others."""

    kiali: KialiConfig = KialiConfig()
    prometheus: PrometheusConfig = PrometheusConfig()
    grafana: GrafanaConfig = GrafanaConfig()
    jaeger: JaegerConfig = JaegerConfig()

    @model_validator(mode="after")
    def _prometheus_feeds_the_dashboards(self) -> AddonsConfig:
        if not self.prometheus.enabled:
            needing = [n for n in ("kiali", "grafana") if getattr(self, n).enabled]
            if needing:
                keys = " and ".join(f"{PROJECT}:addons.{n}.enabled" for n in needing)
                verb = "are" if len(needing) > 1 else "is"
                raise ValueError(
                    f"{PROJECT}:addons.prometheus.enabled is false, but {keys} {verb} true: "
                    "their graphs and dashboards read Prometheus; enable Prometheus or "
                    "disable them too"
                )
        return self


class HelloWorldConfig(Model):
    """Seed 001's in-cluster service the VM calls (http://hello-world.default)."""

    enabled: bool = True
    namespace: AppNamespace = "default"
    image: ImageReference = versions.HELLO_WORLD_IMAGE


class VerifyConfig(Model):
    """The checks `pulumi up` runs in the clusters before it reports success (the seeds'
    verification steps: routes, mTLS, the VM, every cluster answering)."""

    enabled: bool = True
    # Requests per round of each check (weighted routing takes at least 100).
    samples: int = Field(default=20, ge=5, le=200)
    # How long a check may retry before it fails the update (a VM's first boot included).
    deadline_seconds: int = Field(default=420, ge=60, le=1800)


class MeshStack(Model):
    """What every scenario that runs Istio and Bookinfo shares."""

    istio: IstioConfig = IstioConfig()
    bookinfo: BookinfoConfig = BookinfoConfig()
    addons: AddonsConfig = AddonsConfig()
    verify: VerifyConfig = VerifyConfig()
