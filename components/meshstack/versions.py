"""Every pinned version of what the package installs, in one place (pure data).

The config defaults, the chart tool (`make charts`), the README and the tests read these.
A chart pinned here is one whose source the test suite renders with the real Helm
(tests/test_helm_releases.py): change a pin together with the chart source it is tested on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Istio: the charts and the default image tag. 1.31.0 was released on 2026-08-31.
ISTIO = "1.31.0"
# The release before it, for canary upgrades from it (istio.revisions): its charts are
# rendered by the tests too (1.30.3 sources: shared/reference/charts-1.30.3).
ISTIO_PREVIOUS = "1.30.3"
ISTIO_VERSIONS = (ISTIO_PREVIOUS, ISTIO)
# Istio's chart repository since 1.31 (the storage.googleapis.com one is being retired);
# the same charts are at oci://ghcr.io/istio/release/charts/<chart>.
ISTIO_CHART_REPOSITORY = "https://blob.istio.io/istio-release/charts"
# A chart repository given as file://<dir>: a folder of chart sources, one folder per chart
# (what `make charts` writes). Here, not in meshstack.helm, so that the config reads it
# without the Pulumi SDK (scripts/up.sh checks a stack file before installing that).
LOCAL_CHARTS = "file://"
# Published charts default to a registry that is being retired: always set the hub.
ISTIO_HUB = "docker.io/istio"
# Istio's charts, by their names in the repository (istio-discovery is published as istiod).
ISTIO_CHARTS = ("base", "istiod", "gateway", "cni", "ztunnel")

# Kubernetes minors each Istio minor supports
# (istio.io/latest/docs/releases/supported-releases). The config refuses Istio minors that
# are not listed: their charts are not the ones the tests render. 1.30: istioctl's
# MinK8SVersion 32 and the integration suite's newest kind node v1.35.0 at tag 1.30.3
# (istio/istio istioctl/pkg/install/k8sversion/version.go, prow/integ-suite-kind.sh).
ISTIO_SUPPORTS_KUBERNETES: Mapping[str, tuple[int, int]] = {"1.30": (32, 35), "1.31": (32, 36)}
# The Kubernetes minor of ACK, ACS and ASK clusters unless configured (its newest patch is
# looked up); within the Istio range above.
ALIBABA_KUBERNETES = "1.36"
# The Kubernetes minor of GKE clusters unless configured: the control plane starts there and
# GKE moves only its patches (components/meshstack/gcp/gke.py holds the minor); within the
# Istio range above and offered on GKE's channels in late 2026 (1.35: Kubernetes release
# 2025-12, GKE standard support into 2027).
GKE_KUBERNETES = "1.35"
# ASM's minor for the managed control plane (its newest release is looked up).
ASM = "1.26"


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart at an exact version from its official repository."""

    chart: str
    version: str
    repository: str


KIALI = ChartPin("kiali-server", "2.29.0", "https://kiali.org/helm-charts")
PROMETHEUS = ChartPin("prometheus", "29.27.0", "https://prometheus-community.github.io/helm-charts")
# The grafana chart moved from grafana/helm-charts to the community organisation.
GRAFANA = ChartPin("grafana", "11.1.0", "https://grafana-community.github.io/helm-charts")
ADDON_CHARTS = (KIALI, PROMETHEUS, GRAFANA)


def istio_charts(version: str = ISTIO) -> tuple[ChartPin, ...]:
    return tuple(ChartPin(chart, version, ISTIO_CHART_REPOSITORY) for chart in ISTIO_CHARTS)


# Revision tags: no repository publishes a chart of the tag objects alone, and the istiod
# chart renders its own sidecar injector beside them whatever the values
# (templates/mutatingwebhook.yaml and revision-tags-mwc.yaml share one condition). So, as
# Sail Operator does (hack/download-charts.sh createRevisionTagChart), a chart of the
# istiod chart's tag templates is derived from each version's istiod chart (`make charts`,
# tools/charts.py derive_tag_chart): <TAG_CHARTS>/<version>/<TAG_CHART>.
TAG_CHART = "revision-tags"
# Relative to the project directory, where Pulumi runs the program and its providers.
TAG_CHARTS = ".charts/tags"


# Kubernetes Gateway API: the release Istio 1.31 builds against (its go.mod), standard channel.
# Istio installs none of its CRDs; the stacks that use it install these first.
GATEWAY_API = "v1.6.0"
GATEWAY_API_CRDS = (
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/"
    f"{GATEWAY_API}/standard-install.yaml"
)

# Images the package declares itself (not through a chart).
BOOKINFO_HUB = "docker.io/istio"
# The newest Bookinfo tag on docker.io (the 1.30 samples moved to a registry being retired).
BOOKINFO_TAG = "1.20.3"
JAEGER_IMAGE = "docker.io/jaegertracing/jaeger"
JAEGER_TAG = "2.17.0"
HELLO_WORLD_IMAGE = "gcr.io/tetratelabs/hello-world:1.0.0"
# Istio's helloworld sample (samples/helloworld/helloworld.yaml before the move to
# registry.istio.io): names the instance that answers, for multi-cluster checks.
HELLOWORLD_SAMPLE_IMAGE = "docker.io/istio/examples-helloworld-v1:1.0"
# The runtime of the package's own in-cluster jobs (standard-library Python scripts).
PYTHON_IMAGE = "docker.io/library/python:3.13-slim"
