#!/usr/bin/env bash
# Deploy a stack with one command:  scripts/up.sh [STACK] [pulumi up flags...]
# STACK defaults to `local`: the mesh and Bookinfo on your current Kubernetes context, with
# the state in a local file backend (.pulumi-state/), no cloud account.
# First it checks, in seconds, what would make `pulumi up` fail: the stack file's typed config
# (with PyYAML and pydantic only) and the Kubernetes context (`local`) or the cloud
# credentials. Then it sets up what is missing: .venv with the pinned dependencies, the Pulumi
# CLI (pinned, with Pulumi's official installer, into .tools/pulumi), the backend and the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh

stack=${1:-local}
[ $# -gt 0 ] && shift
file=stacks/Pulumi.$stack.yaml

step() { printf '==> %s\n' "$*"; }

if [ ! -f "$file" ]; then
  known=""
  for found in stacks/Pulumi.*.yaml; do known="$known ${found#stacks/Pulumi.}"; done
  fail "no stack file $file; stacks:${known//.yaml/}"
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
  fail "Python 3.11 or newer is needed as '$python' (set PYTHON=/path/to/python3.11)."
if [ ! -x .venv/bin/python ]; then
  step "creating .venv with $python"
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if ! .venv/bin/python -c 'import pydantic, tzdata, yaml' 2>/dev/null; then
  step "installing PyYAML and pydantic (pinned) into .venv to check $file (once)..."
  "${pip[@]}" -c constraints.txt PyYAML pydantic tzdata ||
    fail "installing PyYAML and pydantic failed: check your network or proxy (pip needs PyPI)."
fi

step "checking $file"
# The stack file's scenario (or what is wrong with the file, and exit), and its backend.
use_backend_for "$stack"
# The typed config as `pulumi up` checks it first: every mistake at once. The package's pure
# modules come from the checkout (it is installed below).
PYTHONPATH=components .venv/bin/python -m tools.stack_file check "$stack" || exit 1
if [ "$scenario" = local ]; then
  # Which kubeconfig files and context the stack will use (the ones kubectl uses), or why not.
  .venv/bin/python -m tools.kube_context "$file" || exit 1
else
  # The clouds the stack builds in: per scenario, or per cluster for multi-cluster stacks.
  clouds=$(.venv/bin/python -m tools.stack_file clouds "$stack") || exit 1
  if [[ $clouds == *alibaba* ]] &&
    { [ -z "${ALIBABA_CLOUD_ACCESS_KEY_ID:-}" ] || [ -z "${ALIBABA_CLOUD_ACCESS_KEY_SECRET:-}" ]; }; then
    fail "stack '$stack' creates Alibaba Cloud resources: export ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (a RAM user allowed to manage VPC, EIP, NAT, ECS security groups, SLB, ACK and ASM)."
  fi
  if [[ $clouds == *gcp* ]]; then
    if [ -z "${GOOGLE_CREDENTIALS:-}" ] && [ -z "${GOOGLE_APPLICATION_CREDENTIALS:-}" ] &&
      [ ! -f "${CLOUDSDK_CONFIG:-$HOME/.config/gcloud}/application_default_credentials.json" ]; then
      fail "stack '$stack' creates Google Cloud resources: run \`gcloud auth application-default login\` or export GOOGLE_CREDENTIALS (a service account key allowed to manage Compute Engine, GKE, IAM service accounts and Secret Manager)."
    fi
    if ! command -v gke-gcloud-auth-plugin >/dev/null 2>&1; then
      fail "stack '$stack' reaches GKE through gke-gcloud-auth-plugin: install it (\`gcloud components install gke-gcloud-auth-plugin\`, or the OS package of that name)."
    fi
  fi
fi

step "installing the pinned Python packages into .venv (about a minute the first time)..."
"${pip[@]}" -r requirements.txt ||
  fail "installing requirements.txt failed: check your network or proxy (pip needs PyPI)."

pulumi=$(pulumi_cli)
if [ -z "$pulumi" ]; then
  step "downloading the Pulumi CLI $PULUMI_VERSION from get.pulumi.com into .tools/pulumi..."
  command -v curl >/dev/null || fail "curl is needed to install the Pulumi CLI (or install it yourself: https://www.pulumi.com/docs/install/)."
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION" --install-root "$PWD/.tools/pulumi" --no-edit-path ||
    fail "could not download the Pulumi CLI from get.pulumi.com: check your network, or install it yourself (https://www.pulumi.com/docs/install/) and run this again."
  pulumi=.tools/pulumi/bin/pulumi
fi
cli_on_path "$pulumi"

if [ "$scenario" != local ] && [ -z "${PULUMI_BACKEND_URL:-}" ] && ! "$pulumi" whoami >/dev/null 2>&1; then
  fail "stack '$stack' builds cloud resources: log in to a state backend first (\`pulumi login\`, or set PULUMI_BACKEND_URL, e.g. gs://bucket or s3://bucket?endpoint=oss-us-west-1.aliyuncs.com) and set the cloud credentials listed in README.md."
fi

step "selecting stack $stack (created on first use), then pulumi up"
"$pulumi" stack select --create "$stack"
exec "$pulumi" up --stack "$stack" "$@"
