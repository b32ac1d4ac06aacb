"""The stack's last outputs, as the Pulumi CLI that runs this program has them.

`pulumi stack output --json` without `--show-secrets` reads the stack's last checkpoint with
a blinding secrets provider (pulumi/pulumi pkg/v3 cmd/pulumi/stack/stack_output.go: no
passphrase or key is needed, secret outputs print as "[secret]"), from the backend the
running `pulumi up` uses (PULUMI_BACKEND_URL, or the one logged in to, in PULUMI_HOME). The
`deployed` record it reads is plain data (stacks/config/previous.py). Checked with the CLI
v3.274.0 built here (tools/e2e) on a file backend: the call answers from inside a running
`pulumi up` and `pulumi preview` of the same stack (no lock is taken) and needs no passphrase.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

import pulumi

from stacks.config.previous import OUTPUT, StateUnavailable


class CliStackState:
    """Asks the CLI on PATH for this stack's outputs (one call, about a second; the answer is
    kept: the config's checks and the next record both read it)."""

    def __init__(self) -> None:
        self._answer: tuple[Mapping[str, Any] | None] | None = None

    def deployed(self) -> Mapping[str, Any] | None:
        if self._answer is None:
            self._answer = (self._ask(),)
        return self._answer[0]

    def _ask(self) -> Mapping[str, Any] | None:
        cli = shutil.which("pulumi")
        if cli is None:
            raise StateUnavailable(
                "the Pulumi CLI is not on PATH (the program asks it for this stack's last "
                "outputs); put the directory of the `pulumi` you run on PATH"
            )
        # Fully qualified, so that a Pulumi Cloud user's default organization does not pick
        # another stack of the same name; the organization is unknown only outside an update.
        organization = pulumi.get_organization()
        name = (
            f"{organization}/{pulumi.get_project()}/{pulumi.get_stack()}"
            if organization
            else pulumi.get_stack()
        )
        try:
            done = subprocess.run(
                [cli, "stack", "output", "--json", "--non-interactive", "--stack", name],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise StateUnavailable(f"`pulumi stack output` did not answer ({error})") from None
        if done.returncode:
            raise StateUnavailable(
                f"`pulumi stack output --stack {name}` failed: {done.stderr.strip()[:300]}"
            )
        outputs = json.loads(done.stdout or "{}")
        value = outputs.get(OUTPUT)
        return value if isinstance(value, Mapping) else None
