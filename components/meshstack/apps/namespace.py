"""Application namespaces labelled for sidecar injection."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def injection_labels(revision: str | None) -> dict[str, str]:
    """`istio.io/rev` selects a revisioned istiod; the plain label selects the default one."""
    return {"istio.io/rev": revision} if revision else {"istio-injection": "enabled"}


def pod_injection_labels(revision: str | None) -> dict[str, str]:
    """A pod's own request for the sidecar, whatever its namespace's labels: istiod's
    injector webhooks select pods by these where the namespace has no injection label
    (charts/istiod/templates/mutatingwebhook.yaml, `object` and `rev.object`)."""
    return {"istio.io/rev": revision} if revision else {"sidecar.istio.io/inject": "true"}


# On the pod templates of the workloads the package owns, with revision tags: the revision
# their namespace's tag resolves to. A pod is injected once, at creation; moving its tag
# changes this annotation, so Kubernetes rolls the workload onto the tag's new revision.
REVISION_ANNOTATION = "meshstack.io/istio-revision"


def revision_annotation(revision: str | None) -> dict[str, str]:
    """The annotation for pods on `revision` (none without revision tags)."""
    return {REVISION_ANNOTATION: revision} if revision else {}


# Namespaces every cluster has: labelled for injection in place, never created or deleted.
BUILT_IN_NAMESPACES = frozenset({"default"})


def ambient_labels(waypoint: str | None) -> dict[str, str]:
    """An ambient namespace: its pods captured by ztunnel, its services' L7 traffic through
    the namespace's waypoint."""
    labels = {"istio.io/dataplane-mode": "ambient"}
    if waypoint:
        labels["istio.io/use-waypoint"] = waypoint
    return labels


def injected_namespace(
    resource_name: str,
    namespace: str,
    revision: str | None,
    opts: pulumi.ResourceOptions,
    extra_labels: dict[str, str] | None = None,
    *,
    ambient: bool = False,
    waypoint: str | None = None,
) -> k8s.core.v1.Namespace | k8s.core.v1.NamespacePatch:
    """The namespace, created with the injection label (ambient: the ambient labels, and its
    waypoint's); a built-in one (`default`) only gets the labels, by server-side apply
    (`pulumi destroy` removes the labels only)."""
    mesh = ambient_labels(waypoint) if ambient else injection_labels(revision)
    labels = {**mesh, **(extra_labels or {})}
    if namespace in BUILT_IN_NAMESPACES:
        return k8s.core.v1.NamespacePatch(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=namespace, labels=labels),
            opts=opts,
        )
    return k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=labels),
        opts=opts,
    )
