"""A cluster of a mesh, whichever scenario and cloud: the one model both multi-cluster
scenarios extend (two-cluster-retention's ACK members, multi-cluster's ACK and GKE clusters)."""

from __future__ import annotations

from stacks.config.fields import Cidr, CloudZone, DnsLabel, Flag, Model


class ClusterInMesh(Model):
    name: DnsLabel
    """The cluster's name: Istio's cluster name, and the name of what is made for it."""
    zone: CloudZone
    """Its zone, checked against the cloud's own zone shape and region."""
    node_cidr: Cidr
    """Its nodes' range: its vSwitch on ACK (inside the VPC), its subnet on GKE."""
    pod_cidr: Cidr
    """Its pod range: disjoint from every other cluster's (and on ACK from the VPC)."""
    service_cidr: Cidr
    """Its Service range: disjoint from every other cluster's (and on ACK from the VPC)."""
    api_server_public: Flag = True
    """ACK: the API server on a public endpoint, which `pulumi up`, Istio objects and a primary
    in another cloud reach from outside the VPC; false needs `pulumi up` inside the VPC."""
    deletion_protection: Flag = True
    """The cloud refuses to delete the cluster until this is false."""
