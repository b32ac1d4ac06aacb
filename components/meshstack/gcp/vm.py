"""A Compute Engine VM with its own service account, no public address, shielded boot."""

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi

from meshstack.gcp.apis import CLOUD_PLATFORM_SCOPE
from meshstack.gcp.sdk import gcp
from meshstack.naming import fixed_name
from meshstack.options import register_schema_outputs, renamed

# Service account ids: 6-30 characters.
ACCOUNT_ID_MAX = 30
# The metadata server, as the VM sees it (Compute Engine "About VM metadata": custom
# instance metadata under instance/attributes/, header Metadata-Flavor: Google).
METADATA = "http://metadata.google.internal/computeMetadata/v1"


def metadata_attribute_command(key: str) -> str:
    """A shell command that prints one of the instance's metadata values on the VM, as the
    program last set it (curl fails on a missing key: HTTP 404)."""
    return f'curl -fsS -H "Metadata-Flavor: Google" {METADATA}/instance/attributes/{key}'


def account_id(instance_name: str) -> str:
    """The VM's service account id, derived from its name (within GCP's 6-30 characters)."""
    return f"{instance_name[: ACCOUNT_ID_MAX - 3].rstrip('-')}-sa".rjust(6, "x")


class GceVmArgs(TypedDict):
    instance_name: str
    """The instance's name."""
    zone: str
    """Its zone."""
    machine_type: str
    """Its machine type, e.g. e2-standard-2."""
    image: str
    """The boot disk's image, e.g. debian-cloud/debian-12."""
    disk_size_gb: int
    """The boot disk's size in GB."""
    subnetwork: pulumi.Input[str]
    """The subnet id (no public IP: egress through Cloud NAT)."""
    startup_script: pulumi.Input[str]
    """Runs as root on every boot (metadata startup-script: changing it needs no new VM)."""
    tags: Sequence[str]
    """Network tags, for firewall rules."""
    deletion_protection: NotRequired[bool]
    """GCE refuses to delete the instance while set (default false)."""
    labels: NotRequired[Mapping[str, str]]
    """Labels of the instance."""
    metadata: NotRequired[Mapping[str, pulumi.Input[str]]]
    """More instance metadata (key → value), which the VM reads from its metadata server
    while it runs; a change is applied to the running VM."""


class GceVm(pulumi.ComponentResource):
    """A Compute Engine VM with its own service account (no project role), shielded boot,
    OS Login only and no public IP. The Google provider comes through `opts`; `depends_on`
    there should hold the enabled Compute Engine and IAM APIs."""

    instance: gcp.compute.Instance
    """The instance."""
    service_account: gcp.serviceaccount.Account
    """Its service account: grant it what the VM may read."""
    internal_ip: pulumi.Output[str]
    """Its address in the subnet."""

    def __init__(
        self, name: str, args: GceVmArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("meshstack:index:GceVm", name, None, renamed(opts, "meshstack:gcp:Vm"))
        child = pulumi.ResourceOptions(parent=self)
        instance_name = args["instance_name"]
        # Its own identity with no project role: it may read only what is granted to it.
        self.service_account = gcp.serviceaccount.Account(
            f"{name}-sa",
            account_id=account_id(instance_name),
            display_name=f"VM {instance_name} (meshstack)",
            opts=fixed_name(child),
        )
        self.instance = gcp.compute.Instance(
            f"{name}-instance",
            name=instance_name,
            zone=args["zone"],
            machine_type=args["machine_type"],
            boot_disk=gcp.compute.InstanceBootDiskArgs(
                initialize_params=gcp.compute.InstanceBootDiskInitializeParamsArgs(
                    image=args["image"], size=args["disk_size_gb"], type="pd-balanced"
                )
            ),
            # No access config: no public IP. Egress goes through Cloud NAT.
            network_interfaces=[
                gcp.compute.InstanceNetworkInterfaceArgs(subnetwork=args["subnetwork"])
            ],
            metadata={
                **(args.get("metadata") or {}),
                "startup-script": args["startup_script"],
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
            tags=list(args["tags"]),
            labels=dict(args.get("labels") or {}),
            deletion_protection=args.get("deletion_protection", False),
            allow_stopping_for_update=True,
            opts=fixed_name(child),
        )
        self.internal_ip = self.instance.network_interfaces.apply(
            lambda interfaces: interfaces[0].network_ip or ""
        )
        register_schema_outputs(self)
