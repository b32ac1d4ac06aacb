"""Stack files as the tools and scripts/up.sh read them (tools/stack_file.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools import stack_file
from tools.stack_file import (
    REPO_ROOT,
    StackFileError,
    clouds,
    committed_stacks,
    main,
    stack_config,
)


@pytest.fixture
def stacks_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(stack_file, "STACKS_DIR", tmp_path)
    return tmp_path


def test_a_users_own_stack_file_is_not_one_the_tests_cover(stacks_dir):
    """README: copy a stack file for another instance; the suite covers the committed ones."""
    (stacks_dir / "Pulumi.local.yaml").write_text("config: {meshstack:scenario: local}\n")
    subprocess.run(["git", "init", "-q"], cwd=stacks_dir, check=True)
    subprocess.run(["git", "add", "Pulumi.local.yaml"], cwd=stacks_dir, check=True)
    (stacks_dir / "Pulumi.dev.yaml").write_text("config: {meshstack:scenario: local}\n")
    assert stack_file.stack_names() == ["dev", "local"]
    assert committed_stacks() == ["local"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config:\n  meshstack:scenario: local\n   bad: [\n", "line 3, column 7: not valid YAML"),
        ("meshstack:scenario: local\n", "a stack file is a YAML mapping with a `config:`"),
        ("", "a stack file is a YAML mapping"),
    ],
    ids=["syntax", "no-config-block", "empty"],
)
def test_a_broken_stack_file_is_named_with_where_it_breaks(stacks_dir, capsys, text, message):
    (stacks_dir / "Pulumi.broken.yaml").write_text(text)
    with pytest.raises(StackFileError, match=message):
        stack_config("broken")
    assert main(["scenario", "broken"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: Pulumi.broken.yaml") and "Traceback" not in error


def test_the_clouds_a_stack_needs_credentials_for():
    assert clouds({"meshstack:scenario": "local"}) == []
    assert clouds({"meshstack:scenario": "vm"}) == ["gcp"]
    mixed = {
        "meshstack:scenario": "multi-cluster",
        "meshstack:clusters": [{"cloud": "gke"}, {"cloud": "ack"}, {"cloud": "gke"}],
    }
    assert clouds(mixed) == ["alibaba", "gcp"]


def test_the_config_check_refuses_what_pulumi_up_would_and_every_mistake_at_once(
    stacks_dir, capsys
):
    (stacks_dir / "Pulumi.dev.yaml").write_text(
        "config:\n  meshstack:scenario: local\n  meshstack:istio: {profil: demo}\n"
        "  meshstack:bookinfo: {routing: nope}\n  alicloud:accessKey: LTAIplain\n"
        "  alicloud:secretKey: {secure: v1:abc}\n"
    )
    assert main(["check", "dev"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: Pulumi.dev.yaml: Invalid stack configuration (3 problems)")
    assert "meshstack:istio.profil" in error and "meshstack:bookinfo.routing = 'nope'" in error
    assert "alicloud:accessKey is in the stack file in plain text" in error


def test_the_config_check_passes_a_valid_file_with_an_encrypted_credential(stacks_dir, capsys):
    (stacks_dir / "Pulumi.dev.yaml").write_text(
        "config:\n  meshstack:scenario: local\n  alicloud:accessKey: {secure: v1:abc}\n"
        "  alicloud:secretKey: {secure: v1:def}\n"
    )
    assert main(["check", "dev"]) == 0
    assert capsys.readouterr() == ("", "")


def test_the_config_check_needs_no_pulumi_sdk():
    """scripts/up.sh runs it before the Pulumi packages are installed."""
    program = (
        "import sys\n"
        "class Absent:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pulumi', 'pulumi_kubernetes', 'grpc'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "from tools.stack_file import main\n"
        "sys.exit(main(['check', 'local']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
