#!/usr/bin/env bash
# Deploy a stack with one command:  scripts/up.sh [STACK] [pulumi up flags...]
# STACK defaults to `local`: the mesh and Bookinfo on your current Kubernetes context, with
# the state in a local file backend (.pulumi-state/), no cloud account.
# Sets up what is missing: .venv with the pinned dependencies, the Pulumi CLI (pinned, with
# Pulumi's official installer, into .tools/pulumi), the backend and the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
. scripts/env.sh

stack=${1:-local}
[ $# -gt 0 ] && shift

if [ ! -f "stacks/Pulumi.$stack.yaml" ]; then
  known=""
  for file in stacks/Pulumi.*.yaml; do known="$known ${file#stacks/Pulumi.}"; done
  fail "no stack file stacks/Pulumi.$stack.yaml; stacks:${known//.yaml/}"
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
  fail "Python 3.11 or newer is needed as '$python' (set PYTHON=/path/to/python3.11)."
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt ||
  fail "installing requirements.txt failed: check your network or proxy (pip needs PyPI)."

pulumi=$(pulumi_cli)
if [ -z "$pulumi" ]; then
  echo "Installing the Pulumi CLI $PULUMI_VERSION into .tools/pulumi ..."
  command -v curl >/dev/null || fail "curl is needed to install the Pulumi CLI (or install it yourself: https://www.pulumi.com/docs/install/)."
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION" --install-root "$PWD/.tools/pulumi" --no-edit-path ||
    fail "could not download the Pulumi CLI from get.pulumi.com: check your network, or install it yourself (https://www.pulumi.com/docs/install/) and run this again."
  pulumi=.tools/pulumi/bin/pulumi
fi

# The stack file's scenario (or what is wrong with the file, and exit), and its backend.
use_backend_for "$stack"
if [ "$scenario" = local ]; then
  # Which kubeconfig files and context the stack will use (the ones kubectl uses), or why not.
  .venv/bin/python -m tools.kube_context "stacks/Pulumi.$stack.yaml" || exit 1
else
  if [ -z "${PULUMI_BACKEND_URL:-}" ] && ! "$pulumi" whoami >/dev/null 2>&1; then
    fail "stack '$stack' builds cloud resources: log in to a state backend first (\`pulumi login\`, or set PULUMI_BACKEND_URL, e.g. gs://bucket or s3://bucket?endpoint=oss-us-west-1.aliyuncs.com) and set the cloud credentials listed in README.md."
  fi
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

"$pulumi" stack select --create "$stack"
exec "$pulumi" up --stack "$stack" "$@"
