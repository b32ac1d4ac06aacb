"""What `istioctl x workload entry configure` writes for a VM, and the script that installs it.

Pure functions, no Pulumi: `cluster_env`, `mesh_yaml` and `hosts` render the files istioctl
renders (same keys, same quoting; compared with istioctl's goldens in the tests), and
`startup_script` renders the boot script that installs the `istio-sidecar` package, puts each
file where the package expects it and starts the `istio` service. The script runs on every
boot and is idempotent; the one credential, the bootstrap token, is not in it: a command
fetches it (e.g. from a secret store only this VM may read), at boot and then every
TOKEN_REFRESH_MINUTES from a systemd timer, because the token expires and the agent reads the
file again for each certificate it asks istiod for (security/pkg/credentialfetcher/plugin/
token.go GetPlatformCredential: os.ReadFile on every call).

The mesh's files change while the VM runs (a new root in the trust bundle, another revision's
istiod, the gateway's address): `mesh_files` is what they should be, the same at boot and
after; the VM fetches them again every MESH_FILES_REFRESH_MINUTES with a command of its
platform (`FilesSource`, e.g. its instance metadata) and mesh_files_vm.py rewrites what
differs, restarting the sidecar only then.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from meshstack.istio.eastwest import XDS_PORT, istiod_host

# Where the istio-sidecar package reads each file (istio.io VM installation guide).
ROOT_CERT_PATH = "/etc/certs/root-cert.pem"
TOKEN_PATH = "/var/run/secrets/tokens/istio-token"
TOKEN_DIRECTORY = TOKEN_PATH.rsplit("/", 1)[0]
CLUSTER_ENV_PATH = "/var/lib/istio/envoy/cluster.env"
MESH_CONFIG_PATH = "/etc/istio/config/mesh"
# Owned by the proxy's user once the files are in place: each is created first (istio.io's VM
# guide, istio.io content/en/docs/setup/install/virtual-machine/snips.sh
# snip_configure_the_virtual_machine_2 and _8: `mkdir -p /var/run/secrets/tokens`
# and `/etc/istio/proxy` before `chown -R istio-proxy ...`), since `chown` fails on a missing
# path. /var/run is a tmpfs: on every boot, /var/run/secrets is gone until this script runs.
PROXY_OWNED_PATHS = (
    "/var/lib/istio",
    "/etc/certs",
    "/etc/istio/proxy",
    "/etc/istio/config",
    "/var/run/secrets",
)
# 22: SSH stays reachable if the proxy misbehaves; 15090: Prometheus; 15021/15020: the agent.
LOCAL_EXCLUDE_PORTS = "22,15090,15021,15020"
REFRESH_PATH = "/usr/local/lib/meshstack/refresh-istio-token"
HOSTS_ADDENDUM = "/var/lib/meshstack/hosts"
REFRESH_UNIT = "istio-token"
TOKEN_REFRESH_MINUTES = 15
FILES_REFRESHER = "mesh_files_vm.py"
FILES_REFRESHER_PATH = f"/usr/local/lib/meshstack/{FILES_REFRESHER}"
FILES_REFRESH_PATH = "/usr/local/lib/meshstack/refresh-mesh-files"
FILES_UNIT = "istio-mesh-files"
MESH_FILES_REFRESH_MINUTES = 5
TRUST_DOMAIN = "cluster.local"
HEREDOC_END = "MESHSTACK_END_OF_FILE"


@dataclass(frozen=True)
class VmWorkload:
    """A WorkloadGroup's identity in the mesh, as the VM's proxy presents it."""

    name: str
    namespace: str
    service_account: str
    cluster_id: str
    mesh_id: str
    network: str = ""
    revision: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    trust_domain: str = TRUST_DOMAIN
    dns_capture: bool = True
    # Set: the proxy asks istiod to create its WorkloadEntry (auto-registration).
    auto_register: bool = False
    # The WorkloadGroup's health probe (its spec.probe), which the proxy runs. With a
    # declared WorkloadEntry (no auto-registration), the proxy names that entry so that istiod
    # takes its health reports (pilot/pkg/autoregistration/controller.go OnConnect).
    probe: Mapping[str, object] | None = None


def canonical_name(workload: VmWorkload) -> tuple[str, str]:
    """Istio's canonical service and revision, from the labels as Istio derives them."""
    labels = workload.labels
    service = (
        labels.get("service.istio.io/canonical-name")
        or labels.get("app.kubernetes.io/name")
        or labels.get("app")
        or workload.name
    )
    revision = (
        labels.get("service.istio.io/canonical-revision")
        or labels.get("app.kubernetes.io/version")
        or labels.get("version")
        or "latest"
    )
    return service, revision


