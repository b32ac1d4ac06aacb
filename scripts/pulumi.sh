#!/usr/bin/env bash
# Run the Pulumi CLI on a stack as scripts/up.sh deployed it:  scripts/pulumi.sh STACK ARGS...
#   scripts/pulumi.sh local stack output productpageUrl
#   scripts/pulumi.sh local destroy
# The same CLI (yours on PATH, else .tools/pulumi) and, for `local`, the same file backend.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh

[ $# -ge 2 ] || fail "usage: scripts/pulumi.sh STACK pulumi-arguments... (e.g. scripts/pulumi.sh local stack output)"
stack=$1
shift
[ -x .venv/bin/python ] || fail "no .venv yet: run scripts/up.sh $stack first"
pulumi=$(pulumi_cli)
[ -n "$pulumi" ] || fail "no Pulumi CLI: run scripts/up.sh $stack first (it installs one)"
cli_on_path "$pulumi"
use_backend_for "$stack"
exec "$pulumi" "$@" --stack "$stack"
