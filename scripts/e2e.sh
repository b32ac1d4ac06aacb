#!/usr/bin/env bash
# The end-to-end run against a real control plane (docs/development.md, "The real control plane").
#
#   scripts/e2e.sh              # build the tools if needed, start the plane, run the smoke test
#   scripts/e2e.sh CMD [ARG...] # the same, but run CMD (KUBECONFIG set) instead of the smoke test
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

trap 'tools/e2e/controlplane.sh stop' EXIT
tools/e2e/controlplane.sh start
eval "$(tools/e2e/controlplane.sh env)"

if [ "$#" -gt 0 ]; then
  "$@"
else
  tools/e2e/smoke.sh
fi
