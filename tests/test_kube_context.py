"""The local stack reaches the cluster kubectl reaches (tools/kube_context.py, kube.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from meshstack.kube import AMBIENT_KUBECONFIG
from tools.kube_context import NoContext, resolve


def kubeconfig(path: Path, current: str | None, *contexts: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "contexts": [{"name": c, "context": {"cluster": c}} for c in contexts],
                "clusters": [
                    {"name": c, "cluster": {"server": f"https://{c}.invalid"}} for c in contexts
                ],
            }
        )
    )
    return path


def test_kubeconfig_list_merges_with_the_first_current_context_winning(tmp_path):
    first = kubeconfig(tmp_path / "a", "kind-kind", "kind-kind")
    second = kubeconfig(tmp_path / "b", "minikube", "minikube", "kind-kind")
    missing = tmp_path / "gone"
    environ = {"KUBECONFIG": os.pathsep.join(map(str, [missing, first, second]))}
    found = resolve(None, None, environ)
    assert found.files == (first, second)  # a missing file is skipped, as kubectl does
    assert (found.context, found.server) == ("kind-kind", "https://kind-kind.invalid")
    # A context from the second file, chosen by name.
    assert resolve(None, "minikube", environ).server == "https://minikube.invalid"


def test_without_kubeconfig_variable_the_home_file_is_read(tmp_path):
    (tmp_path / ".kube").mkdir()
    home = kubeconfig(tmp_path / ".kube" / "config", "docker-desktop", "docker-desktop")
    found = resolve(None, None, {"HOME": str(tmp_path)})
    assert (found.files, found.context) == ((home,), "docker-desktop")


def test_a_configured_file_wins_over_the_variable(tmp_path):
    mine = kubeconfig(tmp_path / "mine", "k3d-dev", "k3d-dev")
    other = kubeconfig(tmp_path / "other", "kind-kind", "kind-kind")
    found = resolve(str(mine), None, {"KUBECONFIG": str(other)})
    assert (found.files, found.context) == ((mine,), "k3d-dev")


@pytest.mark.parametrize(
    ("current", "context", "message"),
    [
        (None, None, "has no current context"),
        ("kind-kind", "kind-other", "no context 'kind-other'"),
    ],
)
def test_a_missing_context_is_refused_with_what_exists(tmp_path, current, context, message):
    path = kubeconfig(tmp_path / "config", current, "kind-kind")
    with pytest.raises(NoContext, match=message) as refused:
        resolve(str(path), context, {})
    assert "['kind-kind']" in str(refused.value) and "use-context" in str(refused.value)


def test_no_kubeconfig_at_all_says_how_to_make_one(tmp_path):
    with pytest.raises(NoContext, match="kind create cluster"):
        resolve(None, None, {"HOME": str(tmp_path)})


def test_the_local_provider_loads_what_kubectl_loads(engine):
    (provider,) = engine.run("local").of_type("pulumi:providers:kubernetes")
    # Empty: the provider's ambient loading rules; no context: the current one.
    assert provider.inputs["kubeconfig"] == AMBIENT_KUBECONFIG
    assert "context" not in provider.inputs


def test_a_configured_kubeconfig_and_context_reach_the_provider(engine):
    settings = {"kubeconfig": "~/clusters/dev.yaml", "context": "kind-dev"}
    (provider,) = engine.run("local", {"kubernetes": settings}).of_type(
        "pulumi:providers:kubernetes"
    )
    assert provider.inputs["kubeconfig"] == str(Path("~/clusters/dev.yaml").expanduser())
    assert provider.inputs["context"] == "kind-dev"
