//go:build tools

// Package tools pins the main package that tools/e2e/build-pulumi.sh builds from this module.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
