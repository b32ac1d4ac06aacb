"""The generated reference (docs/reference/) is current, and says something about every key."""

from __future__ import annotations

import re

import pytest

from stacks.config import SCENARIO_MODELS
from tools import reference


def test_the_generated_reference_is_current():
    stale = [
        str(path.relative_to(reference.REPO_ROOT))
        for path, text in reference.pages().items()
        if not path.exists() or path.read_text() != text
    ]
    assert not stale, f"not current, run `make docs`: {stale}"


@pytest.mark.parametrize("scenario", sorted(SCENARIO_MODELS))
def test_every_key_says_what_it_accepts_and_means(scenario):
    keys = list(reference.keys(SCENARIO_MODELS[scenario]))
    assert keys
    for key in keys:
        assert key.meaning, f"{key.path} has no docstring"
        # In words, not a Python type.
        assert not re.search(r"\b(str|int|Annotated|NoneType|typing)\b", key.accepts), key


def test_nested_keys_are_paths_and_lists_are_marked():
    paths = [k.path for k in reference.keys(SCENARIO_MODELS["multi-cluster"])]
    assert "clusters[].ackNodePool.size" in paths and "istio.version" in paths
    single = {k.path: k for k in reference.keys(SCENARIO_MODELS["single-cluster"])}
    assert single["network.vswitches[].zone"].default == "(required)"
    assert single["istio.mtls"].accepts == "one of `STRICT`, `PERMISSIVE`, `DISABLE`"
    assert single["verify.samples"].accepts == "a whole number (≥ 5, ≤ 200)"