def proxy_metadata(workload: VmWorkload) -> dict[str, str]:
    """`defaultConfig.proxyMetadata` of mesh.yaml: what the VM's proxy tells istiod."""
    service, revision = canonical_name(workload)
    labels = {
        **workload.labels,
        "service.istio.io/canonical-name": service,
        "service.istio.io/canonical-revision": revision,
    }
    metadata = {
        "CANONICAL_SERVICE": service,
        "CANONICAL_REVISION": revision,
        "POD_NAMESPACE": workload.namespace,
        "SERVICE_ACCOUNT": workload.service_account,
        "TRUST_DOMAIN": workload.trust_domain,
        "ISTIO_META_CLUSTER_ID": workload.cluster_id,
        "ISTIO_META_MESH_ID": workload.mesh_id,
        "ISTIO_META_NETWORK": workload.network,
        "ISTIO_META_WORKLOAD_NAME": workload.name,
        # Go's json.Marshal: sorted keys, no spaces.
        "ISTIO_METAJSON_LABELS": json.dumps(labels, sort_keys=True, separators=(",", ":")),
    }
    if workload.dns_capture:
        metadata["ISTIO_META_DNS_CAPTURE"] = "true"
    if workload.auto_register:
        metadata["ISTIO_META_AUTO_REGISTER_GROUP"] = workload.name
    elif workload.probe is not None:
        metadata["ISTIO_META_WORKLOAD_ENTRY"] = workload.name
    return metadata


def http_probe(port: int, path: str = "/") -> dict[str, object]:
    """A WorkloadGroup probe (networking.istio.io WorkloadGroup spec.probe, the CRD's
    ReadinessProbe: httpGet, tcpSocket, exec or grpc, with periods and thresholds). The VM's
    agent sends it to the VM's own address unless `host` is set (pkg/istio-agent/health/
    health_check.go resolveDefaultHost); the agent's own traffic is not captured."""
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": 10,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    }


def discovery_address(workload: VmWorkload) -> str:
    return f"{istiod_host(workload.revision)}:{XDS_PORT}"


def cluster_env(workload: VmWorkload, internal_ip: str | None = None) -> str:
    """cluster.env: the proxy metadata plus the sidecar's traffic-capture settings."""
    env = {
        **proxy_metadata(workload),
        "ISTIO_INBOUND_PORTS": "*",
        "ISTIO_NAMESPACE": workload.namespace,
        "ISTIO_SERVICE": f"{workload.name}.{workload.namespace}",
        "ISTIO_SERVICE_CIDR": "*",
        "ISTIO_LOCAL_EXCLUDE_PORTS": LOCAL_EXCLUDE_PORTS,
        "SERVICE_ACCOUNT": workload.service_account,
    }
    if workload.revision:
        env["CA_ADDR"] = discovery_address(workload)
    if internal_ip:
        env["ISTIO_SVC_IP"] = internal_ip
    return "".join(f"{key}={_single_quoted(value)}\n" for key, value in sorted(env.items()))


def mesh_yaml(workload: VmWorkload) -> str:
    """mesh.yaml (installed as /etc/istio/config/mesh): where istiod is, who this proxy is."""
    default_config: dict[str, object] = {
        "discoveryAddress": discovery_address(workload),
        "proxyMetadata": proxy_metadata(workload),
    }
    if workload.mesh_id:  # istioctl copies istiod's defaultConfig, where an empty one is absent
        default_config["meshId"] = workload.mesh_id
    if workload.probe is not None:
        # What the agent probes: istioctl copies the WorkloadGroup's probe here
        # (istioctl/pkg/workload/workload.go: DefaultConfig.ReadinessProbe = wg.Spec.Probe).
        default_config["readinessProbe"] = dict(workload.probe)
    return yaml.safe_dump({"defaultConfig": default_config}, sort_keys=True)


def hosts(gateway_address: str, workload: VmWorkload) -> str:
    """The line appended to /etc/hosts: istiod's name resolves to the east-west gateway."""
    return f"{gateway_address} {istiod_host(workload.revision)}\n"


def sidecar_package_url(istio_version: str) -> str:
    """The istio-sidecar Debian package of one Istio release (the bucket moved in 1.31)."""
    major, minor = (int(part) for part in istio_version.split(".")[:2])
    base = (
        "https://blob.istio.io/istio-release/releases"
        if (major, minor) >= (1, 31)
        else "https://storage.googleapis.com/istio-release/releases"
    )
    return f"{base}/{istio_version}/deb/istio-sidecar.deb"


@dataclass(frozen=True)
class TokenSource:
    """How the VM gets its bootstrap token: a shell command that prints it (failing while
    there is none yet), and files the command needs on the VM."""

    command: str
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FilesSource:
    """How a running VM gets the mesh's files again: a shell command that prints the JSON of
    `mesh_files` as the program last declared it (failing while it cannot)."""

    command: str


