"""Kiali, Prometheus, Grafana (official charts) and Jaeger, next to the mesh they observe.

None of them is injected, so none waits for istiod: they install alongside it. Only the
tracing Telemetry object (an Istio resource) waits for the mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from meshstack import hardening, network_policy
from meshstack.helm import helm_release
from meshstack.istio.objects import TELEMETRY, istio_object
from meshstack.observability import values as addon_values


@dataclass(frozen=True)
class ChartRef:
    version: str
    repository: str


@dataclass(frozen=True)
class JaegerSettings:
    image: str
    sampling_percentage: float


@dataclass(frozen=True)
class ObservabilityArgs:
    provider: k8s.Provider
    # The namespace the mesh lives in (istio-system); addons go beside istiod like Istio's.
    namespace: pulumi.Input[str]
    namespace_name: str
    mesh_ready: pulumi.Resource
    prometheus: ChartRef | None = None
    grafana: ChartRef | None = None
    kiali: ChartRef | None = None
    jaeger: JaegerSettings | None = None
    # A NetworkPolicy per addon (observability/values.py ADDON_INGRESS).
    network_policies: bool = True


class Observability(pulumi.ComponentResource):
    """The addons that are switched on, wired to each other by in-cluster URL."""

    releases: dict[str, k8s.helm.v3.Release]
    open_commands: dict[str, str]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:observability:Addons", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        endpoints = addon_values.Endpoints(args.namespace_name)
        self._namespace_name = args.namespace_name
        self.releases = {}
        self.open_commands = {}

        def chart(chart_name: str, ref: ChartRef, values: dict) -> None:
            self.releases[chart_name] = helm_release(
                f"{name}-{chart_name}",
                release_name=chart_name,
                chart=chart_name,
                version=ref.version,
                repository=ref.repository,
                namespace=args.namespace,
                values=values,
                opts=child,
            )

        if args.prometheus:
            chart("prometheus", args.prometheus, addon_values.prometheus_values())
        if args.grafana:
            chart("grafana", args.grafana, addon_values.grafana_values(endpoints))
            self._hint("grafana", addon_values.GRAFANA_SERVICE, addon_values.GRAFANA_PORT)
        if args.jaeger:
            self._jaeger(name, args, args.jaeger, child)
        if args.kiali:
            chart(
                "kiali-server",
                args.kiali,
                addon_values.kiali_values(
                    endpoints, grafana=args.grafana is not None, tracing=args.jaeger is not None
                ),
            )
            self._hint(
                "kiali",
                addon_values.KIALI_SERVICE,
                addon_values.KIALI_PORT,
                path=addon_values.KIALI_WEB_ROOT,
            )

        if args.network_policies:
            for addon in [*self.releases, *(["jaeger"] if args.jaeger else [])]:
                ingress = addon_values.ADDON_INGRESS[addon]
                network_policy.ingress_policy(
                    f"{name}-{addon}-network-policy",
                    addon,
                    args.namespace,
                    network_policy.ingress_spec(
                        ingress.selector,
                        ingress.namespace_ports,
                        namespace_only=True,
                        open_ports=ingress.open_ports,
                    ),
                    child,
                )
        self.register_outputs(
            {"releases": [r.name for r in self.releases.values()], **self.open_commands}
        )

    def _hint(self, key: str, service: str, port: int, remote_port: int = 0, path="/") -> None:
        self.open_commands[key] = addon_values.port_forward_hint(
            self._namespace_name, service, port, remote_port or port, path
        )

    def _jaeger(
        self,
        name: str,
        args: ObservabilityArgs,
        jaeger: JaegerSettings,
        child: pulumi.ResourceOptions,
    ) -> None:
        """Jaeger v2 all-in-one (memory storage), the shape of Istio's own jaeger addon."""
        # The labels its NetworkPolicy selects.
        labels = addon_values.ADDON_INGRESS["jaeger"].selector
        mounts, volumes = hardening.scratch_volumes({"tmp": "/tmp"})
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name="jaeger", namespace=args.namespace, labels=labels
        )
        ports = {
            "http-query": addon_values.JAEGER_UI_PORT,
            "grpc-query": addon_values.TRACING_GRPC_PORT,
            "grpc-otel": addon_values.COLLECTOR_OTLP_GRPC_PORT,
            "http-otel": addon_values.JAEGER_OTLP_HTTP_PORT,
            "http-zipkin": addon_values.JAEGER_ZIPKIN_PORT,
        }
        k8s.apps.v1.Deployment(
            f"{name}-jaeger",
            metadata=metadata,
            spec=k8s.apps.v1.DeploymentSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels={**labels, **addon_values.NO_SIDECAR}
                    ),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        # The image's own user (jaegertracing/jaeger cmd/jaeger/Dockerfile:
                        # USER 10001), a static binary that writes only to /tmp (its VOLUME).
                        security_context=hardening.pod_security(),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="jaeger",
                                image=jaeger.image,
                                image_pull_policy=hardening.pull_policy(jaeger.image),
                                ports=[
                                    k8s.core.v1.ContainerPortArgs(name=n, container_port=p)
                                    for n, p in ports.items()
                                ],
                                # The all-in-one config's healthcheckv2 extension (cmd/jaeger/
                                # internal/all-in-one.yaml): /status on 13133 answers 200 once
                                # every pipeline runs, as Istio's samples/addons/jaeger.yaml asks.
                                **hardening.http_probes(addon_values.JAEGER_HEALTH_PORT, "/status"),
                                security_context=hardening.container_security(),
                                volume_mounts=mounts,
                                # In-memory traces: the memory limit bounds what it keeps.
                                resources=hardening.Resources("10m", "128Mi", "1", "1Gi").args(),
                            )
                        ],
                        volumes=volumes,
                    ),
                ),
            ),
            opts=child,
        )

        def service(role: str, service_name: str, service_ports: list[tuple[str, int, int]]):
            k8s.core.v1.Service(
                f"{name}-{role}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=service_name, namespace=args.namespace, labels=labels
                ),
                spec=k8s.core.v1.ServiceSpecArgs(
                    selector=labels,
                    ports=[
                        k8s.core.v1.ServicePortArgs(name=n, port=p, target_port=t)
                        for n, p, t in service_ports
                    ],
                ),
                opts=child,
            )

        service(
            "tracing",
            addon_values.TRACING_SERVICE,
            [
                ("http-query", addon_values.TRACING_HTTP_PORT, addon_values.JAEGER_UI_PORT),
                ("grpc-query", addon_values.TRACING_GRPC_PORT, addon_values.TRACING_GRPC_PORT),
            ],
        )
        service(
            "collector",
            addon_values.COLLECTOR_SERVICE,
            [(n, ports[n], ports[n]) for n in ("grpc-otel", "http-otel", "http-zipkin")],
        )
        # Tracing on for the whole mesh; the provider itself is in istiod's meshConfig.
        istio_object(
            f"{name}-tracing-telemetry",
            "Telemetry",
            "mesh-default",
            args.namespace,
            addon_values.tracing_telemetry_spec(jaeger.sampling_percentage),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[args.mesh_ready])
            ),
            api_version=TELEMETRY,
        )
        self._hint(
            "jaeger",
            addon_values.TRACING_SERVICE,
            addon_values.JAEGER_UI_PORT,
            remote_port=addon_values.TRACING_HTTP_PORT,
        )
