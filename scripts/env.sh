# shellcheck shell=bash
# Sourced by scripts/up.sh and scripts/pulumi.sh: which Pulumi CLI, and which backend a stack
# uses, in one place.

# The CLI release that matches the pinned pulumi SDK (scripts/up.sh installs it).
export PULUMI_VERSION=3.272.0

fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The CLI on PATH, else the one scripts/up.sh installed; empty when there is none.
pulumi_cli() {
  if command -v pulumi >/dev/null 2>&1; then
    command -v pulumi
  elif [ -x .tools/pulumi/bin/pulumi ]; then
    echo .tools/pulumi/bin/pulumi
  fi
}

# Puts the CLI's directory first on PATH: the program asks that CLI for the stack's last
# outputs (stacks/state.py), and must reach the same one that runs it.
cli_on_path() {
  PATH="$(cd "$(dirname "$1")" && pwd):$PATH"
  export PATH
}

# Sets `scenario` to the stack file's (or says what is wrong with the file, and exits).
# `local`-scenario stacks keep their state in .pulumi-state/ (no account; an empty passphrase
# unless PULUMI_CONFIG_PASSPHRASE says otherwise). Others use the backend you logged in to.
use_backend_for() {
  scenario=$(.venv/bin/python -m tools.stack_file scenario "$1") || exit 1
  if [ "$scenario" = local ]; then
    export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}
    export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-}
    mkdir -p .pulumi-state
  fi
}
