"""The Google Cloud APIs a stack calls, enabled in the project before anything uses them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from meshstack.gcp.sdk import gcp

# The OAuth scope nodes and VMs get: IAM roles, not scopes, decide what they may call.
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@dataclass(frozen=True)
class ProjectApisArgs:
    provider: gcp.Provider
    services: Sequence[str]


class ProjectApis(pulumi.ComponentResource):
    """Enables each API and leaves it enabled on destroy: other workloads of the project may
    rely on it, and disabling an API is not undone by re-enabling it (its resources go)."""

    services: dict[str, gcp.projects.Service]

    def __init__(
        self, name: str, args: ProjectApisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:gcp:ProjectApis", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.services = {
            service: gcp.projects.Service(
                f"{name}-{service.split('.')[0]}",
                service=service,
                disable_on_destroy=False,
                opts=child,
            )
            for service in args.services
        }
        self.register_outputs({"services": sorted(self.services)})
