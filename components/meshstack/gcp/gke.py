"""A zonal GKE Standard cluster with its own node pool, and a Kubernetes provider for it.

Hardened as Google's hardening guide and CIS GKE ask: private nodes (no external IPs; they
reach the internet through the network's Cloud NAT), a dedicated node service account with
only GKE's node role (not the Compute Engine default account), Workload Identity for pods,
shielded nodes with secure boot, and Dataplane V2 when NetworkPolicies are to be enforced.
The control plane keeps its public endpoint (so `pulumi up` and kubectl reach it from
anywhere), optionally limited to authorised networks.

GKE has no kubeconfig output: `gke_kubeconfig` builds one from the endpoint and the cluster
CA, authenticating through `gke-gcloud-auth-plugin` (the user's gcloud login; no key in it).
"""

import hashlib
from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml

from meshstack import versions
from meshstack.gcp.apis import CLOUD_PLATFORM_SCOPE
from meshstack.gcp.firewall import FirewallRule
from meshstack.gcp.sdk import gcp
from meshstack.kube import kube_provider
from meshstack.naming import fixed_name
from meshstack.options import register_schema_outputs, renamed

AUTH_PLUGIN = "gke-gcloud-auth-plugin"
# A release channel upgrades a cluster past any minor, Istio's supported Kubernetes range
# (versions.ISTIO_SUPPORTS_KUBERNETES) included, unless told not to. A maintenance exclusion of
# scope NO_MINOR_UPGRADES ("excludes all minor upgrades for the cluster, only patches are
# allowed": GKE API MaintenanceExclusionOptions.Scope) until the minor's end of support
# (end_time_behavior UNTIL_END_OF_SUPPORT) holds the control plane's and the nodes' minor;
# cloud.google.com/kubernetes-engine/docs/concepts/maintenance-windows-and-exclusions. A minor
# upgrade is then the user's: a higher kubernetesVersion raises min_master_version, and the
# provider upgrades the control plane when that is above the running version
# (terraform-provider-google resource_container_cluster.go, Update). At the end of support
# GKE upgrades anyway. A maintenance policy takes exactly one window (ExactlyOneOf there):
# daily from 03:00 UTC (GKE's four hours).
MINOR_HOLD = "meshstack-hold-kubernetes-minor"
MINOR_HOLD_START = "2026-01-01T00:00:00Z"
MAINTENANCE_WINDOW_START = "03:00"
# Google's minimum for a node service account: logs, metrics, resource metadata
# (cloud.google.com/kubernetes-engine/docs/how-to/service-accounts).
NODE_ROLE = "roles/container.defaultNodeServiceAccount"
# Service account ids: 6-30 characters.
ACCOUNT_ID_MAX = 30


def node_account_id(cluster_name: str) -> str:
    """`<cluster>-nodes`, or a shortened cluster name with a digest of the whole one when that
    would pass 30 characters (two long cluster names never share an account)."""
    if len(cluster_name) <= ACCOUNT_ID_MAX - len("-nodes"):
        return f"{cluster_name}-nodes"
    digest = hashlib.sha256(cluster_name.encode()).hexdigest()[:4]
    return f"{cluster_name[:19].rstrip('-')}-{digest}-nodes"


def control_plane_to_nodes(
    name: str,
    cluster_name: str,
    *,
    node_cidr: str,
    node_account: pulumi.Input[str],
    tcp_ports: Sequence[int],
    purpose: str,
) -> FirewallRule:
    """Admits a cluster's control plane to its own nodes and their pods on `tcp_ports`.

    GKE's rule for private nodes admits the control plane on TCP 443 and 10250 only
    (cloud.google.com/kubernetes-engine/docs/concepts/firewall-rules, `gke-…-master`): an
    admission webhook served by a pod on any other port is unreachable until a rule admits it.
    The source: with no `master_ipv4_cidr_block` (Private Service Connect, as GkeCluster
    makes) the control plane's endpoint is in the nodes' subnet, the range Google's own
    module admits for webhooks (terraform-google-kubernetes-engine modules/private-cluster:
    main.tf `cluster_endpoint_for_nodes`, firewall.tf `master_webhooks`). The target: the
    cluster's node service account, so nodes of other clusters with the same tag are not."""
    return FirewallRule(
        name,
        f"The control plane of GKE {cluster_name} calls {purpose} on its nodes",
        target_service_accounts=[node_account],
        tcp_ports=list(tcp_ports),
        source_ranges=[node_cidr],
    )


