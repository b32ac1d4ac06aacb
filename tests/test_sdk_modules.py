"""meshstack/sdk_modules.py: a provider SDK package with only the modules used loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi._utils import lazy_import

from meshstack.sdk_modules import is_partial, load_only
from tools.stack_file import REPO_ROOT, committed_stacks

# Shaped like a generated SDK's subpackage: `__init__` star-imports every module, then its
# argument types and (as a module) its output types (pulumi_gcp/compute/__init__.py).
PACKAGE = {
    "__init__.py": """
        LOADED.append("__init__")
        from .first import *
        from .second import *
        from ._inputs import *
        from . import outputs
    """,
    "_inputs.py": "__all__ = ['FirstArgs']\nclass FirstArgs: pass\n",
    "outputs.py": "class FirstOutput: pass\n",
    "first.py": """
        from . import outputs
        from ._inputs import *
        __all__ = ['First']
        class First: pass
    """,
    "second.py": "LOADED.append('second')\n__all__ = ['Second']\nclass Second: pass\n",
}


@pytest.fixture
def sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A fake SDK `fakesdk` whose subpackage `things` is lazily imported, as Pulumi's are;
    the list records which of its modules ran."""
    loaded: list[str] = []
    (tmp_path / "fakesdk").mkdir()
    (tmp_path / "fakesdk" / "__init__.py").write_text("")
    (tmp_path / "fakesdk" / "things").mkdir()
    for name, text in PACKAGE.items():
        source = textwrap.dedent(text)
        (tmp_path / "fakesdk" / "things" / name).write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("builtins.LOADED", loaded, raising=False)
    import fakesdk  # type: ignore[import-not-found]

    fakesdk.things = lazy_import("fakesdk.things")
    yield loaded
    for name in [m for m in sys.modules if m.startswith("fakesdk")]:
        del sys.modules[name]


def test_only_the_modules_asked_for_are_loaded(sdk: list[str]) -> None:
    package = load_only("fakesdk.things", ["first"])
    assert sdk == []  # neither the package's __init__ nor the other module ran
    assert is_partial(package)
    assert sys.modules["fakesdk.things"] is package is sys.modules["fakesdk"].things
    first = sys.modules["fakesdk.things.first"]
    assert package.First is first.First
    assert package.FirstArgs is sys.modules["fakesdk.things._inputs"].FirstArgs
    assert package.outputs.FirstOutput is sys.modules["fakesdk.things.outputs"].FirstOutput
    assert "fakesdk.things.second" not in sys.modules


def test_any_other_name_loads_the_whole_package_with_the_same_classes(sdk: list[str]) -> None:
    package = load_only("fakesdk.things", ["first"])
    first = package.First
    assert package.Second.__name__ == "Second"
    assert sdk == ["__init__", "second"]
    assert not is_partial(package)
    assert package.First is first
    with pytest.raises(AttributeError):
        _ = package.Third
    # Once whole, asking again changes nothing.
    assert load_only("fakesdk.things", ["first"]) is package and sdk == ["__init__", "second"]


def test_a_package_already_loaded_whole_is_left_as_it_is(sdk: list[str]) -> None:
    import fakesdk.things  # type: ignore[import-not-found]

    whole = fakesdk.things
    assert whole.Second and sdk == ["__init__", "second"]
    assert load_only("fakesdk.things", ["first"]) is whole and not is_partial(whole)


PACKAGES = [
    "pulumi_gcp.compute",
    "pulumi_gcp.container",
    "pulumi_alicloud.ecs",
    "pulumi_alicloud.vpc",
    "pulumi_alicloud.cs",
    "pulumi_alicloud.slb",
    "pulumi_kubernetes.helm.v3",
    "pulumi_kubernetes.yaml",
]
# Every stack, then what of each package was loaded, in one fresh interpreter.
EVERY_STACK = f"""
import json, sys
from meshstack.sdk_modules import is_partial
from tools.offline.engine import OfflineEngine
for stack in {committed_stacks()!r}:
    OfflineEngine(stack).run(stack)
print(json.dumps({{
    p: [is_partial(sys.modules[p]), sum(m.startswith(p + ".") for m in sys.modules)]
    for p in {PACKAGES!r}
}}))
"""


def test_no_stack_loads_a_provider_package_whole() -> None:
    """A resource of a module not listed in meshstack/{gcp,alicloud}/sdk.py would load the
    whole package (correct, but the cost comes back): every stack's is listed."""
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", EVERY_STACK],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    loaded = json.loads(out.splitlines()[-1])
    assert {p: partial for p, (partial, _) in loaded.items()} == dict.fromkeys(PACKAGES, True)
    # pulumi_gcp 10.2.0's compute: 285 modules; the resources used, _inputs and outputs: 9.
    assert loaded["pulumi_gcp.compute"][1] == 9
