"""The `meshstack` distribution: built from this checkout by pip (pyproject.toml, setuptools),
installed into a clean virtualenv, every public component importable from it; its version is
the CHANGELOG's newest; this repository's stacks import it as an installed package."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import distribution
from pathlib import Path

import pytest

import meshstack
from meshstack import provider

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_is_semver_and_the_changelogs_newest() -> None:
    version = PYPROJECT["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert releases[0] == version
    assert distribution("meshstack").version == version


def test_stacks_use_the_installed_package() -> None:
    # The editable install of requirements.txt, not a path hack: a user's program sees the same.
    assert distribution("meshstack").read_text("direct_url.json")
    assert Path(meshstack.__file__).parent == ROOT / "components" / "meshstack"
    for source in [ROOT / "__main__.py", *(ROOT / "stacks").rglob("*.py")]:
        text = source.read_text()
        assert "sys.path" not in text and "from components" not in text, source


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # From a copy of the tracked files: a build in the checkout would reuse its build/.
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.check_output(["git", "ls-files", "-z"], cwd=ROOT, text=True)
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("meshstack-*.whl")
    return built


def test_clean_virtualenv_installs_the_wheel_and_imports_every_public_component(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # The dependencies come from this environment (no download): a path entry, so that its
    # own editable meshstack is not seen (.pth files are read only in site directories).
    site = Path(
        subprocess.check_output(
            [python, "-c", "import site; print(site.getsitepackages()[0])"], text=True
        ).strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    classes = {c.__name__: c.__module__ for c in provider.PUBLIC}
    script = (
        "import importlib, json, sys, meshstack\n"
        f"classes = {classes!r}\n"
        "for name, module in classes.items():\n"
        "    assert isinstance(getattr(importlib.import_module(module), name), type), name\n"
        "import meshstack.provider\n"
        "print(json.dumps({'file': meshstack.__file__, 'count': len(meshstack.provider.PUBLIC)}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [python, "-c", script],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert str(site) in result.stdout, "imported from the checkout, not the installed wheel"
    # The wheel's declared dependency ranges are met by the versions this repository pins.
    check = subprocess.run(
        [python, "-m", "pip", "check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "meshstack" not in check.stdout, check.stdout
