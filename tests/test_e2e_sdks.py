"""The SDK step's own logic (tools/e2e/sdks.py): what counts as passed, when the example's SDK
is current, and what the report says where the Go module proxy serves nothing. Generating and
compiling runs in the e2e report (`sdks`, `sdkChecks`), after `make tools` built the generator."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tools.e2e import sdks, yaml_program


def _outcome(**changes):
    outcome = {
        "languages": {"nodejs": "compiled", "python": "compiled", "go": "generated, not compiled"},
        "typescriptExample": "current",
        "refusesMistakes": {"nodejs": True, "python": True},
    }
    return {**outcome, **changes}


def test_passed_needs_each_compiled_language_a_current_example_and_refused_mistakes() -> None:
    assert sdks.passed(_outcome())
    assert not sdks.passed(_outcome(languages={"nodejs": "tsc failed: …", "python": "compiled"}))
    assert not sdks.passed(_outcome(typescriptExample="stale: run `make schema`"))
    assert not sdks.passed(_outcome(refusesMistakes={"nodejs": False, "python": True}))
    assert not sdks.passed({"languages": {"nodejs": "compiled", "python": "compiled"}})


def test_same_tree_compares_every_file_but_node_modules(tmp_path: Path) -> None:
    generated, committed = tmp_path / "generated", tmp_path / "committed"
    for root in (generated, committed):
        (root / "types").mkdir(parents=True)
        (root / "index.ts").write_text("export {};\n")
        (root / "types" / "input.ts").write_text("export {};\n")
    (generated / "node_modules").mkdir()
    (generated / "node_modules" / "x.js").write_text("")
    assert sdks.same_tree(generated, committed)
    (committed / "types" / "input.ts").write_text("export const x = 1;\n")
    assert not sdks.same_tree(generated, committed)
    (committed / "types" / "input.ts").unlink()
    assert not sdks.same_tree(generated, committed)
    assert not sdks.same_tree(generated, tmp_path / "absent")


def test_go_names_each_sdk_the_proxy_refuses_at_the_schemas_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text('{"dependencies": [{"name": "gcp", "version": "10.2.0"}]}')
    (tmp_path / "gceVm.go").write_text(
        'import (\n\t"github.com/pulumi/pulumi-gcp/sdk/v10/go/gcp/compute"\n'
        '\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"\n)\n'
    )
    asked = []

    def served(module: str, version: str = "latest") -> str | None:
        asked.append((module, version))
        return "403 Forbidden server response: This module version is not available."

    monkeypatch.setattr(sdks, "served", served)
    said = sdks.compile_go(tmp_path, schema)
    assert asked == [("github.com/pulumi/pulumi-gcp/sdk/v10", "v10.2.0")]
    assert said.startswith("generated, not compiled: the Go module proxy does not serve")
    assert "github.com/pulumi/pulumi-gcp/sdk/v10 v10.2.0: 403 Forbidden" in said


def test_languages_without_a_generator_say_what_the_proxy_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sdks, "served", lambda module, version="latest": "403 Forbidden")
    said = sdks.not_generated("java")
    assert said == (
        "not generated: no code generator in pkg/v3 v3.274.0, and "
        "github.com/pulumi/pulumi-java/pkg: 403 Forbidden"
    )
    monkeypatch.setattr(sdks, "served", lambda module, version="latest": None)
    assert "is served now" in sdks.not_generated("dotnet")


def test_the_mistake_replaces_a_resource_the_schema_references() -> None:
    assert sdks.SCHEMA.read_text().count(sdks.MISTAKE[0]) == 1


def test_node_modules_are_installed_again_when_the_lock_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text('{"lockfileVersion": 3}')
    installs = []

    def npm(*args: str, cwd: Path):
        installs.append(args[1:])
        (cwd / "node_modules").mkdir(exist_ok=True)
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(sdks, "TYPESCRIPT_EXAMPLE", tmp_path)
    monkeypatch.setattr(sdks, "node", npm)
    assert sdks.node_modules() == tmp_path / "node_modules"
    sdks.node_modules()
    assert len(installs) == 1
    assert installs[0][0] == "ci"
    lock.write_text('{"lockfileVersion": 3, "packages": {}}')
    sdks.node_modules()
    assert len(installs) == 2


def test_the_yaml_previews_error_is_its_first_error_line_without_colours() -> None:
    output = (
        "Previewing update (e2e-yaml):\nwarning: using pulumi-resource-meshstack from $PATH\n"
        "\x1b[31mError\x1b[0m: error resolving type of resource bookinfo: loader returned "
        "kubernetes@4.25.0; requested kubernetes@4.34.2\n\n  on Pulumi.yaml line 25:\n"
    )
    assert yaml_program.first_error(output) == (
        "Error: error resolving type of resource bookinfo: loader returned kubernetes@4.25.0; "
        "requested kubernetes@4.34.2"
    )
    assert yaml_program.first_error("one\nlast line\n\n") == "last line"


def test_the_yaml_program_uses_only_the_kubernetes_provider_and_meshstack() -> None:
    program = yaml.safe_load(yaml_program.PROGRAM.read_text())
    assert program["runtime"] == "yaml"
    packages = {r["type"].split(":")[0] for r in program["resources"].values()}
    packages |= {
        r["type"].split(":")[2]
        for r in program["resources"].values()
        if r["type"].startswith("pulumi:providers:")
    }
    assert packages == {"pulumi", "kubernetes", "meshstack"}
    assert (yaml_program.PLUGINS / "pulumi-resource-meshstack").stat().st_mode & 0o111
