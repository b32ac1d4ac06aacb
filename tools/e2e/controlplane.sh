#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the e2e tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler (built by tools/e2e/build-kube.sh into .tools/bin/),
# kwok with a few fake nodes, and the istiod webhook stand-in (tools/e2e/kube/webhook).
#
#   tools/e2e/controlplane.sh start   # certificates, processes, nodes; waits until all are Ready
#   tools/e2e/controlplane.sh env     # prints `export KUBECONFIG=...`
#   tools/e2e/controlplane.sh stop    # ends every process it started (their process groups)
#
# Real: the API server (authn, RBAC, admission incl. webhooks, CRD schema validation), etcd, the
# controllers (namespace deletion, garbage collection, Deployments, Jobs, ...), the scheduler.
# Faked: nodes and pods (kwok sets their status; no container runs, there is no pod or Service
# network). Everything listens on 127.0.0.1 or a Unix socket in the state dir.
#
# Webhooks: the API server calls a webhook Service at its ClusterIP, which nothing routes here. Its
# egress selector (network context "cluster", which webhook calls use) is an HTTP CONNECT proxy on
# a Unix socket served by the stand-in, which answers every tunnel itself (see its main.go).
#
# Settings (environment): E2E_STATE (default .e2e/cluster), E2E_NODES (3), E2E_ETCD_PORT (32379),
# E2E_ETCD_PEER_PORT (32380), E2E_API_PORT (36443), E2E_CM_PORT (40257), E2E_SCHED_PORT (40259),
# E2E_KWOK_PORT (40247), E2E_WEBHOOK_PORT (40443), E2E_ISTIO_NAMESPACES (istio-system: the
# namespaces whose istiod* webhooks the stand-in serves and patches; scripts/e2e.sh adds the
# tenancy stack's own control planes, istio-<tenant>).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="$root/.tools/bin"
state="${E2E_STATE:-$root/.e2e/cluster}"
mkdir -p "$state"
state="$(cd "$state" && pwd)"
pki="$state/pki"
nodes="${E2E_NODES:-3}"
etcd_port="${E2E_ETCD_PORT:-32379}"
etcd_peer_port="${E2E_ETCD_PEER_PORT:-32380}"
api_port="${E2E_API_PORT:-36443}"
cm_port="${E2E_CM_PORT:-40257}"
sched_port="${E2E_SCHED_PORT:-40259}"
kwok_port="${E2E_KWOK_PORT:-40247}"
webhook_port="${E2E_WEBHOOK_PORT:-40443}"
read -r -a istio_namespaces <<<"${E2E_ISTIO_NAMESPACES:-istio-system}"
service_cidr="10.96.0.0/16"
service_ip="10.96.0.1" # the first address of service_cidr: Service kubernetes.default
# The address the `kubernetes` Endpoints advertise (must not be loopback). It is never dialled:
# the API server reaches itself over loopback. TEST-NET-2 (RFC 5737) is routed nowhere.
advertise="198.51.100.1"
server="https://127.0.0.1:$api_port"
kubeconfig="$state/kubeconfig"

log() { echo "controlplane: $*" >&2; }

kubectl_bin=""
# The repo's real kubectl (tools/kubetools.py installs it into .tools/), resolved once.
kubectl() {
  [[ -n "$kubectl_bin" ]] || kubectl_bin="$(cd "$root" && .venv/bin/python -m tools.kubetools | awk '$1 == "kubectl" {print $2}')"
  "$kubectl_bin" --kubeconfig "$kubeconfig" "$@"
}

# cert NAME SUBJECT [SANS]: a key and a certificate signed by the plane's own CA.
cert() {
  local name="$1" subject="$2" sans="${3:-}" ext
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [[ -z "$sans" ]] || echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -subj "$subject" \
    -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$ext" "$pki/$name.csr"
}

# The names the stand-in answers as: any Service of each istiod namespace.
webhook_sans() {
  local ns sans=""
  for ns in "${istio_namespaces[@]}"; do sans+="DNS:*.$ns.svc,"; done
  echo "${sans}IP:127.0.0.1"
}

