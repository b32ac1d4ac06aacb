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
# The Istio schema checker's npm packages, once, before the test workers could race for them.
.venv/bin/python -c 'from tests.schema.istio_api import ensure_installed; ensure_installed()'
# One worker per core (pytest-xdist): every test builds its own graph under its own mocks.
exec .venv/bin/python -m pytest -n auto "$@"
