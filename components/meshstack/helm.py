"""Helm releases of pinned charts, with the settings every release here shares."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

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

    `repository` is an https:// chart repository or an oci:// registry prefix; the release
    name is fixed because charts derive labels and selectors from it.
    """
    is_oci = repository.startswith("oci://")
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=f"{repository.rstrip('/')}/{chart}" if is_oci else chart,
        version=version,
        repository_opts=None if is_oci else k8s.helm.v3.RepositoryOptsArgs(repo=repository),
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=RELEASE_TIMEOUT_SECONDS,
        opts=opts,
    )