def gke_kubeconfig(name: str, endpoint: str, cluster_ca_certificate: str) -> str:
    """A kubeconfig for a GKE API server (`cluster_ca_certificate` is base64 PEM, as GKE
    returns it)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": f"https://{endpoint}",
                        "certificate-authority-data": cluster_ca_certificate,
                    },
                }
            ],
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": AUTH_PLUGIN,
                            "installHint": "Install gke-gcloud-auth-plugin: gcloud components "
                            "install gke-gcloud-auth-plugin (or the OS package of that name)",
                            "provideClusterInfo": True,
                        }
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        },
        sort_keys=False,
    )


def minor_held() -> gcp.container.ClusterMaintenancePolicyArgs:
    """Automatic upgrades within the cluster's minor only (see MINOR_HOLD)."""
    return gcp.container.ClusterMaintenancePolicyArgs(
        daily_maintenance_window=gcp.container.ClusterMaintenancePolicyDailyMaintenanceWindowArgs(
            start_time=MAINTENANCE_WINDOW_START
        ),
        maintenance_exclusions=[
            gcp.container.ClusterMaintenancePolicyMaintenanceExclusionArgs(
                exclusion_name=MINOR_HOLD,
                start_time=MINOR_HOLD_START,
                exclusion_options=gcp.container.ClusterMaintenancePolicyMaintenanceExclusionExclusionOptionsArgs(
                    scope="NO_MINOR_UPGRADES", end_time_behavior="UNTIL_END_OF_SUPPORT"
                ),
            )
        ],
    )


class GkeNodePoolSpec(TypedDict):
    """The GKE cluster's node pool."""

    machine_type: str
    """The nodes' machine type, e.g. e2-standard-4."""
    node_count: int
    """How many nodes."""
    disk_size_gb: int
    """Each node's boot disk, in GB."""
    disk_type: str
    """The boot disk type, e.g. pd-balanced."""
    spot: NotRequired[bool]
    """Spot VMs (cheaper, may be preempted); default false."""


class GkeClusterArgs(TypedDict):
    cluster_name: str
    """The GKE cluster's name."""
    zone: str
    """The zone of the (zonal) cluster."""
    network: pulumi.Input[str]
    """The VPC's id."""
    subnetwork: pulumi.Input[str]
    """The nodes' subnet id; it holds the two secondary ranges below."""
    pod_range_name: str
    """The subnet's secondary range for pods."""
    service_range_name: str
    """The subnet's secondary range for Services."""
    release_channel: str
    """GKE release channel: RAPID, REGULAR or STABLE."""
    node_pool: GkeNodePoolSpec
    """The cluster's node pool."""
    node_tags: Sequence[str]
    """Network tags of the nodes, for firewall rules."""
    kubernetes_version: NotRequired[str | None]
    """The control plane's Kubernetes minor (1.35) or exact version; GKE moves only its
    patches, raising it is the upgrade (default: meshstack.versions.GKE_KUBERNETES)."""
    deletion_protection: NotRequired[bool]
    """GKE refuses to delete the cluster while set (default true)."""
    authorized_networks: NotRequired[Sequence[str] | None]
    """Ranges that reach the public endpoint (and the nodes); none: any address (still
    authenticated)."""
    labels: NotRequired[Mapping[str, str]]
    """Labels of the cluster and its nodes."""
    network_policies: NotRequired[bool]
    """Enforce NetworkPolicies: GKE Dataplane V2 (default false: GKE's legacy datapath, which
    ignores them). Chosen at creation: turning it on replaces an existing cluster."""


