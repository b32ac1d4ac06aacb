"""Google Cloud settings: project, network, GKE, the VM."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.config.fields import (
    PROJECT,
    Cidr,
    DnsLabel,
    GceImage,
    GceName,
    GcpProject,
    GcpRegion,
    GcpZone,
    GkeClusterName,
    GkeVersion,
    MachineType,
    Model,
    NetworkName,
    VmNamespace,
)

# The zones of Google Cloud's regions (cloud.google.com/compute/docs/regions-zones, 2026):
# a zone a known region lacks is refused; a region not listed here is taken on trust.
GCP_ZONES: dict[str, str] = {
    "us-central1": "abcf",
    "us-east1": "bcd",
    **dict.fromkeys(
        [
            "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3",
            "us-west4", "northamerica-northeast1", "northamerica-northeast2",
            "northamerica-south1", "southamerica-east1", "southamerica-west1",
            "europe-central2", "europe-north1", "europe-north2", "europe-southwest1",
            "europe-west2", "europe-west3", "europe-west4", "europe-west6", "europe-west8",
            "europe-west9", "europe-west10", "europe-west12", "asia-east1", "asia-east2",
            "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1",
            "asia-south2", "asia-southeast1", "asia-southeast2", "australia-southeast1",
            "australia-southeast2", "me-central1", "me-central2", "me-west1",
            "africa-south1",
        ],
        "abc",
    ),
    "europe-west1": "bcd",
}  # fmt: skip


def gcp_zone_problems(region: str, zone: str, key: str) -> list[str]:
    """The zone lies in the region, and the region has it (where the region is known)."""
    if not zone.startswith(f"{region}-"):
        return [f"{PROJECT}:{key} {zone!r} is not in {PROJECT}:gcp.region {region!r}"]
    letters = GCP_ZONES.get(region)
    if letters is not None and zone.removeprefix(f"{region}-") not in letters:
        zones = ", ".join(f"{region}-{letter}" for letter in letters)
        return [f"{PROJECT}:{key} {zone!r} is not a zone of {region}; its zones: {zones}"]
    return []


class GcpConfig(Model):
    # None: the provider's own default (GOOGLE_PROJECT, or gcloud's configured project).
    project: GcpProject | None = None
    region: GcpRegion = "us-west1"
    # Seed 001 uses us-west1-b for the cluster and the VM.
    zone: GcpZone = "us-west1-b"


class GcpNetworkConfig(Model):
    # The subnet's primary range: GKE nodes, the VM and the east-west gateway's internal address.
    subnet_cidr: Cidr = "10.10.0.0/20"
    # VPC-native (alias IP) secondary ranges of the cluster's pods and Services.
    pod_cidr: Cidr = "10.20.0.0/14"
    service_cidr: Cidr = "10.24.0.0/20"


class GkeNodePoolConfig(Model):
    # 4 vCPU / 16 GiB: istiod, two gateways and the sample apps with room to spare.
    machine_type: MachineType = "e2-standard-4"
    node_count: int = Field(default=2, ge=1, le=100)
    disk_size_gb: int = Field(default=50, ge=10, le=2048)
    disk_type: Literal["pd-balanced", "pd-standard", "pd-ssd"] = "pd-balanced"
    spot: bool = False


class GkeClusterConfig(Model):
    """A zonal GKE Standard cluster with its own node pool (no default pool)."""

    name: GkeClusterName = "istio-vm-lab"
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    # None: the channel's default. Otherwise a minimum the channel upgrades from.
    kubernetes_version: GkeVersion | None = None
    deletion_protection: bool = True
    node_pool: GkeNodePoolConfig = GkeNodePoolConfig()
    # Who may reach the control plane's public endpoint (besides the nodes); None: any
    # address (every request is still authenticated).
    authorized_networks: list[Cidr] | None = None


class GceVmConfig(Model):
    """The Compute Engine VM and the mesh identity of its workload (seed 001's values)."""

    name: GceName = "hello-vm-1"
    machine_type: MachineType = "e2-medium"
    # Seed: Debian 10 (buster), retired. The istio-sidecar package installs on current Debian.
    image: GceImage = "debian-cloud/debian-13"
    disk_size_gb: int = Field(default=20, ge=10, le=2048)
    # Who may reach port 22; nobody by default. Google's IAP TCP forwarding uses 35.235.240.0/20.
    ssh_source_ranges: list[Cidr] = Field(default_factory=list)
    deletion_protection: bool = False
    # The stack creates it: not "default", nor one Kubernetes or Istio owns.
    namespace: VmNamespace = "vm-namespace"
    service_account: DnsLabel = "vm-sa"
    # The WorkloadGroup, Service, WorkloadEntry and ServiceEntry name, and the `app` label.
    app: DnsLabel = "hello-vm"
    instance_id: DnsLabel = "vm1"
    # The port the VM's HTTP server listens on (seed: python3 -m http.server 80).
    port: int = Field(default=80, ge=1, le=65535)
    # The VM's Istio network; empty when it shares the cluster's (seed).
    network: NetworkName = ""
    # How long each bootstrap token (audience istio-ca) is valid; renewed four times per
    # lifetime by a CronJob, re-read by the VM every 15 minutes. At least 8 hours, so that a
    # renewal is never more than half a token's life away.
    token_lifetime_hours: int = Field(default=24, ge=8, le=168)
