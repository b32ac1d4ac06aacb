"""Helm releases of pinned charts, with the settings every release here shares."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshstack.sdk_modules import load_only
from meshstack.versions import LOCAL_CHARTS

# Of pulumi_kubernetes.helm.v3 only the Release is used: not its Chart (helm.py), which loads
# the SDK's YAML module and `requests` (0.05 s, 6 MB; meshstack/sdk_modules.py).
load_only("pulumi_kubernetes.helm.v3", ("Release",))

# Long enough for a LoadBalancer to get an address on a cloud; a stuck release rolls back.
RELEASE_TIMEOUT_SECONDS = 900


def helm_release(
    resource_name: str,
    *,
    release_name: str,
    chart: str,
    version: str,
    repository: str,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A Helm release that waits for its workloads and rolls back (atomic) when they fail.

    Atomic also makes the provider's uninstall wait until the objects are gone, so a
    LoadBalancer Service has released its cloud load balancer before the cluster is deleted.

    `repository` is an https:// chart repository, an oci:// registry prefix, or
    file:///<dir>: a directory with one folder per chart (what `helm pull --untar` and
    `make charts` write), for machines without internet. The release name is fixed because
    charts derive labels and selectors from it.
    """
    chart_ref, repository_opts = chart_location(repository, chart)
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=chart_ref,
        version=version,
        repository_opts=repository_opts,
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=RELEASE_TIMEOUT_SECONDS,
        opts=opts,
    )


def chart_location(
    repository: str, chart: str
) -> tuple[str, k8s.helm.v3.RepositoryOptsArgs | None]:
    """What a Release's `chart` and `repository_opts` are for a chart in `repository`: an
    OCI reference or a local folder is the chart itself; an https:// repository is looked up."""
    if repository.startswith("oci://"):
        return f"{repository.rstrip('/')}/{chart}", None
    if repository.startswith(LOCAL_CHARTS):
        return f"{repository.removeprefix(LOCAL_CHARTS).rstrip('/')}/{chart}", None
    return chart, k8s.helm.v3.RepositoryOptsArgs(repo=repository)
