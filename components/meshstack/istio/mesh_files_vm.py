"""Runs on a mesh VM as root (python3, standard library only), from a systemd timer: fetches
the mesh's files as the program last declared them and rewrites those that differ, then
restarts the sidecar, only if one did.

`--command` prints a JSON object {path on the VM: content} (meshstack/istio/vm_files.py
mesh_files: the trust bundle, cluster.env, mesh.yaml, the hosts line for istiod). As the boot
script does, cluster.env gets the VM's own address appended (`hostname -I`, first address),
the hosts line replaces the lines that name the same hosts in /etc/hosts (and those of the
previous hosts line), and the proxy's user owns what is written. A command that fails or
prints no object changes nothing (exit 1). `--root` prefixes every path (tests).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

CLUSTER_ENV = "/var/lib/istio/envoy/cluster.env"
HOSTS_ADDENDUM = "/var/lib/meshstack/hosts"
ETC_HOSTS = "/etc/hosts"
OWNER = "istio-proxy"

# (argv) -> its standard output; raises subprocess.CalledProcessError when it fails.
Run = Callable[[Sequence[str]], str]


def run(argv: Sequence[str]) -> str:
    return subprocess.run(list(argv), check=True, capture_output=True, text=True).stdout


def declared(run: Run, command: str) -> dict[str, str]:
    files = json.loads(run(["bash", "-c", command]))
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ValueError(f"expected an object of file contents, got {type(files).__name__}")
    return files


def wanted(files: Mapping[str, str], address: str) -> dict[str, str]:
    """What each file should hold on this VM."""
    return {
        path: content + f"ISTIO_SVC_IP='{address}'\n" if path == CLUSTER_ENV else content
        for path, content in files.items()
    }


def hosts_file(current: str, old_addendum: str, addendum: str) -> str:
    """/etc/hosts with the addendum's hosts named once, by the addendum."""
    names = {
        f" {name}" for line in (old_addendum + addendum).splitlines() for name in line.split()[1:]
    }
    kept = [line for line in current.splitlines() if not any(n in line for n in names)]
    return "".join(f"{line}\n" for line in kept) + addendum


def write(path: Path, content: str, run: Run, owner: str | None = OWNER) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as out:
        out.write(content)
    os.chmod(staged, 0o644)
    if owner:
        run(["chown", owner, staged])
    os.replace(staged, path)


def refresh(run: Run, command: str, root: str = "") -> list[str]:
    """Rewrites what changed; returns the paths rewritten (the sidecar restarted if any)."""
    files = declared(run, command)
    address = run(["hostname", "-I"]).split()[0]
    changed = []
    for path, content in wanted(files, address).items():
        target = Path(root + path)
        if not target.exists() or target.read_text() != content:
            changed.append(path)
    hosts = Path(root + HOSTS_ADDENDUM)
    old_addendum = hosts.read_text() if hosts.exists() else ""
    for path in changed:
        write(Path(root + path), wanted(files, address)[path], run)
    addendum = files.get(HOSTS_ADDENDUM)
    if addendum is not None:
        etc_hosts = Path(root + ETC_HOSTS)
        current = etc_hosts.read_text() if etc_hosts.exists() else ""
        updated = hosts_file(current, old_addendum, addendum)
        if updated != current:
            # In place, as the boot script writes it: /etc/hosts stays the same file.
            etc_hosts.write_text(updated)
    if changed:
        run(["systemctl", "restart", "istio"])
    return changed


def main(argv: Sequence[str] | None = None, runner: Run = run) -> None:
    parser = argparse.ArgumentParser(description="Rewrite the mesh's files that changed.")
    parser.add_argument("--command", required=True)
    parser.add_argument("--root", default="")
    args = parser.parse_args(argv)
    try:
        changed = refresh(runner, args.command, args.root)
    except (subprocess.CalledProcessError, ValueError, IndexError) as error:
        sys.exit(f"meshstack: mesh files not refreshed: {error}")
    print(
        "meshstack: "
        + (f"rewrote {', '.join(changed)}; restarted istio" if changed else "mesh files current")
    )


if __name__ == "__main__":
    main()