def mesh_files(workload: VmWorkload, root_cert_pem: str, gateway_address: str) -> dict[str, str]:
    """The files the sidecar reads that change with the mesh, by their path on the VM:
    the trust bundle, cluster.env (without the VM's own address, which the VM adds),
    mesh.yaml and the hosts line that points istiod's name at the east-west gateway."""
    return {
        ROOT_CERT_PATH: root_cert_pem,
        CLUSTER_ENV_PATH: cluster_env(workload),
        MESH_CONFIG_PATH: mesh_yaml(workload),
        HOSTS_ADDENDUM: hosts(gateway_address, workload),
    }


@dataclass(frozen=True)
class VmApplication:
    """The workload the VM itself runs (`python3 -m http.server`, as in Istio's VM walkthroughs)."""

    name: str
    port: int
    greeting: str


def startup_script(
    *,
    istio_version: str,
    workload: VmWorkload,
    root_cert_pem: str,
    gateway_address: str,
    token: TokenSource,
    files_source: FilesSource,
    application: VmApplication,
    root: str = "",
) -> str:
    """The VM's boot script (bash). It runs as root on every boot and converges.

    `root` is prepended to every path the script reads or writes (none on a VM; a scratch
    directory when the tests run the script). Paths inside the files it writes (systemd units)
    stay as the VM sees them."""

    def at(path: str) -> str:
        return shlex.quote(root + path)

    refresher = (Path(__file__).parent / FILES_REFRESHER).read_text()
    files = {
        **mesh_files(workload, root_cert_pem, gateway_address),
        f"/srv/{application.name}/index.html": f"{application.greeting}\n",
        f"/etc/systemd/system/{application.name}.service": _http_unit(application),
        **token.files,
        REFRESH_PATH: token_refresh_script(token.command, root + TOKEN_PATH),
        f"/etc/systemd/system/{REFRESH_UNIT}.service": _refresh_unit(),
        f"/etc/systemd/system/{REFRESH_UNIT}.timer": _refresh_timer(),
        FILES_REFRESHER_PATH: refresher,
        FILES_REFRESH_PATH: files_refresh_script(files_source),
        f"/etc/systemd/system/{FILES_UNIT}.service": _files_unit(),
        f"/etc/systemd/system/{FILES_UNIT}.timer": _files_timer(),
    }
    package = at("/tmp/istio-sidecar.deb")
    lines = [
        "#!/usr/bin/env bash",
        "# Rendered by meshstack (meshstack/istio/vm_files.py): joins this VM to the Istio",
        f"# mesh {workload.mesh_id} as {workload.name}.{workload.namespace}. Runs on every boot;",
        "# each step converges, so a re-run after a change or a reboot is safe.",
        "set -euo pipefail",
        "",
        f"ISTIO_VERSION={shlex.quote(istio_version)}",
        f"PACKAGE_URL={shlex.quote(sidecar_package_url(istio_version))}",
        f"MARKER={at('/var/lib/meshstack/istio-sidecar.version')}",
        f"ISTIOD_HOST={shlex.quote(istiod_host(workload.revision))}",
        "",
        'log() { echo "meshstack: $*"; }',
        "",
        'log "installing istio-sidecar ${ISTIO_VERSION}"',
        'if [ "$(cat "$MARKER" 2>/dev/null || true)" != "$ISTIO_VERSION" ]; then',
        "  export DEBIAN_FRONTEND=noninteractive",
        "  apt-get update -q",
        "  apt-get install -y -q curl iptables python3",
        f'  curl -fsSL --retry 10 --retry-all-errors -o {package} "$PACKAGE_URL"',
        f"  dpkg -i {package}",
        '  mkdir -p "$(dirname "$MARKER")"',
        '  echo "$ISTIO_VERSION" > "$MARKER"',
        "fi",
        "",
    ]
    for path, content in files.items():
        lines += _write_file(root + path, content)
    lines += [
        'log "pointing ${ISTIOD_HOST} at the east-west gateway"',
        f'{{ grep -vF " ${{ISTIOD_HOST}}" {at("/etc/hosts")} || true; \\',
        f"  cat {at(HOSTS_ADDENDUM)}; }} > {at('/tmp/hosts')}",
        f"cat {at('/tmp/hosts')} > {at('/etc/hosts')}",
        "",
        "# The VM's own address, as `istioctl ... --internalIP` would write it.",
        "echo \"ISTIO_SVC_IP='$(hostname -I | awk '{print $1}')'\" >> " + at(CLUSTER_ENV_PATH),
        "",
        f"mkdir -p {' '.join(at(path) for path in (*PROXY_OWNED_PATHS, TOKEN_DIRECTORY))}",
        f"chown -R istio-proxy {' '.join(at(path) for path in PROXY_OWNED_PATHS)}",
        f"chmod 0755 {at(REFRESH_PATH)} {at(FILES_REFRESH_PATH)}",
        "",
        'log "fetching the bootstrap token (waits until the cluster has issued it)"',
        f"until {at(REFRESH_PATH)}; do",
        "  sleep 15",
        "done",
        "",
        "systemctl daemon-reload",
        f"systemctl enable --now {REFRESH_UNIT}.timer",
        f"systemctl enable --now {FILES_UNIT}.timer",
        f"systemctl enable --now {application.name}.service",
        "systemctl enable istio",
        "systemctl restart istio",
        'log "joined"',
    ]
    return "\n".join(lines) + "\n"


