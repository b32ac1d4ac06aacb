#!/usr/bin/env bash
# Smoke test of the e2e control plane (KUBECONFIG points at it; tools/e2e/controlplane.sh start):
# the API server is ready, the kwok nodes are Ready, a Deployment's pods become Ready, a Job
# completes, an istiod-style webhook gets its caBundle and failurePolicy Fail from the stand-in and
# is called by the API server, and deleting the namespaces empties and removes them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="${E2E_STATE:-$root/.e2e/cluster}"
: "${KUBECONFIG:?KUBECONFIG must point at the e2e control plane}"
k="$(cd "$root" && .venv/bin/python -m tools.kubetools | awk '$1 == "kubectl" {print $2}')"
kubectl() { "$k" "$@"; }
say() { echo "smoke: $*"; }

# until SECONDS CMD...: until CMD succeeds.
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { say "timed out: $*"; return 1; }
    sleep 1
  done
}

cleanup() {
  kubectl delete validatingwebhookconfiguration e2e-smoke --ignore-not-found >/dev/null
  kubectl delete namespace e2e-smoke istio-system --ignore-not-found --wait=false >/dev/null
}
trap cleanup EXIT

say "readyz: $(kubectl get --raw /readyz)"
kubectl version
kubectl get nodes -o wide

kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: e2e-smoke, labels: {e2e-smoke: "true"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: e2e-smoke}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.k8s.io/pause:3.10}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: e2e-smoke}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: registry.k8s.io/pause:3.10}]
EOF
kubectl -n e2e-smoke rollout status deployment/web --timeout 120s
kubectl -n e2e-smoke wait --for condition=Ready pod -l app=web --timeout 60s
kubectl -n e2e-smoke wait --for condition=Complete job/once --timeout 120s
kubectl -n e2e-smoke get pods -o wide

# An istiod-like webhook: a Service named istiod-* in istio-system and a configuration without
# caBundle and failurePolicy Ignore, as the istiod chart installs its validator. The stand-in must
# patch both (caBundle, Fail); then a create in e2e-smoke succeeds only if the API server reached it.
kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Service
metadata: {name: istiod-e2e-smoke, namespace: istio-system}
spec:
  ports: [{name: https-webhook, port: 443, targetPort: 15017}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: e2e-smoke}
webhooks:
- name: smoke.e2e.meshstack
  clientConfig:
    service: {name: istiod-e2e-smoke, namespace: istio-system, path: /smoke, port: 443}
  rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
  namespaceSelector: {matchLabels: {e2e-smoke: "true"}}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
EOF
patched() {
  [[ "$(kubectl get validatingwebhookconfiguration e2e-smoke -o jsonpath='{.webhooks[0].failurePolicy}')" == Fail &&
    -n "$(kubectl get validatingwebhookconfiguration e2e-smoke -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" ]]
}
until_ok 30 patched
say "the stand-in patched the webhook: caBundle set, failurePolicy Fail"
# The API server's webhook informers see the patch shortly after it is stored.
probe=0
called() {
  probe=$((probe + 1))
  kubectl -n e2e-smoke create configmap "probe-$probe" >/dev/null &&
    grep -q "path=/smoke .*object=e2e-smoke/probe-$probe " "$state/e2e-webhook.log"
}
until_ok 30 called
say "the API server called the webhook: $(grep "object=e2e-smoke/probe-$probe " "$state/e2e-webhook.log")"

kubectl delete validatingwebhookconfiguration e2e-smoke
kubectl delete namespace e2e-smoke istio-system --timeout 120s
gone() { ! kubectl get namespace e2e-smoke && ! kubectl get namespace istio-system; }
until_ok 60 gone
say "namespaces e2e-smoke and istio-system deleted (their pods, Job, Deployment, Service with them)"
say "passed"
