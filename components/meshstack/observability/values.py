"""Where the addons listen, and the Helm values that wire them together (pure, no Pulumi).

Names and ports follow Istio's sample addons (samples/addons), so Istio's docs and Kiali's
defaults apply as written: Service `prometheus:9090`, `grafana:3000`, `kiali:20001` under
`/kiali`, Jaeger's query UI behind `tracing`, its collector behind `jaeger-collector`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Addon pods stay out of the mesh, as in Istio's samples (their namespace is not injected,
# but the gateway pods there are injected by label, so say it on the pods too).
NO_SIDECAR = {"sidecar.istio.io/inject": "false"}

PROMETHEUS_SERVICE, PROMETHEUS_PORT = "prometheus", 9090
GRAFANA_SERVICE, GRAFANA_PORT = "grafana", 3000
KIALI_SERVICE, KIALI_PORT, KIALI_WEB_ROOT = "kiali", 20001, "/kiali"
TRACING_SERVICE, TRACING_HTTP_PORT, TRACING_GRPC_PORT = "tracing", 80, 16685
COLLECTOR_SERVICE, COLLECTOR_OTLP_GRPC_PORT = "jaeger-collector", 4317
JAEGER_UI_PORT = 16686
TRACING_PROVIDER = "jaeger"
JAEGER_HEALTH_PORT = 13133
# Jaeger's receivers (OTLP gRPC and HTTP, Zipkin): every proxy in the mesh sends spans.
JAEGER_OTLP_HTTP_PORT, JAEGER_ZIPKIN_PORT = 4318, 9411
JAEGER_RECEIVER_PORTS = (COLLECTOR_OTLP_GRPC_PORT, JAEGER_OTLP_HTTP_PORT, JAEGER_ZIPKIN_PORT)


@dataclass(frozen=True)
class Ingress:
    """Who may connect to an addon's pods: its selector (the chart's Deployment selector, as
    rendered), the ports only its namespace's pods call, the ports anyone may call."""

    selector: dict[str, str]
    namespace_ports: tuple[int, ...]
    open_ports: tuple[int, ...] = ()


