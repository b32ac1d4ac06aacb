"""Google Cloud settings: project, network, GKE, the VM."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from meshstack import versions
from stacks.config.fields import (
    PROJECT,
    Cidr,
    DnsLabel,
    Flag,
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
    project: GcpProject | None = None
    """Unset: the provider's own default (GOOGLE_PROJECT, or gcloud's configured project)."""
    region: GcpRegion = "us-west1"
    """The Google Cloud region."""
    zone: GcpZone = "us-west1-b"
    """The zone of the cluster and the VM (the walkthrough's us-west1-b)."""


class GcpNetworkConfig(Model):
    subnet_cidr: Cidr = "10.10.0.0/20"
    """The subnet's primary range: GKE nodes, the VM and the east-west gateway's internal
    address."""
    pod_cidr: Cidr = "10.20.0.0/14"
    """VPC-native (alias IP) secondary ranges of the cluster's pods and Services."""
    service_cidr: Cidr = "10.24.0.0/20"
    """The cluster's Service range (a secondary range of the subnet)."""


class GkeNodePoolConfig(Model):
    machine_type: MachineType = "e2-standard-4"
    """4 vCPU / 16 GiB: istiod, two gateways and the sample apps with room to spare."""
    node_count: int = Field(default=2, ge=1, le=100)
    """How many nodes."""
    disk_size_gb: int = Field(default=50, ge=10, le=2048)
    """Each node's boot disk size."""
    disk_type: Literal["pd-balanced", "pd-standard", "pd-ssd"] = "pd-balanced"
    """Each node's boot disk type."""
    spot: Flag = False
    """Spot VMs: cheaper, and Google may take them back at any time."""


class GkeClusterConfig(Model):
    """A zonal GKE Standard cluster with its own node pool (no default pool)."""

    name: GkeClusterName = "istio-vm-lab"
    """The GKE cluster's name."""
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    """GKE's release channel: how fast the cluster is upgraded."""
    kubernetes_version: GkeVersion = versions.GKE_KUBERNETES
    """The control plane's Kubernetes minor (or an exact GKE version), within the Istio release's
    range: GKE applies patches only (a maintenance exclusion holds the minor until its end of
    support); raising it is the upgrade. Nodes follow the control plane's minor when you upgrade
    them (gcloud container clusters upgrade --node-pool) or at the minor's end of support."""
    deletion_protection: Flag = True
    """GKE refuses to delete the cluster until this is false."""
    node_pool: GkeNodePoolConfig = GkeNodePoolConfig()
    """The cluster's nodes (private: no public address; a dedicated service account)."""
    authorized_networks: list[Cidr] | None = None
    """Who may reach the control plane's public endpoint (besides the nodes); unset: any address
    (every request is still authenticated)."""


class GceVmConfig(Model):
    """The Compute Engine VM and the mesh identity of its workload (seed 001's values)."""

    name: GceName = "hello-vm-1"
    """The VM's name."""
    machine_type: MachineType = "e2-medium"
    """The VM's machine type."""
    image: GceImage = "debian-cloud/debian-13"
    """The VM's image (the walkthrough's Debian 10 is retired; the istio-sidecar package
    installs on current Debian)."""
    disk_size_gb: int = Field(default=20, ge=10, le=2048)
    """The VM's boot disk size."""
    ssh_source_ranges: list[Cidr] = Field(default_factory=list)
    """Who may reach port 22; nobody by default. Google's IAP TCP forwarding uses
    35.235.240.0/20."""
    deletion_protection: Flag = False
    """Compute Engine refuses to delete the VM until this is false."""
    namespace: VmNamespace = "vm-namespace"
    """The stack creates it: not "default", nor one Kubernetes or Istio owns."""
    service_account: DnsLabel = "vm-sa"
    """The Kubernetes service account the VM's workload runs as (its mesh identity)."""
    app: DnsLabel = "hello-vm"
    """The WorkloadGroup, Service, WorkloadEntry and ServiceEntry name, and the `app` label."""
    instance_id: DnsLabel = "vm1"
    """The WorkloadEntry's instance-id label."""
    port: int = Field(default=80, ge=1, le=65535)
    """The port the VM's HTTP server listens on (python3 -m http.server, as in the walkthrough)."""
    network: NetworkName = ""
    """The VM's Istio network; empty when it shares the cluster's (the walkthrough's case)."""
    token_lifetime_hours: int = Field(default=24, ge=8, le=168)
    """How long each bootstrap token (audience istio-ca) is valid; renewed four times per
    lifetime by a CronJob, re-read by the VM every 15 minutes. At least 8 hours, so that a
    renewal is never more than half a token's life away."""
