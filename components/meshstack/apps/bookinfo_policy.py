"""An L7 authorization policy on Bookinfo in ambient mode: only productpage may GET reviews.

The shape of Istio's ambient task "Enforce Layer 7 authorization policy" (istio.io
docs/ambient/getting-started/enforce-auth-policies: `productpage-viewer`, a policy whose
`targetRefs` is the Service, so that the service's waypoint enforces it; HTTP methods are L7,
which ztunnel cannot see). The caller is named by `serviceAccounts` (`<namespace>/<account>`,
security.istio.io/v1 Source; Istio's tests/integration/security/testdata/authz/
allow-serviceaccount.yaml.tmpl), which holds whatever the mesh's trust domain. A denied call
is answered 403 `RBAC: access denied` by the waypoint's Envoy.
"""

from __future__ import annotations

from typing import Any

from meshstack.apps.bookinfo_authz import service_target

POLICY_NAME = "reviews-viewer"
# Bookinfo's productpage runs as bookinfo-productpage (apps/bookinfo.py: bookinfo-<svc>).
CALLER_ACCOUNT = "bookinfo-productpage"


def reviews_viewer_spec(namespace: str) -> dict[str, Any]:
    return {
        **service_target("reviews"),
        "action": "ALLOW",
        "rules": [
            {
                "from": [{"source": {"serviceAccounts": [f"{namespace}/{CALLER_ACCOUNT}"]}}],
                "to": [{"operation": {"methods": ["GET"]}}],
            }
        ],
    }