certificates() {
  # Made again when the stand-in's names changed (another E2E_ISTIO_NAMESPACES).
  [[ -f "$pki/done" && "$(cat "$pki/webhook.sans" 2>/dev/null)" == "$(webhook_sans)" ]] && return
  rm -rf "$pki" && mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 30 \
    -subj "/CN=meshstack-e2e-ca" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  cert apiserver "/CN=kube-apiserver" "IP:127.0.0.1,IP:$service_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert admin "/O=system:masters/CN=e2e-admin"
  # The users RBAC's bootstrap roles bind (system:kube-controller-manager, system:kube-scheduler).
  cert controller-manager "/CN=system:kube-controller-manager"
  cert scheduler "/CN=system:kube-scheduler"
  # The stand-in answers as any Service of istio-system (istiod, istiod-<revision>): the API server
  # verifies the name <service>.<namespace>.svc.
  cert webhook "/CN=istiod.istio-system.svc" "$(webhook_sans)"
  webhook_sans >"$pki/webhook.sans"
  # The front proxy (the API server's identity towards aggregated API servers, and the request
  # header CA the controller manager's and scheduler's own authentication read): signed by the
  # same CA here, its allowed name restricted to front-proxy-client.
  cert front-proxy-client "/CN=front-proxy-client"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  touch "$pki/done"
}

# kubeconfig FILE USER: a kubeconfig for the plane with USER's client certificate embedded.
write_kubeconfig() {
  local file="$1" user="$2"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$pki/$user.crt")
    client-key-data: $(base64 -w0 <"$pki/$user.key")
contexts:
- name: e2e
  context: {cluster: e2e, user: $user}
current-context: e2e
EOF
}

# launch NAME CMD...: runs CMD in its own process group (setsid), output in $state/NAME.log.
launch() {
  local name="$1"
  shift
  setsid "$@" >"$state/$name.log" 2>&1 </dev/null &
  echo "$!" >"$state/$name.pid"
  log "started $name (pid $!)"
}

