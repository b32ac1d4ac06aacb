#!/usr/bin/env bash
# The offline test suite: no cloud account, no Pulumi CLI, no cluster.
# Creates .venv with the pinned tools on first use, then runs pytest (arguments pass through).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python 3.11 or newer is needed as '$python' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
# The real Helm and kubectl (tools/kubetools.py), once, before the test workers start. Where
# they cannot be had, the rendering tests skip with the reason; under CI=true that is a failure.
if ! .venv/bin/python -m tools.kubetools >/dev/null; then
  [ "${CI:-}" != true ] || exit 1
  echo "warning: no Helm for this machine: the chart rendering tests will skip" >&2
fi
# checkov, pinned, in a virtualenv of its own (tools/scanner.py; ~1 minute the first time).
if ! .venv/bin/python -m tools.scanner >/dev/null; then
  [ "${CI:-}" != true ] || exit 1
  echo "warning: checkov could not be installed: the security scan tests will skip" >&2
fi
# One worker per core (pytest-xdist): every test builds its own graph under its own mocks.
exec .venv/bin/python -m pytest -n auto "$@"