def token_refresh_script(
    command: str, token_path: str = TOKEN_PATH, owner: str = "istio-proxy"
) -> str:
    """Writes the newest token where the agent reads it, atomically, readable by the proxy
    only; fails (and leaves the old token) while `command` gives none."""
    directory = token_path.rsplit("/", 1)[0]
    return (
        "\n".join(
            [
                "#!/usr/bin/env bash",
                "# Renews the Istio agent's bootstrap token (meshstack). Run at boot and by "
                f"{REFRESH_UNIT}.timer.",
                "set -euo pipefail",
                f"token=$({command})",
                '[ -n "$token" ] || { echo "meshstack: no token yet" >&2; exit 1; }',
                f"mkdir -p {directory}",
                f"staged=$(mktemp {directory}/.istio-token.XXXXXX)",
                'printf \'%s\' "$token" > "$staged"',
                f'chown {owner} "$staged"',
                'chmod 0400 "$staged"',
                f'mv -f "$staged" {token_path}',
            ]
        )
        + "\n"
    )


def _refresh_unit() -> str:
    return "\n".join(
        [
            "[Unit]",
            "Description=Renew the Istio bootstrap token (meshstack)",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            f"ExecStart={REFRESH_PATH}",
        ]
    )


def files_refresh_script(source: FilesSource, root: str = "") -> str:
    """Runs mesh_files_vm.py with the platform's command (a script, so that the command is
    quoted by the shell's rules, not by systemd's)."""
    root_flag = f" --root {shlex.quote(root)}" if root else ""
    return (
        "\n".join(
            [
                "#!/usr/bin/env bash",
                "# Rewrites the mesh's files that changed, then restarts istio (meshstack). Run "
                f"by {FILES_UNIT}.timer.",
                "set -euo pipefail",
                f"exec python3 {shlex.quote(root + FILES_REFRESHER_PATH)}{root_flag} "
                f"--command {shlex.quote(source.command)}",
            ]
        )
        + "\n"
    )


def _files_unit() -> str:
    return "\n".join(
        [
            "[Unit]",
            "Description=Rewrite the mesh's files if they changed, then restart istio (meshstack)",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            f"ExecStart={FILES_REFRESH_PATH}",
        ]
    )


def _files_timer() -> str:
    minutes = MESH_FILES_REFRESH_MINUTES
    return "\n".join(
        [
            "[Unit]",
            f"Description=Fetch the mesh's files every {minutes} minutes",
            "",
            "[Timer]",
            f"OnBootSec={minutes}min",
            f"OnUnitActiveSec={minutes}min",
            "",
            "[Install]",
            "WantedBy=timers.target",
        ]
    )


def _refresh_timer() -> str:
    return "\n".join(
        [
            "[Unit]",
            f"Description=Renew the Istio bootstrap token every {TOKEN_REFRESH_MINUTES} minutes",
            "",
            "[Timer]",
            f"OnBootSec={TOKEN_REFRESH_MINUTES}min",
            f"OnUnitActiveSec={TOKEN_REFRESH_MINUTES}min",
            "",
            "[Install]",
            "WantedBy=timers.target",
        ]
    )


def _write_file(path: str, content: str) -> list[str]:
    """Lines of a quoted heredoc that writes `content` to `path` verbatim."""
    if HEREDOC_END in content.splitlines():
        raise ValueError(f"{path}: content contains the heredoc terminator {HEREDOC_END}")
    body = content if content.endswith("\n") else content + "\n"
    quoted = shlex.quote(path)
    return [
        f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0])}",
        f"cat > {quoted} <<'{HEREDOC_END}'",
        *body.splitlines(),
        HEREDOC_END,
        "",
    ]


def _http_unit(application: VmApplication) -> str:
    return "\n".join(
        [
            "[Unit]",
            f"Description={application.name}: HTTP on port {application.port} (meshstack)",
            "After=network-online.target",
            "",
            "[Service]",
            f"ExecStart=/usr/bin/python3 -m http.server {application.port} "
            f"--directory /srv/{application.name}",
            "Restart=always",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
        ]
    )


def _single_quoted(value: str) -> str:
    """Shell single quotes, always (as istioctl writes cluster.env)."""
    return "'" + value.replace("'", "'\"'\"'") + "'"
