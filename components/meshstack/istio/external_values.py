"""Pure builders for Istio's external control plane (istio.io "Install Istio with an External
Control Plane"): the external istiod's values, the remote-profile values of the config
cluster and of further remote clusters, and the Gateway and VirtualService that expose the
external istiod for its host name.

Facts from the Istio 1.31 charts (shared/reference/charts) and release-1.31 source:

- no istiod-remote chart since 1.24: remotes install `base` and `istiod` with `profile:
  remote` (istiod files/profile-remote.yaml: `istiodRemote.enabled`, `configMap: false`,
  no sidecar-injector ConfigMap), which renders no istiod Deployment (templates/
  deployment.yaml: only without istiodRemote.enabled); the config cluster adds
  `global.configCluster` (istiod's ServiceAccount, roles and validating webhook:
  templates/serviceaccount.yaml, clusterrole.yaml, validatingwebhookconfiguration.yaml);
- the remotes' webhooks call `istiodRemote.injectionURL` and `base.validationURL` with the
  CA bundles `istiodRemote.injectionCABundle` / `base.validationCABundle`
  (templates/mutatingwebhook.yaml, validatingwebhookconfiguration.yaml; base templates/
  defaultrevision-validatingwebhookconfiguration.yaml);
- the external istiod (`global.externalIstiod`: env EXTERNAL_ISTIOD) reads its config
  cluster through the Secret `istio-kubeconfig`, which the chart mounts at
  /var/run/secrets/remote with KUBECONFIG pointing at it (templates/deployment.yaml); it
  mounts neither its mesh config nor its injector templates (Istio's own setup adds both
  volumes: tests/integration/iop-externalistiod-primary-integration-test-defaults.yaml);
- `CLUSTER_ID` (`global.multiCluster.clusterName`) must be the config cluster's name, and the
  namespace the same on both sides (`global.istioNamespace`).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from meshstack.istio import values as istio_values
from meshstack.istio.eastwest import WEBHOOK_PORT, XDS_PORT, istiod_service

STATUS_PORT = 15021
# The external cluster's ingress gateway (its own control plane in istio-system injects it).
INGRESS_SELECTOR = {"istio": "ingressgateway"}
EXTERNAL_GATEWAY = "external-istiod-gw"
EXTERNAL_ROUTES = "external-istiod-vs"
# Where istiod reads a mounted mesh config and injector templates (pilot/pkg/bootstrap/
# options.go defaults: /etc/istio/config/mesh, /var/lib/istio/inject).
MOUNTS = {"config-volume": "/etc/istio/config", "inject-volume": "/var/lib/istio/inject"}


def _names(revision: str | None) -> dict[str, str]:
    suffix = f"-{revision}" if revision else ""
    # The ConfigMaps the istiod chart renders (templates/configmap.yaml,
    # istiod-injector-configmap.yaml).
    return {"config-volume": f"istio{suffix}", "inject-volume": f"istio-sidecar-injector{suffix}"}


def injection_url(host: str, cluster: str, network: str) -> str:
    return f"https://{host}:{WEBHOOK_PORT}{istio_values.injection_path(cluster, network)}"


def validation_url(host: str) -> str:
    return f"https://{host}:{WEBHOOK_PORT}/validate"


def ca_bundle(pem: str) -> str:
    """A webhook's caBundle: the PEM, base64 (admissionregistration.k8s.io/v1). The root
    suffices: istiod serves its certificate with its CA's chain (pilot/pkg/bootstrap/
    certcontroller.go:102 GenKeyCert; security/pkg/pki/ca/ca.go:526-528 appends the chain)."""
    return base64.b64encode(pem.encode()).decode()


def webhook_names(namespace: str, revision: str | None) -> dict[str, str]:
    """The config cluster's webhooks the external istiod patches (the chart's names outside
    istio-system: templates/mutatingwebhook.yaml, validatingwebhookconfiguration.yaml)."""
    suffix = f"-{revision}" if revision else ""
    return {
        "INJECTION_WEBHOOK_CONFIG_NAME": f"istio-sidecar-injector{suffix}-{namespace}",
        "VALIDATION_WEBHOOK_CONFIG_NAME": f"istio-validator{suffix}-{namespace}",
    }


def external_istiod_values(
    release: istio_values.IstioRelease,
    mesh: istio_values.MeshSettings,
    *,
    namespace: str,
    host: str,
    replicas: int,
) -> dict[str, Any]:
    """The external istiod, in `namespace` of the external cluster. `mesh.cluster_name` is
    the config cluster's name."""
    values = istio_values.istiod_values(release, replace(mesh, external_istiod=True))
    values["global"].update(
        {
            "istioNamespace": namespace,
            # No webhooks in the external cluster: the remotes' are their own releases'.
            "operatorManageWebhooks": True,
            "configValidation": False,
        }
    )
    # Proxies in every remote reach istiod by its host name (xDS and CA on 15012) and want
    # that name in istiod's certificate (pilot/cmd/pilot-agent/config/config.go GetPilotSan).
    values["meshConfig"].setdefault("defaultConfig", {})["discoveryAddress"] = f"{host}:{XDS_PORT}"
    pilot = values.setdefault("pilot", {})
    pilot["env"] = {
        **pilot.get("env", {}),
        # istiod's serving certificate covers the host (pilot/pkg/bootstrap/server.go
        # getDNSNames): the gateway passes TLS through, the remotes verify the host.
        "ISTIOD_CUSTOM_HOST": host,
        # Remote secrets of further remotes live in the external cluster's namespace, not in
        # the config cluster (pilot/pkg/features/pilot.go LOCAL_CLUSTER_SECRET_WATCHER).
        "LOCAL_CLUSTER_SECRET_WATCHER": "true",
        **webhook_names(namespace, release.revision),
    }
    # HA: several instances; with autoscaling (the chart's default) the minimum counts, and
    # above one the chart adds a PodDisruptionBudget (templates/poddisruptionbudget.yaml).
    pilot["autoscaleMin"] = replicas
    names = _names(release.revision)
    pilot["volumes"] = [{"name": v, "configMap": {"name": names[v]}} for v in MOUNTS]
    pilot["volumeMounts"] = [{"name": v, "mountPath": path} for v, path in MOUNTS.items()]
    return values


