"""The e2e control plane's istiod stand-in (tools/e2e/kube/webhook): its own Go tests (admits
with the request's uid and no patch, answers the API server's egress CONNECT, patches only
istiod's webhooks with the caBundle and failurePolicy Fail) run here by the real `go test`."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tools.stack_file import REPO_ROOT


def test_the_webhook_stand_in_passes_its_go_tests():
    go = shutil.which("go")
    if go is None:
        assert os.environ.get("CI") != "true", "CI needs Go for tools/e2e/kube/webhook"
        pytest.skip("no Go toolchain here")
    done = subprocess.run(
        [go, "-C", str(REPO_ROOT / "tools/e2e/kube/webhook"), "test", "-count=1", "."],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "GOFLAGS": "-mod=readonly"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
