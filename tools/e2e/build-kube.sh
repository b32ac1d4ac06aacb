#!/usr/bin/env bash
# Builds the real control plane's binaries into .tools/bin/ from Go modules at the versions pinned
# in tools/e2e/kube/*/go.mod: kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok
# and the webhook stand-in. A binary is rebuilt only when missing or when its module's files
# (go.mod, go.sum, sources) changed since it was built (a stamp next to it); Go's module and build
# caches make a rebuild after a pin change incremental. Each build's wall time and peak memory
# (GNU time's "Maximum resident set size": the largest process, usually the linker) are appended
# to .tools/build-kube.log.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mods="$root/tools/e2e/kube"
bin="$root/.tools/bin"
log="$root/.tools/build-kube.log"
mkdir -p "$bin"

# The version the API server reports (/version), as Kubernetes' hack/lib/version.sh stamps it:
# Helm charts' kubeVersion constraints and clients read it.
k8s_version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$mods/k8s/go.mod")"
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"
k8s_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean"
done

# build NAME MODULE_DIR PACKAGE LDFLAGS
build() {
  local name="$1" dir="$mods/$2" pkg="$3" ldflags="$4"
  local stamp="$bin/.$name.stamp" want
  want="$( (go env GOVERSION; echo "$pkg $ldflags"; cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)"
  if [[ -x "$bin/$name" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "build-kube: $name is current"
    return
  fi
  echo "build-kube: building $name ($pkg) ..."
  local times
  times="$(mktemp)"
  CGO_ENABLED=0 /usr/bin/time -v -o "$times" \
    go -C "$dir" build -trimpath -ldflags "$ldflags" -o "$bin/$name" "$pkg"
  local wall rss
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$times")"
  rss="$(awk -F': ' '/Maximum resident set size/ {printf "%d MiB", $2 / 1024}' "$times")"
  rm -f "$times"
  echo "$(date -u +%FT%TZ) $name $pkg wall=$wall peak=$rss" | tee -a "$log"
  echo "$want" >"$stamp"
}

build etcd etcd go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver k8s k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
build kube-controller-manager k8s k8s.io/kubernetes/cmd/kube-controller-manager "$k8s_ldflags"
build kube-scheduler k8s k8s.io/kubernetes/cmd/kube-scheduler "$k8s_ldflags"
build kwok kwok sigs.k8s.io/kwok/cmd/kwok "-s -w"
build e2e-webhook webhook meshstack.local/e2e/kube/webhook "-s -w"
