"""A Compute Engine VM with its own service account, no public address, shielded boot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.gcp.apis import CLOUD_PLATFORM_SCOPE
from components.naming import fixed_name

# Service account ids: 6-30 characters.
ACCOUNT_ID_MAX = 30


def account_id(instance_name: str) -> str:
    """The VM's service account id, derived from its name (within GCP's 6-30 characters)."""
    return f"{instance_name[: ACCOUNT_ID_MAX - 3].rstrip('-')}-sa".rjust(6, "x")


@dataclass(frozen=True)
class GceVmArgs:
    provider: gcp.Provider
    instance_name: str
    zone: str
    machine_type: str
    image: str
    disk_size_gb: int
    subnetwork: pulumi.Input[str]
    # Runs as root on every boot (metadata `startup-script`: changing it needs no new VM).
    startup_script: pulumi.Input[str]
    tags: Sequence[str]
    deletion_protection: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    # The Compute Engine and IAM APIs, enabled.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class GceVm(pulumi.ComponentResource):
    instance: gcp.compute.Instance
    service_account: gcp.serviceaccount.Account
    internal_ip: pulumi.Output[str]

    def __init__(
        self, name: str, args: GceVmArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:gcp:Vm", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        after_apis = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=list(args.depends_on))
        )
        # Its own identity with no project role: it may read only what is granted to it.
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-sa",
            account_id=account_id(args.instance_name),
            display_name=f"VM {args.instance_name} (meshstack)",
            opts=fixed_name(after_apis),
        )
        self.instance = gcp.compute.Instance(
            f"{name}-instance",
            name=args.instance_name,
            zone=args.zone,
            machine_type=args.machine_type,
            boot_disk=gcp.compute.InstanceBootDiskArgs(
                initialize_params=gcp.compute.InstanceBootDiskInitializeParamsArgs(
                    image=args.image, size=args.disk_size_gb, type="pd-balanced"
                )
            ),
            # No access config: no public IP. Egress goes through Cloud NAT.
            network_interfaces=[
                gcp.compute.InstanceNetworkInterfaceArgs(subnetwork=args.subnetwork)
            ],
            metadata={
                "startup-script": args.startup_script,
                # SSH (when a firewall rule allows it) through IAM-checked OS Login only.
                "enable-oslogin": "TRUE",
                "block-project-ssh-keys": "TRUE",
            },
            service_account=gcp.compute.InstanceServiceAccountArgs(
                email=self.service_account.email, scopes=[CLOUD_PLATFORM_SCOPE]
            ),
            shielded_instance_config=gcp.compute.InstanceShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True
            ),
            tags=list(args.tags),
            labels=dict(args.labels),
            deletion_protection=args.deletion_protection,
            allow_stopping_for_update=True,
            opts=fixed_name(after_apis),
        )
        self.internal_ip = self.instance.network_interfaces.apply(
            lambda interfaces: interfaces[0].network_ip or ""
        )
        self.register_outputs(
            {
                "name": self.instance.name,
                "internalIp": self.internal_ip,
                "serviceAccount": self.service_account.email,
            }
        )
