"""Run the real Pulumi CLI on this project's program without the Go Python language host.

The host (`pulumi-language-python`, module github.com/pulumi/pulumi/sdk/python/cmd/
pulumi-language-python/v3) is not served by the Go module proxy at any version, so it cannot be
built here. The CLI can instead use a language runtime that is already running: its hidden
`--client=ADDRESS` flag (pkg/cmd/pulumi/operations/io.go, readProjectForUpdate) swaps the
project's runtime for that address. The Python SDK ships such a runtime, the one its Automation
API serves inline programs with (pulumi/automation/_server.py, LanguageServer); this starts it on
a loopback port with the project's `__main__.py` as the program, runs the CLI with `--client`
and `--exec-kind auto.inline` (as pulumi/automation/_stack.py does), and stops it.

    .venv/bin/python -m tools.e2e.langhost [--cwd DIR] -- PULUMI ARGS...
    .venv/bin/python -m tools.e2e.langhost -- .tools/bin/pulumi preview --stack local

What the Go host does that this does not: install dependencies and report the program's
required plugins up front (the engine then loads each provider when a resource first needs it).
"""

from __future__ import annotations

import argparse
import os
import runpy
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2_grpc

# The operations that run the program; the others (stack, config, plugin...) take no --client.
PROGRAM_COMMANDS = {"preview", "up", "update", "refresh", "destroy"}


def serve(main: Path) -> tuple[grpc.Server, int]:
    """Start the SDK's language runtime with `main` as the program; returns it and its port."""

    def program() -> None:
        sys.path.insert(0, str(main.parent))
        runpy.run_path(str(main), run_name="__main__")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pulumi CLI, SDK's language runtime.")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the project directory")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- pulumi ARGS...")
    args = parser.parse_args(argv)
    command = [a for a in args.command if a != "--"] if args.command[:1] == ["--"] else args.command
    if len(command) < 2:
        parser.error("give the CLI and its arguments after --")
    project = args.cwd.resolve()
    os.chdir(project)  # the program reads its files relative to the project, as under the host
    if command[1] not in PROGRAM_COMMANDS:
        return subprocess.call(command)
    server, port = serve(project / "__main__.py")
    try:
        extra = [f"--client=127.0.0.1:{port}", "--exec-kind", "auto.inline"]
        return subprocess.call([*command, *extra])
    finally:
        server.stop(0)


if __name__ == "__main__":
    sys.exit(main())