class GkeCluster(pulumi.ComponentResource):
    """A zonal GKE Standard cluster, hardened (private nodes, a node service account with only
    GKE's node role, Workload Identity, shielded nodes), its node pool and a Kubernetes provider
    that authenticates with gke-gcloud-auth-plugin. The Google provider comes through `opts`;
    `depends_on` there should hold the enabled Kubernetes Engine API."""

    cluster: gcp.container.Cluster
    """The cluster."""
    node_pool: gcp.container.NodePool
    """Its node pool: what workloads that run pods wait for."""
    node_account: gcp.serviceaccount.Account
    """The nodes' service account."""
    workload_pool: pulumi.Output[str]
    """Workload Identity's pool, `<project>.svc.id.goog`."""
    server: pulumi.Output[str]
    """The API server, https://<public endpoint>."""
    certificate_authority: pulumi.Output[str]
    """The API server's CA (base64 PEM)."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig for the cluster (no key in it: gcloud's login); secret."""
    provider: k8s.Provider
    """A Kubernetes provider for the cluster; it does not wait for the nodes."""

    def __init__(
        self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            "meshstack:index:GkeCluster", name, None, renamed(opts, "meshstack:gcp:GkeCluster")
        )
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.get("labels") or {})
        authorized_networks = args.get("authorized_networks")
        cluster_name = args["cluster_name"]
        # The provider's project (configured, or GOOGLE_PROJECT, or gcloud's), for the pool.
        project = gcp.organizations.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).project
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            location=args["zone"],
            network=args["network"],
            subnetwork=args["subnetwork"],
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=args["pod_range_name"],
                services_secondary_range_name=args["service_range_name"],
            ),
            # The node pool below is managed on its own (resizable, replaceable).
            remove_default_node_pool=True,
            initial_node_count=1,
            release_channel=gcp.container.ClusterReleaseChannelArgs(
                channel=args["release_channel"]
            ),
            min_master_version=args.get("kubernetes_version") or versions.GKE_KUBERNETES,
            maintenance_policy=minor_held(),
            # Pods act as Google service accounts bound to theirs, not as the node's.
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=project.apply(lambda p: f"{p}.svc.id.goog")
            ),
            # Nodes get no external IP (the default for every pool); no control-plane range:
            # a current cluster isolates its nodes with Private Service Connect.
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True
            ),
            master_authorized_networks_config=None
            if authorized_networks is None
            else gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=cidr, display_name="meshstack cluster.authorizedNetworks"
                    )
                    for cidr in authorized_networks
                ],
                # Not "any Google Cloud address": only the ranges listed.
                gcp_public_cidrs_access_enabled=False,
            ),
            enable_shielded_nodes=True,
            # Dataplane V2 enforces NetworkPolicy (the default LEGACY_DATAPATH does not);
            # `datapath_provider` is ForceNew in terraform-provider-google
            # (resource_container_cluster.go), so a change replaces the cluster.
            datapath_provider="ADVANCED_DATAPATH" if args.get("network_policies") else None,
            deletion_protection=args.get("deletion_protection", True),
            resource_labels=labels,
            opts=fixed_name(child),
        )
        self.node_account = gcp.serviceaccount.Account(
            f"{name}-node-sa",
            account_id=node_account_id(cluster_name),
            display_name=f"Nodes of GKE {cluster_name} (meshstack)",
            opts=fixed_name(child),
        )
        node_role = gcp.projects.IAMMember(
            f"{name}-node-role",
            project=project,
            role=NODE_ROLE,
            member=self.node_account.email.apply(lambda email: f"serviceAccount:{email}"),
            opts=child,
        )
        pool = args["node_pool"]
        self.node_pool = gcp.container.NodePool(
            f"{name}-nodes",
            # Node pool names are per cluster (40 characters at most).
            name="mesh-nodes",
            cluster=self.cluster.id,
            location=args["zone"],
            node_count=pool["node_count"],
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=pool["machine_type"],
                disk_size_gb=pool["disk_size_gb"],
                disk_type=pool["disk_type"],
                spot=pool.get("spot", False),
                # Its own identity; the scope is the recommended one with such an account
                # (IAM roles, not scopes, limit what it may do).
                service_account=self.node_account.email,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                tags=list(args["node_tags"]),
                resource_labels=labels,
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                # The GKE metadata server: pods see their Workload Identity, not the node's.
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
            ),
            # Nodes log and report metrics from their first minute.
            opts=fixed_name(
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[node_role]))
            ),
        )
        self.workload_pool = self.cluster.workload_identity_config.apply(
            lambda config: (config.workload_pool if config else None) or ""
        )
        self.server = self.cluster.endpoint.apply(lambda endpoint: f"https://{endpoint}")
        self.certificate_authority = self.cluster.master_auth.cluster_ca_certificate.apply(
            lambda ca: ca or ""
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.endpoint, self.cluster.master_auth.cluster_ca_certificate
            ).apply(lambda parts: gke_kubeconfig(cluster_name, parts[0], parts[1] or ""))
        )
        # Objects that run no pods need no nodes: what runs pods waits for `node_pool`.
        self.provider = kube_provider(
            f"{name}-kubernetes", self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )
        register_schema_outputs(self)
