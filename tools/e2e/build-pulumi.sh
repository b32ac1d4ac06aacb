#!/usr/bin/env bash
# The real Pulumi CLI and the pulumi-kubernetes provider, built from the Go modules pinned in
# tools/e2e/pulumi/go.mod into .tools/bin/ (`make tools`). A binary is rebuilt only when it is
# missing or when go.mod, go.sum or this script changed (a stamp beside it); Go's module and build
# caches make a rebuild after a pin change cheap for what did not change.
#
#   tools/e2e/build-pulumi.sh                  build what is missing or stale
#   PULUMI_HOME=DIR tools/e2e/build-pulumi.sh --plugin
#                                              also install the provider as a plugin in DIR
#
# Why no Python language host: its module (github.com/pulumi/pulumi/sdk/python/cmd/
# pulumi-language-python/v3) is not served by the Go module proxy at any version; see
# docs/development.md, "Real tools built from Go modules".
set -euo pipefail

SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
REPO="$(cd "$(dirname "$SELF")/../.." && pwd)"
MOD="$REPO/tools/e2e/pulumi"
TOOLS="${MESHSTACK_TOOLS:-$REPO/.tools}"
BIN="$TOOLS/bin"
WORK="$TOOLS/build/pulumi"
# Two shared cores: one package compiled at a time per core.
export CGO_ENABLED=0 # as both projects build their release binaries
GOFLAGS_BUILD=(-p "${GO_BUILD_JOBS:-2}" -trimpath)

cd "$MOD"
mkdir -p "$BIN" "$WORK"

version_of() { go list -m -f '{{.Version}}' "$1"; }
dir_of() { go list -m -f '{{.Dir}}' "$1"; }

# The provider's release version: its module has only pseudo-versions (tags are at the repository
# root), so go.mod names the release the pinned commit is in a `// release:` comment.
provider_release() {
    sed -n 's|^// release: github.com/pulumi/pulumi-kubernetes/provider/v4 \(.*\)$|\1|p' go.mod
}

STAMP_KEY="$(cat go.mod go.sum "$SELF" | sha256sum | cut -d' ' -f1)"

fresh() { # fresh NAME: the binary exists and was built from the current pins
    [[ -x "$BIN/$1" && -f "$BIN/.$1.stamp" && "$(cat "$BIN/.$1.stamp")" == "$STAMP_KEY" ]]
}

build() { # build NAME PACKAGE LDFLAGS [OVERLAY]
    local name="$1" pkg="$2" ldflags="$3" overlay="${4:-}" start
    if fresh "$name"; then
        echo "build-pulumi: $name is current"
        return
    fi
    echo "build-pulumi: building $name ($pkg)"
    start=$SECONDS
    go build "${GOFLAGS_BUILD[@]}" ${overlay:+-overlay="$overlay"} -ldflags "$ldflags" \
        -o "$BIN/$name" "$pkg"
    echo "$STAMP_KEY" >"$BIN/.$name.stamp"
    echo "build-pulumi: built $name in $((SECONDS - start)) s"
}

go mod download \
    github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi-kubernetes/provider/v4

# The CLI: pulumi's own Makefile sets the version the same way.
CLI_VERSION="$(version_of github.com/pulumi/pulumi/pkg/v3)"
build pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$CLI_VERSION"

# The provider embeds schema-embed.json and terraform-mapping-embed.json, which its
# `go generate` (cmd/pulumi-resource-kubernetes/generate.go) writes from the committed
# schema.json (with the version set) and terraform-mapping.json. The module cache is read-only,
# so the same files are written here and laid over the package with -overlay.
K8S_VERSION="$(provider_release)"
[[ -n "$K8S_VERSION" ]] || { echo "build-pulumi: no '// release:' line in go.mod" >&2; exit 1; }
K8S_CMD="$(dir_of github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes"
python3 - "$K8S_CMD" "$WORK" "$K8S_VERSION" <<'EOF'
import json, sys
src, out, version = sys.argv[1:]
schema = json.load(open(f"{src}/schema.json"))
schema["version"] = version
json.dump(schema, open(f"{out}/schema-embed.json", "w"), separators=(",", ":"))
mapping = json.load(open(f"{src}/terraform-mapping.json"))
json.dump(mapping, open(f"{out}/terraform-mapping-embed.json", "w"), separators=(",", ":"))
json.dump({"Replace": {f"{src}/{name}": f"{out}/{name}" for name in
           ("schema-embed.json", "terraform-mapping-embed.json")}},
          open(f"{out}/overlay.json", "w"))
EOF
build pulumi-resource-kubernetes \
    github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_VERSION" \
    "$WORK/overlay.json"

if [[ "${1:-}" == "--plugin" ]]; then
    : "${PULUMI_HOME:?--plugin installs into PULUMI_HOME: set it}"
    "$BIN/pulumi" plugin install resource kubernetes "$K8S_VERSION" \
        --file "$BIN/pulumi-resource-kubernetes" --reinstall
fi
