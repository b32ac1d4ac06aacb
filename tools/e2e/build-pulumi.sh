#!/usr/bin/env bash
# The real Pulumi CLI, meshstack's SDK generator (sdkgen/, Pulumi's codegen), the YAML language
# host and the pulumi-kubernetes provider, built from the Go modules pinned in
# tools/e2e/pulumi/go.mod (the CLI and the generator), yaml/go.mod (the YAML host) and
# kubernetes/go.mod (the provider) into .tools/bin/ (`make tools`). A binary is rebuilt only when
# it is missing or when its module's go.mod or go.sum, this script or our sources it is built
# from changed (a stamp beside it); Go's module and build caches make a rebuild after a pin
# change cheap for what did not change.
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
# Two shared cores: one package compiled at a time per core.
# The provider's Makefile builds it with CGO_ENABLED=0; one setting for both shares the cache.
export CGO_ENABLED=0
GOFLAGS_BUILD=(-p "${GO_BUILD_JOBS:-2}" -trimpath)

cd "$MOD"
mkdir -p "$BIN"

version_of() { go list -m -f '{{.Version}}' "$1"; }
dir_of() { go list -m -f '{{.Dir}}' "$1"; }

# The provider's release version: its module has only pseudo-versions (tags are at the repository
# root), so kubernetes/go.mod names the release the pinned commit is in a `// release:` comment.
provider_release() {
    sed -n 's|^// release: github.com/pulumi/pulumi-kubernetes/provider/v4 \(.*\)$|\1|p' go.mod
}

# The pins a binary is built from: the current directory's module, this script, and the sources
# of our own that it is built from (FILES).
stamp_key() { cat go.mod go.sum "$SELF" "$@" | sha256sum | cut -d' ' -f1; }

fresh() { # fresh NAME [FILES...]: the binary exists and was built from the current pins
    local name="$1"
    shift
    [[ -x "$BIN/$name" && -f "$BIN/.$name.stamp" && "$(cat "$BIN/.$name.stamp")" == "$(stamp_key "$@")" ]]
}

build() { # build NAME PACKAGE LDFLAGS [FILES...]
    local name="$1" pkg="$2" ldflags="$3" start
    shift 3
    if fresh "$name" "$@"; then
        echo "build-pulumi: $name is current"
        return
    fi
    echo "build-pulumi: building $name ($pkg)"
    start=$SECONDS
    go build "${GOFLAGS_BUILD[@]}" -ldflags "$ldflags" -o "$BIN/$name" "$pkg"
    stamp_key "$@" >"$BIN/.$name.stamp"
    echo "build-pulumi: built $name in $((SECONDS - start)) s"
}

go mod download github.com/pulumi/pulumi/pkg/v3

# The CLI: pulumi's own Makefile sets the version the same way.
CLI_VERSION="$(version_of github.com/pulumi/pulumi/pkg/v3)"
build pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$CLI_VERSION"

# meshstack's SDK generator (sdkgen/: Pulumi's codegen from this pkg/v3; `make schema`, the e2e
# report's `sdks`).
build meshstack-sdkgen ./sdkgen "" sdkgen/*.go

# The YAML language host: a module of its own (yaml/go.mod). Its .goreleaser.yml sets the version
# the same way.
cd "$MOD/yaml"
YAML_VERSION="$(version_of github.com/pulumi/pulumi-yaml)"
build pulumi-language-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
    "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_VERSION"

# The provider embeds schema-embed.json and terraform-mapping-embed.json, which its
# `go generate` (cmd/pulumi-resource-kubernetes/generate.go) writes beside main.go from the
# committed schema.json (with the version set) and terraform-mapping.json. The module cache is
# read-only and `go build -overlay` refuses files beneath it, so the main package (main.go alone)
# is copied into kubernetes/_build/ (its module; ignored by git) with those files written beside it.
cd "$MOD/kubernetes"
go mod download github.com/pulumi/pulumi-kubernetes/provider/v4
K8S_VERSION="$(provider_release)"
[[ -n "$K8S_VERSION" ]] || { echo "build-pulumi: no '// release:' line in go.mod" >&2; exit 1; }
K8S_CMD="$(dir_of github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes"
K8S_MAIN="$MOD/kubernetes/_build/pulumi-resource-kubernetes"
if ! fresh pulumi-resource-kubernetes; then
    rm -rf "$K8S_MAIN"
    mkdir -p "$K8S_MAIN"
    install -m 0644 "$K8S_CMD/main.go" "$K8S_MAIN/main.go"
    python3 - "$K8S_CMD" "$K8S_MAIN" "$K8S_VERSION" <<'EOF'
import json, sys
src, out, version = sys.argv[1:]
schema = json.load(open(f"{src}/schema.json"))
schema["version"] = version
json.dump(schema, open(f"{out}/schema-embed.json", "w"), separators=(",", ":"))
mapping = json.load(open(f"{src}/terraform-mapping.json"))
json.dump(mapping, open(f"{out}/terraform-mapping-embed.json", "w"), separators=(",", ":"))
EOF
fi
build pulumi-resource-kubernetes ./_build/pulumi-resource-kubernetes \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_VERSION"

if [[ "${1:-}" == "--plugin" ]]; then
    : "${PULUMI_HOME:?--plugin installs into PULUMI_HOME: set it}"
    "$BIN/pulumi" plugin install resource kubernetes "$K8S_VERSION" \
        --file "$BIN/pulumi-resource-kubernetes" --reinstall
fi