# Kiali and Grafana read Prometheus, Kiali reads Grafana and Jaeger's query API: all in one
# namespace. Prometheus scrapes Kiali's metrics port (9090). People come in through
# `kubectl port-forward`, which a NetworkPolicy does not see.
ADDON_INGRESS = {
    "prometheus": Ingress(
        {
            "app.kubernetes.io/component": "server",
            "app.kubernetes.io/name": "prometheus",
            "app.kubernetes.io/instance": "prometheus",
        },
        (PROMETHEUS_PORT,),
    ),
    "grafana": Ingress(
        {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana"},
        (GRAFANA_PORT,),
    ),
    "kiali-server": Ingress(
        {"app.kubernetes.io/name": "kiali", "app.kubernetes.io/instance": "kiali"},
        (KIALI_PORT, 9090),
    ),
    "jaeger": Ingress(
        {"app": "jaeger"},
        (JAEGER_UI_PORT, TRACING_GRPC_PORT),
        (*JAEGER_RECEIVER_PORTS, JAEGER_HEALTH_PORT),
    ),
}


@dataclass(frozen=True)
class Endpoints:
    """In-cluster URLs of the addons in one namespace."""

    namespace: str

    def url(self, service: str, port: int) -> str:
        return f"http://{service}.{self.namespace}:{port}"

    @property
    def prometheus(self) -> str:
        return self.url(PROMETHEUS_SERVICE, PROMETHEUS_PORT)

    @property
    def grafana(self) -> str:
        return self.url(GRAFANA_SERVICE, GRAFANA_PORT)

    @property
    def tracing_grpc(self) -> str:
        return self.url(TRACING_SERVICE, TRACING_GRPC_PORT)

    @property
    def collector_host(self) -> str:
        return f"{COLLECTOR_SERVICE}.{self.namespace}.svc.cluster.local"


def tracing_extension_provider(endpoints: Endpoints) -> dict[str, Any]:
    """The meshConfig.extensionProviders entry that sends spans to Jaeger over OTLP."""
    return {
        "name": TRACING_PROVIDER,
        "opentelemetry": {"service": endpoints.collector_host, "port": COLLECTOR_OTLP_GRPC_PORT},
    }


def tracing_telemetry_spec(sampling_percentage: float) -> dict[str, Any]:
    """Spec of the mesh-wide Telemetry object that turns the provider on."""
    return {
        "tracing": [
            {
                "providers": [{"name": TRACING_PROVIDER}],
                "randomSamplingPercentage": sampling_percentage,
            }
        ]
    }


# The hardening of the package's own pods (meshstack/hardening.py), in the charts' keys.
RUNTIME_DEFAULT_SECCOMP = {"seccompProfile": {"type": "RuntimeDefault"}}
LOCKED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def prometheus_values() -> dict[str, Any]:
    """One Prometheus server, as Istio's sample: no alertmanager, exporters or pushgateway.

    The node exporter is a DaemonSet, which serverless clusters cannot run. The chart's default
    `kubernetes-pods` job scrapes the merged Istio/app metrics every sidecar annotates.
    """
    return {
        # The config reloader only reads the mounted ConfigMap and calls Prometheus.
        "configmapReload": {
            "prometheus": {
                "image": {"pullPolicy": "Always"},
                "containerSecurityContext": LOCKED_CONTAINER,
                "resources": _resources("5m", "32Mi", "100m", "128Mi"),
            }
        },
        "alertmanager": {"enabled": False},
        "kube-state-metrics": {"enabled": False},
        "prometheus-node-exporter": {"enabled": False},
        "prometheus-pushgateway": {"enabled": False},
        "server": {
            "fullnameOverride": PROMETHEUS_SERVICE,
            "podLabels": dict(NO_SIDECAR),
            # Demo retention in the pod: no volume claim, so no storage class is needed.
            "persistentVolume": {"enabled": False},
            "service": {"servicePort": PROMETHEUS_PORT},
            "global": {"scrape_interval": "15s"},
            "image": {"pullPolicy": "Always"},
            # The chart runs it as nobody (65534); it writes only its TSDB, in the
            # storage-volume emptyDir at /data (persistentVolume off).
            "securityContext": RUNTIME_DEFAULT_SECCOMP,
            "containerSecurityContext": LOCKED_CONTAINER,
            "resources": _resources("50m", "256Mi", "1", "2Gi"),
        },
    }


def grafana_values(endpoints: Endpoints) -> dict[str, Any]:
    """Grafana with Prometheus as its default data source.

    Anonymous users may look, not change: the Service is ClusterIP and reached only through
    `kubectl port-forward`. (Istio's sample makes them admins; Grafana deprecated anonymous
    roles other than Viewer, grafana/grafana#101411.)
    """
    return {
        "fullnameOverride": GRAFANA_SERVICE,
        "podLabels": dict(NO_SIDECAR),
        "service": {"port": GRAFANA_PORT},
        "persistence": {"enabled": False},
        "image": {"pullPolicy": "Always"},
        # No dashboard sidecar (the chart's default): Grafana never calls the Kubernetes API.
        "automountServiceAccountToken": False,
        "resources": _resources("50m", "128Mi", "1", "512Mi"),
        "grafana.ini": {
            "auth.anonymous": {"enabled": True, "org_role": "Viewer"},
            "auth.basic": {"enabled": False},
        },
        "datasources": {
            "datasources.yaml": {
                "apiVersion": 1,
                "datasources": [
                    {
                        "name": "Prometheus",
                        "uid": "prometheus",
                        "type": "prometheus",
                        "access": "proxy",
                        "url": endpoints.prometheus,
                        "isDefault": True,
                    }
                ],
            }
        },
    }


def kiali_values(endpoints: Endpoints, *, grafana: bool, tracing: bool) -> dict[str, Any]:
    """kiali-server values pointing Kiali at the other addons (keys of Kiali's config)."""
    return {
        # Reached through port-forward only (ClusterIP), as in Istio's sample.
        "auth": {"strategy": "anonymous"},
        "deployment": {"pod_labels": dict(NO_SIDECAR)},
        "server": {"web_root": KIALI_WEB_ROOT},
        "external_services": {
            "prometheus": {"url": endpoints.prometheus},
            "grafana": {
                "enabled": grafana,
                "internal_url": endpoints.grafana,
                # Where a browser opens Grafana: the port-forward the outputs print.
                "external_url": f"http://localhost:{GRAFANA_PORT}",
            },
            "tracing": {
                "enabled": tracing,
                "provider": "jaeger",
                "use_grpc": True,
                "internal_url": endpoints.tracing_grpc,
                "external_url": f"http://localhost:{JAEGER_UI_PORT}",
            },
        },
    }


def port_forward_hint(namespace: str, service: str, local_port: int, remote_port: int, path="/"):
    return (
        f"kubectl -n {namespace} port-forward svc/{service} {local_port}:{remote_port}, "
        f"then open http://localhost:{local_port}{path}"
    )
