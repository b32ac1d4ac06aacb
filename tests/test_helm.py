"""Where a release's chart comes from: a repository, an OCI registry or a local folder."""

from __future__ import annotations

import pytest

from meshstack.helm import chart_location
from tools.charts import Release


def test_https_repository_is_looked_up_by_chart_name():
    chart, opts = chart_location("https://blob.istio.io/istio-release/charts", "istiod")
    assert chart == "istiod"
    assert opts is not None and opts.repo == "https://blob.istio.io/istio-release/charts"


@pytest.mark.parametrize(
    ("repository", "chart"),
    [
        ("oci://ghcr.io/istio/release/charts/", "oci://ghcr.io/istio/release/charts/istiod"),
        # Helm takes a path for a chart on disk (`helm install NAME ./dir`) with no repository.
        ("file:///srv/charts/", "/srv/charts/istiod"),
    ],
)
def test_oci_and_local_charts_are_the_chart_reference(repository, chart):
    assert chart_location(repository, "istiod") == (chart, None)


def test_a_local_release_is_rendered_from_that_folder():
    inputs = {"name": "istiod", "chart": "/srv/charts/istiod", "version": "1.31.0"}
    release = Release.of({**inputs, "namespace": "istio-system"})
    assert (release.chart, release.repository) == ("istiod", "file:///srv/charts")
