package main

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// stub is what the generated SDKs need of a provider package whose schema is not at hand: the
// Go module proxy serves neither pulumi-alicloud's nor pulumi-gcp's provider module (403 on
// github.com/pulumi/pulumi-alicloud/provider/v3 and pulumi-gcp/provider/v8, v9:
// docs/development.md), so their schemas cannot be had from a provider binary. A reference to
// one of their resources needs only the resource's token, how the token maps to a module, and
// the package names of the published SDKs; the compilers then check each reference against the
// real SDK (tools/e2e/sdks.py).
type stub struct {
	// How a token's module ("compute/instance") maps to the SDK's module ("compute"): the
	// Terraform bridge writes it into every bridged provider's schema
	// (github.com/pulumi/pulumi-terraform-bridge/v3 v3.120.0 pkg/tfgen/generate_schema.go:287);
	// the published Python SDKs' layout (pulumi_gcp/compute/instance.py,
	// pulumi_alicloud/cs/managed_kubernetes.py) follows it.
	moduleFormat string
	// The Go SDK's import path: the module that the published Python package's README names
	// (pulumi_gcp-10.2.0.dist-info/METADATA "go get github.com/pulumi/pulumi-gcp/sdk/v10",
	// pulumi_alicloud-4.0.0.dist-info/METADATA ".../pulumi-alicloud/sdk/v4") and its go/<name>
	// package, as in github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes.
	goImportBasePath string
}

// The nodejs (@pulumi/<name>) and Python (pulumi_<name>) package names are the codegen's
// defaults, which the published packages use.
var stubs = map[string]stub{
	"alicloud": {
		moduleFormat:     "(.*)(?:/[^/]*)",
		goImportBasePath: "github.com/pulumi/pulumi-alicloud/sdk/v4/go/alicloud",
	},
	"gcp": {
		moduleFormat:     "(.*)(?:/[^/]*)",
		goImportBasePath: "github.com/pulumi/pulumi-gcp/sdk/v10/go/gcp",
	},
}

// stubSpec is the schema of package name at version holding the referenced resources, with no
// properties (nothing in meshstack's SDKs reads them).
func stubSpec(name, version string, resources []string) (schema.PackageSpec, error) {
	s, ok := stubs[name]
	if !ok {
		return schema.PackageSpec{}, fmt.Errorf(
			"dependency %s: no schema given (-dependency %s=FILE) and no stub in stubs.go", name, name)
	}
	goInfo, err := json.Marshal(map[string]any{"importBasePath": s.goImportBasePath})
	if err != nil {
		return schema.PackageSpec{}, err
	}
	spec := schema.PackageSpec{
		Name:      name,
		Version:   version,
		Meta:      &schema.MetadataSpec{ModuleFormat: s.moduleFormat},
		Resources: map[string]schema.ResourceSpec{},
		Language:  map[string]schema.RawMessage{"go": goInfo},
	}
	for _, token := range resources {
		spec.Resources[token] = schema.ResourceSpec{}
	}
	return spec, nil
}
