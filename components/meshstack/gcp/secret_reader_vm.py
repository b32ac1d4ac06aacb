"""Runs on a Compute Engine VM (python3, standard library only): prints the newest version of
one Secret Manager secret, read as the VM's own service account.

No gcloud: the metadata server gives the project and an access token, Secret Manager's REST
API the payload. Usage: python3 secret_reader_vm.py SECRET_ID (exit 1 with the reason when
the secret has no version yet or the VM may not read it).
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable

METADATA = "http://metadata.google.internal/computeMetadata/v1"
SECRET_MANAGER = "https://secretmanager.googleapis.com/v1"

# (url, headers) -> the response body; raises urllib.error.URLError (HTTPError) on failure.
Get = Callable[[str, dict[str, str]], bytes]


def get(url: str, headers: dict[str, str]) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return r.read()


def latest(call: Get, secret_id: str) -> str:
    flavor = {"Metadata-Flavor": "Google"}
    project = call(f"{METADATA}/project/project-id", flavor).decode()
    token = json.loads(call(f"{METADATA}/instance/service-accounts/default/token", flavor))
    answer = json.loads(
        call(
            f"{SECRET_MANAGER}/projects/{project}/secrets/{secret_id}/versions/latest:access",
            {"Authorization": f"Bearer {token['access_token']}"},
        )
    )
    return base64.b64decode(answer["payload"]["data"]).decode()


def main() -> None:
    try:
        sys.stdout.write(latest(get, sys.argv[1]))
    except urllib.error.HTTPError as error:
        sys.exit(f"reading secret {sys.argv[1]}: HTTP {error.code} {error.reason}")
    except (urllib.error.URLError, KeyError, ValueError) as error:
        sys.exit(f"reading secret {sys.argv[1]}: {error}")


if __name__ == "__main__":
    main()
