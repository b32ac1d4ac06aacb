// Command meshstack-sdkgen generates meshstack's SDKs from provider/schema.json with the code
// generators of the pinned github.com/pulumi/pulumi/pkg/v3 (codegen/nodejs, codegen/go,
// codegen/python), called the way Pulumi's language hosts call them for `pulumi package add`:
// bind the schema with dangling references allowed, then GeneratePackage. The language hosts
// themselves are not served by the Go module proxy (docs/development.md, "Real SDKs").
//
//	meshstack-sdkgen -schema provider/schema.json -language nodejs -out DIR \
//	    -dependency kubernetes=k8s.json [-local]
//
// A dependency given with -dependency is bound from that schema file (the kubernetes provider's,
// from the binary the toolchain builds); every other dependency the schema names must have a
// stub in stubs.go: its resources that the schema references and the package names of its
// published SDKs, since those providers' schemas are not served here.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// The tool name each generated file's header names.
const tool = "meshstack-sdkgen"

type dependencies []string

func (d *dependencies) String() string     { return strings.Join(*d, ",") }
func (d *dependencies) Set(v string) error { *d = append(*d, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "meshstack-sdkgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var deps dependencies
	schemaPath := flag.String("schema", "", "the package schema (provider/schema.json)")
	language := flag.String("language", "", "nodejs, go or python")
	out := flag.String("out", "", "the directory to write the SDK into (emptied first)")
	local := flag.Bool("local", true, "generate as `pulumi package add` does (a local SDK)")
	flag.Var(&deps, "dependency", "NAME=SCHEMA.json: a dependency's schema (repeatable)")
	flag.Parse()
	if *schemaPath == "" || *language == "" || *out == "" {
		flag.Usage()
		return errors.New("-schema, -language and -out are required")
	}
	raw, err := os.ReadFile(*schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", *schemaPath, err)
	}
	loader, err := newLoader(&spec, raw, deps)
	if err != nil {
		return err
	}
	// `pulumi package add` sets SupportPack on the bound package (pkg/cmd/pulumi/packages/
	// packages.go InstallPackage); the language host reads it back from the marshalled schema.
	spec.Meta = withSupportPack(spec.Meta, *local)
	// As pkg/cmd/pulumi/packages/packages.go BindSpec: dangling references allowed.
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return errors.Join(diags.Errs()...)
	}
	files, err := generate(*language, pkg, loader, *local)
	if err != nil {
		return err
	}
	return write(*out, files)
}

func withSupportPack(meta *schema.MetadataSpec, on bool) *schema.MetadataSpec {
	if !on {
		return meta
	}
	if meta == nil {
		meta = &schema.MetadataSpec{}
	}
	meta.SupportPack = true
	return meta
}

func generate(
	language string, pkg *schema.Package, loader schema.ReferenceLoader, local bool,
) (map[string][]byte, error) {
	switch language {
	case "nodejs":
		return nodejs.GeneratePackage(tool, pkg, nil, nil, local, loader)
	case "python":
		return python.GeneratePackage(tool, pkg, nil, loader)
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	}
	return nil, fmt.Errorf("language %q: nodejs, go or python (pkg/v3 v3.274.0 carries no other code generator)", language)
}

func write(out string, files map[string][]byte) error {
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// loader answers the binder's requests for the dependencies' schemas from files and stubs;
// nothing is downloaded and no plugin is started.
type loader struct {
	specs map[string]schema.PackageSpec
	bound map[string]schema.PackageReference
}

func newLoader(spec *schema.PackageSpec, raw []byte, deps dependencies) (*loader, error) {
	l := &loader{specs: map[string]schema.PackageSpec{}, bound: map[string]schema.PackageReference{}}
	for _, dep := range deps {
		name, path, ok := strings.Cut(dep, "=")
		if !ok {
			return nil, fmt.Errorf("-dependency %q: NAME=SCHEMA.json expected", dep)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var s schema.PackageSpec
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if s.Name != name {
			return nil, fmt.Errorf("%s holds package %q, not %q", path, s.Name, name)
		}
		l.specs[name] = s
	}
	refs := referencedResources(raw)
	for _, dep := range spec.Dependencies {
		given, ok := l.specs[dep.Name]
		if ok {
			// The schema's dependency version is the one its references name; a given schema of
			// another version (the kubernetes provider built here is 4.25.0, the SDK pin 4.34.2)
			// is taken for it, and the languages' compilers check the result against the SDKs.
			given.Version = dep.Version.String()
			l.specs[dep.Name] = given
			continue
		}
		stub, err := stubSpec(dep.Name, dep.Version.String(), refs[dep.Name])
		if err != nil {
			return nil, err
		}
		l.specs[dep.Name] = stub
	}
	return l, nil
}

// A reference to another package's resource: "/gcp/v10.2.0/schema.json#/resources/<token>".
var externalRef = regexp.MustCompile(`"/([a-z0-9-]+)/v[^/"]+/schema\.json#/resources/([^"]+)"`)

// referencedResources lists, per package, the resource tokens the schema references.
func referencedResources(raw []byte) map[string][]string {
	found := map[string]map[string]bool{}
	for _, m := range externalRef.FindAllSubmatch(raw, -1) {
		pkg, token := string(m[1]), strings.ReplaceAll(string(m[2]), "%2F", "/")
		if found[pkg] == nil {
			found[pkg] = map[string]bool{}
		}
		found[pkg][token] = true
	}
	out := map[string][]string{}
	for pkg, tokens := range found {
		for token := range tokens {
			out[pkg] = append(out[pkg], token)
		}
		sort.Strings(out[pkg])
	}
	return out
}

func (l *loader) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	if ref, ok := l.bound[d.Name]; ok {
		return ref, nil
	}
	spec, ok := l.specs[d.Name]
	if !ok {
		return nil, fmt.Errorf("package %s: not a dependency of the schema, no schema given", d.Name)
	}
	pkg, err := schema.ImportSpec(spec, nil, l, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, fmt.Errorf("binding %s %s: %w", d.Name, spec.Version, err)
	}
	l.bound[d.Name] = pkg.Reference()
	return l.bound[d.Name], nil
}

func (l *loader) LoadPackageReference(name string, version *semver.Version) (schema.PackageReference, error) {
	return l.LoadPackageReferenceV2(context.Background(), &schema.PackageDescriptor{Name: name, Version: version})
}

func (l *loader) LoadPackageV2(ctx context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	ref, err := l.LoadPackageReferenceV2(ctx, d)
	if err != nil {
		return nil, err
	}
	return ref.Definition()
}

func (l *loader) LoadPackage(name string, version *semver.Version) (*schema.Package, error) {
	return l.LoadPackageV2(context.Background(), &schema.PackageDescriptor{Name: name, Version: version})
}
