"""The injection check's script (components/meshstack/istio/injection_check_job.py) against recorded
answers of a dry-run Pod create: the API server returns the pod as admission left it."""

from __future__ import annotations

import itertools

import pytest

from meshstack.istio import injection_check_job as check

SETTINGS = {"NAMESPACE": "bookinfo", "PROBE_IMAGE": "python:3.13-slim", "DEADLINE_SECONDS": "60"}
PLAIN = {"spec": {"containers": [{"name": "probe"}]}}
SIDECAR = {"spec": {"containers": [{"name": "probe"}, {"name": "istio-proxy"}]}}
# Istio 1.31 with Kubernetes >= 1.33: the proxy is a native sidecar (an init container).
NATIVE = {
    "spec": {
        "initContainers": [{"name": "istio-init"}, {"name": "istio-proxy"}],
        "containers": [{"name": "probe"}],
    }
}


def answers(*replies):
    calls = []
    replies_iter = iter(replies)

    def post(url, token, body):
        calls.append((url, token, body))
        return next(replies_iter)

    return post, calls


@pytest.mark.parametrize("pod", [SIDECAR, NATIVE], ids=["sidecar", "native-sidecar"])
def test_an_injected_answer_passes(pod):
    post, calls = answers((201, pod))
    assert check.injected(post, "t", "bookinfo", "img") == ""
    ((url, token, body),) = calls
    assert url == f"{check.KUBERNETES}/api/v1/namespaces/bookinfo/pods?dryRun=All"
    assert token == "t" and body["metadata"]["generateName"] == "injection-probe-"


def test_a_plain_pod_or_a_refusal_says_what_was_seen():
    post, _ = answers((201, PLAIN), (500, {"message": "failed calling webhook"}))
    assert "would run ['probe']: no istio-proxy" in check.injected(post, "t", "bookinfo", "i")
    assert check.injected(post, "t", "bookinfo", "i") == "HTTP 500: failed calling webhook"


def test_the_check_waits_until_the_injector_answers():
    post, calls = answers((201, PLAIN), (500, {"message": "no endpoints"}), (201, SIDECAR))
    naps = []
    message = check.wait(post, SETTINGS, "t", clock=lambda: 0, nap=naps.append)
    assert message == "pods in bookinfo get the istio-proxy sidecar"
    assert len(calls) == 3 and naps == [10, 10]


def test_past_its_deadline_the_check_fails_with_the_last_answer():
    post, _ = answers(*[(201, PLAIN)] * 3)
    clock = itertools.count(0, 40).__next__  # 0, 40, 80: past the 60 s deadline
    with pytest.raises(SystemExit, match="injection check failed: a pod in bookinfo would run"):
        check.wait(post, SETTINGS, "t", clock=clock, nap=lambda _: None)


def test_a_revision_s_check_labels_its_probe_and_wants_its_proxy_version():
    old = {
        "spec": {
            "containers": [
                {"name": "probe"},
                {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.30.3"},
            ]
        }
    }
    new = {
        "spec": {
            "initContainers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.31.0"}],
            "containers": [{"name": "probe"}],
        }
    }
    post, calls = answers((201, old), (201, new))
    labels = {"istio.io/rev": "1-31-0"}
    assert check.injected(post, "t", "istio-system", "i", labels=labels, proxy_tag="1.31.0") == (
        "the istio-proxy sidecar would run docker.io/istio/proxyv2:1.30.3, not proxy version 1.31.0"
    )
    assert check.injected(post, "t", "istio-system", "i", labels=labels, proxy_tag="1.31.0") == ""
    assert calls[0][2]["metadata"]["labels"] == {"app": "injection-probe", **labels}
    settings = {**SETTINGS, "PROBE_LABELS": '{"istio.io/rev": "1-31-0"}', "PROXY_TAG": "1.31.0"}
    post, _ = answers((201, new))
    assert check.wait(post, settings, "t", clock=lambda: 0, nap=lambda _: None) == (
        "pods labelled {'istio.io/rev': '1-31-0'} in bookinfo get the istio-proxy 1.31.0 sidecar"
    )
