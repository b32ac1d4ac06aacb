//go:build tools

// Package tools pins the main packages that tools/e2e/build-pulumi.sh builds.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes"
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