alive() { [[ -f "$state/$1.pid" ]] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

# wait_for NAME SECONDS CMD...: until CMD succeeds; fails early when NAME's process died.
wait_for() {
  local name="$1" deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ! alive "$name"; then
      log "$name exited; the end of $state/$name.log:"
      tail -n 30 "$state/$name.log" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      log "timed out waiting for $name; the end of $state/$name.log:"
      tail -n 30 "$state/$name.log" >&2
      return 1
    fi
    sleep 1
  done
}

https_ok() {
  curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$1"
}

# kwok's own stage definitions (node initialisation, lease heartbeat, pods to Ready, Job pods to
# Succeeded, deletion), read from the pinned kwok module in Go's module cache: `kwok` alone runs
# no stage it is not given (v0.8.0 pkg/kwok/cmd/root.go: "no stages found").
kwok_config() {
  local dir
  dir="$(go -C "$root/tools/e2e/kube/kwok" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  for f in "$dir"/kustomize/stage/node/fast/node-initialize.yaml \
    "$dir"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    "$dir"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml; do
    echo "---"
    cat "$f"
  done >"$state/kwok.yaml"
}

fake_nodes() {
  local i
  for ((i = 1; i <= nodes; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: e2e-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: e2e-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
EOF
  done
}

nodes_ready() {
  [[ "$(kubectl get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -eq "$nodes" ]]
}

start() {
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok e2e-webhook; do
    [[ -x "$bin/$c" ]] || { log "$bin/$c missing: run tools/e2e/build-kube.sh"; return 1; }
    if alive "$c"; then
      log "$c already runs (pid $(cat "$state/$c.pid")): stop first"
      return 1
    fi
  done
  certificates
  write_kubeconfig "$kubeconfig" admin
  write_kubeconfig "$state/controller-manager.kubeconfig" controller-manager
  write_kubeconfig "$state/scheduler.kubeconfig" scheduler
  cat >"$state/egress.yaml" <<EOF
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $state/egress.sock
EOF
  kwok_config

  rm -rf "$state/etcd"
  launch etcd "$bin/etcd" --name e2e --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "e2e=http://127.0.0.1:$etcd_peer_port" --unsafe-no-fsync
  wait_for etcd 60 curl -fsS "http://127.0.0.1:$etcd_port/health"

  # Admission plugins: the defaults (they include MutatingAdmissionWebhook and
  # ValidatingAdmissionWebhook). Privileged pods are allowed, as on the clusters the package targets.
  launch kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --secure-port "$api_port" --advertise-address "$advertise" \
    --service-cluster-ip-range "$service_cidr" --allow-privileged=true \
    --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --authorization-mode Node,RBAC --egress-selector-config-file "$state/egress.yaml" --profiling=false \
    --requestheader-client-ca-file "$pki/ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key"
  wait_for kube-apiserver 120 https_ok "$server/readyz"

  # kwok renews the fake nodes' heartbeats; on two busy cores one can come later than the
  # default 40 s grace, and the node lifecycle controller then marks every pod on that node
  # NotReady, which kwok (its pod stages done) never undoes: helm and pulumi wait forever.
  launch kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$cm_port" --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials=true --controllers '*' \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --node-monitor-grace-period 1h
  launch kube-scheduler "$bin/kube-scheduler" --kubeconfig "$state/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/scheduler.kubeconfig" \
    --authorization-kubeconfig "$state/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" --leader-elect=false
  launch kwok "$bin/kwok" --kubeconfig "$kubeconfig" --config "$state/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --server-address "127.0.0.1:$kwok_port" --cidr 10.244.0.1/16 --node-ip "$advertise"
  launch e2e-webhook "$bin/e2e-webhook" --listen "127.0.0.1:$webhook_port" \
    --egress-socket "$state/egress.sock" --cert "$pki/webhook.crt" --key "$pki/webhook.key" \
    --ca "$pki/ca.crt" --apiserver "$server" --client-cert "$pki/admin.crt" --client-key "$pki/admin.key"
  wait_for kube-controller-manager 60 curl -fsSk "https://127.0.0.1:$cm_port/healthz"
  wait_for kube-scheduler 60 curl -fsSk "https://127.0.0.1:$sched_port/healthz"
  wait_for e2e-webhook 30 curl -fsS --cacert "$pki/ca.crt" "https://127.0.0.1:$webhook_port/ready"
  # Each further istiod namespace: the same program patching its webhooks' caBundle (its
  # -namespace is one); the tunnels are all answered by the first.
  local i
  for i in "${!istio_namespaces[@]}"; do
    ((i > 0)) || continue
    launch "e2e-webhook-$i" "$bin/e2e-webhook" --listen "127.0.0.1:$((webhook_port + i))" \
      --cert "$pki/webhook.crt" --key "$pki/webhook.key" --ca "$pki/ca.crt" \
      --apiserver "$server" --client-cert "$pki/admin.crt" --client-key "$pki/admin.key" \
      --namespace "${istio_namespaces[$i]}"
  done

  fake_nodes | kubectl apply -f - >/dev/null
  wait_for kwok 60 nodes_ready
  # Pods need the default ServiceAccount, which the controller manager creates.
  wait_for kube-controller-manager 60 kubectl get serviceaccount default -n default
  log "ready: export KUBECONFIG=$kubeconfig"
}

stop() {
  local c pid pid_file
  local extra=()
  for pid_file in "$state"/e2e-webhook-*.pid; do
    [[ -f "$pid_file" ]] && extra+=("$(basename "$pid_file" .pid)")
  done
  for c in "${extra[@]}" e2e-webhook kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [[ -f "$state/$c.pid" ]] || continue
    pid="$(cat "$state/$c.pid")"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$state/$c.pid"
  done
  rm -f "$state/egress.sock"
}

case "${1:-}" in
start)
  # A failed start leaves nothing running.
  trap 'status=$?; if ((status != 0)); then log "start failed: stopping"; stop; fi' EXIT
  start
  ;;
stop) stop ;;
env) echo "export KUBECONFIG=$kubeconfig" ;;
*)
  echo "usage: $0 start|stop|env" >&2
  exit 2
  ;;
esac
