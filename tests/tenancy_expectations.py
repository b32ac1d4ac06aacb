"""What the rendered istiods of a stack with tenants must say (tests/test_helm_releases.py):
the mesh config keys tenancy sets, with the fields of Istio's MeshConfig that read them, and
per istiod release its exportTo defaults, discoverySelectors and trust domain."""

from __future__ import annotations

from typing import Any

from meshstack.istio.tenancy import CONTROL_PLANE_LABEL

# istio/api release-1.31 mesh/v1alpha1/config.proto MeshConfig fields 31-33, 26 and 59,
# whose LabelSelector is Kubernetes' (matchLabels, matchExpressions key/operator).
RUNTIME_KEYS = {
    f"meshConfig.{key}": f"MeshConfig.{key}"
    for key in (
        "defaultServiceExportTo",
        "defaultVirtualServiceExportTo",
        "defaultDestinationRuleExportTo",
        "trustDomain",
        "discoverySelectors[].matchExpressions[].key",
        "discoverySelectors[].matchExpressions[].operator",
        f'discoverySelectors[].matchLabels."{CONTROL_PLANE_LABEL}"',
    )
}


def tenant_istiods(tenancy: Any) -> dict[str, dict[str, Any]]:
    """Per istiod release, what it says beyond the stack's common facts: the shared one reads
    every namespace but those of tenants with their own, each of which reads only its
    namespaces (labelled with it) in its own trust domain."""
    label = CONTROL_PLANE_LABEL
    # Services, VirtualServices, DestinationRules visible in their own namespace only.
    scoped = {"export_to": (".", ".", ".")}
    own = {
        f"tenancy-{t.name}-istiod": {
            "trust_domain": f"{t.name}.local",
            "discovery_selectors": ({"matchLabels": {label: t.name}},),
            **scoped,
        }
        for t in tenancy.own
    }
    everyone_else = ({"matchExpressions": [{"key": label, "operator": "DoesNotExist"}]},)
    return {
        "istio-istiod": {"discovery_selectors": everyone_else if own else None, **scoped},
        **own,
    }
