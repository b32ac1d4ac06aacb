#!/usr/bin/env bash
# The end-to-end run against a real control plane (docs/development.md, "The real control plane").
#
#   scripts/e2e.sh              # build the tools if needed, start the plane, run the smoke test,
#                               # then the real lifecycle of `local`, `local-ambient` and `tenancy`
#                               # (tools/e2e/lifecycle.py) and the canary upgrade of
#                               # `local-canary` (tools/e2e/canary.py): .e2e/report.json;
#                               # then the ambient upgrade (tools/e2e/ambient_canary.py):
#                               # .e2e/ambient-canary/report.json
#   scripts/e2e.sh CMD [ARG...] # the same, but run CMD (KUBECONFIG set) instead of those
#
# The plane is stopped when this script exits, also after a failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
.venv/bin/python -m tools.kubetools >/dev/null
tools/e2e/build-kube.sh
if [ -x tools/e2e/build-pulumi.sh ]; then
  tools/e2e/build-pulumi.sh
fi

# The stand-in answers as every istiod the stacks run (a tenant's own in istio-<tenant>).
E2E_ISTIO_NAMESPACES="$(.venv/bin/python -c 'import sys
from tools.e2e.lifecycle import istio_namespaces
print(*istio_namespaces(sys.argv[1:]))' tenancy)"
export E2E_ISTIO_NAMESPACES
trap 'tools/e2e/controlplane.sh stop' EXIT
tools/e2e/controlplane.sh start
eval "$(tools/e2e/controlplane.sh env)"

if [ "$#" -gt 0 ]; then
  "$@"
else
  tools/e2e/smoke.sh
  # Charts and the Gateway API CRDs from local copies: `make charts` (or ../shared/reference)
  # and the Gateway API release's files (MESHSTACK_REFERENCE, default ../shared/reference).
  charts=$(.venv/bin/python -c 'from tools import charts; print(charts.charts_dir())')
  gateway_api="${MESHSTACK_REFERENCE:-../shared/reference}/gateway-api-v1.6.0"
  if [ ! -f "$charts/istiod/Chart.yaml" ] || [ ! -d "$gateway_api" ]; then
    echo "e2e: no chart sources in $charts or no Gateway API files in $gateway_api:" \
      "run \`make charts\` and set MESHSTACK_REFERENCE to a directory with gateway-api-v1.6.0/" >&2
    exit 1
  fi
  .venv/bin/python -m tools.e2e.lifecycle --kubeconfig "$KUBECONFIG" --charts "$charts" \
    --gateway-api "$gateway_api" --webhooks stand-in local local-ambient local-canary tenancy
  .venv/bin/python -m tools.e2e.ambient_canary --kubeconfig "$KUBECONFIG" --charts "$charts" \
    --gateway-api "$gateway_api"
fi