def remote_base_values(
    release: istio_values.IstioRelease, *, host: str, root_pem: str
) -> dict[str, Any]:
    """`base` in a remote: the default validator calls the external istiod."""
    values = istio_values.base_values(release, remote=True)
    values["base"] = {
        "validationURL": validation_url(host),
        "validationCABundle": ca_bundle(root_pem),
    }
    return values


def remote_values(
    release: istio_values.IstioRelease,
    *,
    namespace: str,
    cluster: str,
    network: str,
    host: str,
    root_pem: str,
    config_cluster: bool,
) -> dict[str, Any]:
    """`istiod` in `remote` profile in a remote cluster: the injection webhook calls the
    external istiod for this cluster and network; the config cluster also holds istiod's
    account and the validating webhook."""
    values: dict[str, Any] = {
        "profile": "remote",
        "global": {"istioNamespace": namespace},
        "istiodRemote": {
            "injectionURL": injection_url(host, cluster, network),
            "injectionCABundle": ca_bundle(root_pem),
        },
    }
    if config_cluster:
        values["global"]["configCluster"] = True
        values["base"] = {
            "validationURL": validation_url(host),
            "validationCABundle": ca_bundle(root_pem),
        }
    if release.revision:
        values["revision"] = release.revision
    return values


def ingress_values(
    release: istio_values.IstioRelease, address: str | None, annotations: dict[str, str]
) -> dict[str, Any]:
    """The external cluster's ingress gateway: its status port and istiod's two."""
    service: dict[str, Any] = {
        "ports": [
            {"name": "status-port", "port": STATUS_PORT, "targetPort": STATUS_PORT},
            {"name": "tls-istiod", "port": XDS_PORT, "targetPort": XDS_PORT},
            {"name": "tls-webhook", "port": WEBHOOK_PORT, "targetPort": WEBHOOK_PORT},
        ],
        "annotations": dict(annotations),
    }
    if address:
        service["loadBalancerIP"] = address
    return istio_values.gateway_values(release, "LoadBalancer", service=service)


def expose_specs(host: str, namespace: str, revision: str | None) -> dict[str, dict[str, Any]]:
    """Gateway and VirtualService on the external cluster's ingress gateway: TLS for `host`
    on 15012 and 15017, passed through to the external istiod (its Service's 15012 and 443,
    templates/service.yaml)."""
    service = f"{istiod_service(revision)}.{namespace}.svc.cluster.local"
    targets = {XDS_PORT: XDS_PORT, WEBHOOK_PORT: 443}
    return {
        EXTERNAL_GATEWAY: {
            "selector": dict(INGRESS_SELECTOR),
            "servers": [
                {
                    "port": {"name": f"tls-{port}", "number": port, "protocol": "TLS"},
                    "tls": {"mode": "PASSTHROUGH"},
                    "hosts": [host],
                }
                for port in targets
            ],
        },
        EXTERNAL_ROUTES: {
            "hosts": [host],
            "gateways": [EXTERNAL_GATEWAY],
            "tls": [
                {
                    "match": [{"port": port, "sniHosts": [host]}],
                    "route": [{"destination": {"host": service, "port": {"number": target}}}],
                }
                for port, target in targets.items()
            ],
        },
    }
