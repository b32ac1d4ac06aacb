"""Wrong stack configs a user writes, with the fragments the refusal must show: one per
class of mistake (tests/test_config.py runs them through the loader and the program)."""

from __future__ import annotations

import json
from typing import Any


def raw(scenario: str | None = "local", **keys: Any) -> dict[str, str]:
    values: dict[str, str] = {} if scenario is None else {"meshstack:scenario": scenario}
    for key, value in keys.items():
        values[f"meshstack:{key}"] = json.dumps(value) if isinstance(value, dict | list) else value
    return values


SC = "single-cluster"
TC = "two-cluster-retention"
VM = "vm"


def cluster(
    name: str,
    index: int,
    *,
    gateway: bool = False,
    pod: str | None = None,
    service: str | None = None,
    vswitch: str | None = None,
    version: str = "1.36",
) -> dict[str, Any]:
    """A member cluster whose ranges do not overlap those of another index."""
    return {
        "name": name,
        "zone": "us-west-1a",
        "nodeCidr": vswitch or f"192.168.{16 * index}.0/20",
        "podCidr": pod or f"10.{10 + index}.0.0/16",
        "serviceCidr": service or f"172.16.{16 * index}.0/20",
        "kubernetesVersion": version,
        "ingressGateway": gateway,
    }


MC = "multi-cluster"


def mesh_cluster(name: str, index: int, cloud: str = "gke", **settings: Any) -> dict[str, Any]:
    """A cluster of a multi-cluster mesh whose ranges do not overlap those of another index."""
    return {
        "name": name,
        "cloud": cloud,
        "zone": "us-west1-b" if cloud == "gke" else "us-west-1a",
        "nodeCidr": f"10.128.{16 * index}.0/20" if cloud == "gke" else f"192.168.{16 * index}.0/20",
        "podCidr": f"10.{20 + 4 * index}.0.0/14",
        "serviceCidr": f"172.16.{16 * index}.0/20",
        **settings,
    }


# (config, fragments the message must contain: the key, the value given, what is allowed)
SCENARIO_MISTAKES: list[tuple[str, dict[str, str], list[str]]] = [
    ("missing scenario", raw(None), ["meshstack:scenario is required", "local, single-cluster"]),
    ("unknown scenario", raw("locl"), ["meshstack:scenario = 'locl'", "allowed: local"]),
    ("unknown top-level key", raw(foo="1"), ["meshstack:foo is not a known setting", "istio"]),
    (
        "typo in a nested key",
        raw(istio={"versoin": "1.31.0"}),
        ["meshstack:istio.versoin", "did you mean 'version'?", "allowed: ambient, chartRepository"],
    ),
    (
        "version range",
        raw(istio={"version": "1.31"}),
        ["meshstack:istio.version = '1.31'", "1.31.0"],
    ),
    ("version latest", raw(istio={"version": "latest"}), ["'latest'", "exact release"]),
    (
        "verification too short",
        raw(verify={"samples": 2, "deadlineSeconds": 10}),
        ["meshstack:verify.samples = 2", "meshstack:verify.deadlineSeconds = 10", "60"],
    ),
    (
        "mtls enum typo",
        raw(istio={"mtls": "STRCT"}),
        ["meshstack:istio.mtls = 'STRCT'", "'STRICT'"],
    ),
    (
        "profile enum",
        raw(istio={"profile": "prod"}),
        ["meshstack:istio.profile = 'prod'", "'demo'"],
    ),
    # Istio's Helm charts have no minimal profile (istiod files/profile-*.yaml).
    (
        "profile minimal",
        raw(istio={"profile": "minimal"}),
        ["meshstack:istio.profile = 'minimal'", "'default'", "'demo'"],
    ),
    (
        "log project on ACS",
        raw(SC, cluster={"offering": "acs", "logProject": True}),
        ["meshstack:cluster.logProject applies to offering ask only"],
    ),
    (
        "istio minor not tested",
        raw(istio={"version": "1.29.4"}),
        ["meshstack:istio.version = '1.29.4'", "Istio 1.29 is not one", "1.30.x, 1.31.x"],
    ),
    (
        "tag on an undeclared revision",
        raw(istio={"revisions": [{"name": "a", "version": "1.31.0"}], "tags": {"default": "b"}}),
        ["meshstack:istio.tags.default 'b' names no revision of istio.revisions (a)"],
    ),
    (
        "wrong type",
        raw(istio={"cni": "maybe"}),
        ["meshstack:istio.cni = 'maybe'", "expected true or false"],
    ),
    # Booleans are YAML/JSON true or false only: pydantic's lax bool took each of these.
    (
        "boolean written yes",
        raw(istio={"cni": "yes"}),
        ["meshstack:istio.cni = 'yes'", "expected true or false"],
    ),
    (
        "boolean written off",
        raw(SC, cluster={"apiServerPublic": "off"}),
        ["meshstack:cluster.apiServerPublic = 'off'", "expected true or false"],
    ),
    (
        "boolean written 0",
        raw(istio={"egressGateway": 0}),
        ["meshstack:istio.egressGateway = 0", "expected true or false"],
    ),
    (
        "boolean written 1",
        raw(TC, asm={"accessLog": 1}),
        ["meshstack:asm.accessLog = 1", "expected true or false"],
    ),
    (
        "boolean in quotes",
        raw(VM, vm={"deletionProtection": "true"}),
        ["meshstack:vm.deletionProtection = 'true'", "expected true or false"],
    ),
    ("object expected", raw(istio=[1]), ["meshstack:istio = [1]", "expected an object"]),
    (
        "bad JSON",
        {"meshstack:scenario": "local", "meshstack:istio": "{"},
        ["meshstack:istio", "JSON"],
    ),
    (
        "plain http chart repo",
        raw(istio={"chartRepository": "http://x"}),
        ["chartRepository", "https://"],
    ),
    (
        "relative local chart directory",
        raw(istio={"chartRepository": "file://charts"}),
        ["meshstack:istio.chartRepository = 'file://charts'", "absolute path"],
    ),
    (
        "gateway API CRDs neither URL nor file",
        raw(istio={"gatewayApiCrds": "/nonexistent/crds.yaml"}),
        ["meshstack:istio.gatewayApiCrds = '/nonexistent/crds.yaml'", "https:// URL"],
    ),
    (
        "local chart directory without the charts",
        raw(istio={"chartRepository": "file:///"}, addons={"kiali": {"repository": "file:///"}}),
        [
            "meshstack:istio.chartRepository 'file:///' has no chart 'istiod'",
            "meshstack:addons.kiali.repository 'file:///' has no chart 'kiali-server'",
            "make charts",
        ],
    ),
    (
        "bad namespace",
        raw(bookinfo={"namespace": "Book_Info"}),
        ["bookinfo.namespace = 'Book_Info'", "DNS label"],
    ),
    (
        "bad revision",
        raw(istio={"revision": "-1"}),
        ["istio.revision = '-1'", "at most 56", "istiod-<revision>"],
    ),
    (
        "routing to an undeployed version",
        raw(bookinfo={"reviewsVersions": ["v1"], "routing": "reviews-v3"}),
        ["meshstack:bookinfo", "'reviews-v3'", "['v3']"],
    ),
    (
        "unknown reviews version",
        raw(bookinfo={"reviewsVersions": ["v4"]}),
        ["reviewsVersions[0] = 'v4'", "'v1'"],
    ),
    (
        "duplicate reviews version",
        raw(bookinfo={"reviewsVersions": ["v1", "v1"], "routing": "all-v1"}),
        ["twice"],
    ),
    ("no reviews at all", raw(bookinfo={"reviewsVersions": []}), ["reviewsVersions", "at least 1"]),
    (
        "unknown routing",
        raw(bookinfo={"routing": "canary"}),
        ["bookinfo.routing = 'canary'", "'jason-v2'"],
    ),
    (
        "default-deny without mTLS",
        raw(istio={"mtls": "DISABLE"}, bookinfo={"authorization": "default-deny"}),
        ["meshstack:bookinfo.authorization is default-deny", "istio.mtls is DISABLE"],
    ),
    (
        "unknown authorization",
        raw(bookinfo={"authorization": "deny-all"}),
        ["bookinfo.authorization = 'deny-all'", "'default-deny'", "'none'"],
    ),
    (
        "CNI on ASK",
        raw(SC, istio={"cni": True}),
        ["meshstack:istio.cni", "serverless", "DaemonSet"],
    ),
    (
        "CNI on a serverless context",
        raw(kubernetes={"serverless": True}, istio={"cni": True}),
        ["DaemonSet"],
    ),
    (
        "host bits in a CIDR",
        raw(SC, network={"vpcCidr": "10.0.0.1/8"}),
        ["network.vpcCidr = '10.0.0.1/8'", "host bits"],
    ),
    ("IPv6 CIDR", raw(SC, network={"vpcCidr": "fd00::/8"}), ["vpcCidr", "IPv4"]),
    (
        "vSwitch outside the VPC",
        raw(SC, network={"vswitches": [{"zone": "us-west-1a", "cidr": "10.1.0.0/24"}]}),
        ["meshstack:network.vswitches[0].cidr 10.1.0.0/24", "not inside", "192.168.0.0/16"],
    ),
    (
        "service CIDR overlaps a vSwitch",
        raw(SC, cluster={"serviceCidr": "192.168.16.0/20"}),
        [
            "meshstack:network.vswitches[0].cidr 192.168.0.0/19",
            "overlaps",
            "meshstack:cluster.serviceCidr 192.168.16.0/20",
        ],
    ),
    (
        "zone outside the region",
        raw(SC, network={"vswitches": [{"zone": "cn-hangzhou-h", "cidr": "192.168.0.0/24"}]}),
        ["meshstack:network.vswitches[0].zone 'cn-hangzhou-h'", "region 'us-west-1'"],
    ),
    (
        "ACK version shape",
        raw(SC, cluster={"kubernetesVersion": "1.36.1"}),
        ["kubernetesVersion = '1.36.1'", "such as 1.36", "1.36.1-aliyun.1"],
    ),
    (
        "Kubernetes too new for the Istio release",
        raw(SC, cluster={"kubernetesVersion": "1.38"}),
        ["cluster.kubernetesVersion '1.38'", "Istio 1.31", "1.32 to 1.36"],
    ),
    (
        "Kubernetes too old, exact form",
        raw(SC, cluster={"kubernetesVersion": "1.30.7-aliyun.1"}),
        ["'1.30.7-aliyun.1' is outside", "1.32 to 1.36"],
    ),
    (
        "Kiali without Prometheus",
        raw(addons={"prometheus": {"enabled": False}, "grafana": {"enabled": False}}),
        ["addons.prometheus.enabled is false", "addons.kiali.enabled is true"],
    ),
    (
        "Kiali and Grafana without Prometheus",
        raw(addons={"prometheus": {"enabled": False}}),
        ["- meshstack:addons.prometheus.enabled is false", "grafana.enabled are true"],
    ),
    (
        "typo in an addon key",
        raw(addons={"kiali": {"enabld": False}}),
        ["meshstack:addons.kiali.enabld", "allowed: chartVersion, enabled, repository"],
    ),
    (
        "sampling above 100 percent",
        raw(addons={"jaeger": {"samplingPercentage": 150}}),
        ["addons.jaeger.samplingPercentage = 150", "expected at most 100"],
    ),
    (
        "unpinned addon chart",
        raw(addons={"grafana": {"chartVersion": "latest"}}),
        ["addons.grafana.chartVersion = 'latest'", "an exact release"],
    ),
    (
        "key of another scenario",
        raw(cluster={"name": "x"}),
        ["meshstack:cluster is not a known setting"],
    ),
    (
        "duplicate cluster names",
        raw(TC, clusters=[cluster("m1c1", 0, gateway=True), cluster("m1c1", 1)]),
        ["meshstack:clusters repeats the name(s) ['m1c1']", "must be unique"],
    ),
    (
        "overlapping pod ranges",
        raw(
            TC,
            clusters=[cluster("m1c1", 0, gateway=True), cluster("m1c2", 1, pod="10.10.128.0/17")],
        ),
        [
            "meshstack:clusters[0].podCidr 10.10.0.0/16 overlaps "
            "meshstack:clusters[1].podCidr 10.10.128.0/17"
        ],
    ),
    (
        "service range inside the VPC",
        raw(
            TC,
            clusters=[
                cluster("m1c1", 0, gateway=True, service="192.168.200.0/24"),
                cluster("m1c2", 1),
            ],
        ),
        [
            "meshstack:network.vpcCidr 192.168.0.0/16 overlaps "
            "meshstack:clusters[0].serviceCidr 192.168.200.0/24"
        ],
    ),
    (
        "overlapping vSwitches",
        raw(
            TC,
            clusters=[
                cluster("m1c1", 0, gateway=True),
                cluster("m1c2", 1, vswitch="192.168.8.0/21"),
            ],
        ),
        [
            "meshstack:clusters[0].nodeCidr 192.168.0.0/20 overlaps "
            "meshstack:clusters[1].nodeCidr 192.168.8.0/21"
        ],
    ),
    (
        "vSwitch outside the VPC",
        raw(
            TC,
            clusters=[
                cluster("m1c1", 0, gateway=True, vswitch="10.200.0.0/20"),
                cluster("m1c2", 1),
            ],
        ),
        ["meshstack:clusters[0].nodeCidr 10.200.0.0/20 is not inside meshstack:network.vpcCidr"],
    ),
    (
        "cluster zone outside the region",
        raw(
            TC,
            clusters=[
                {**cluster("m1c1", 0, gateway=True), "zone": "cn-hangzhou-h"},
                cluster("m1c2", 1),
            ],
        ),
        [
            "meshstack:clusters[0].zone 'cn-hangzhou-h' is not in "
            "meshstack:network.region 'us-west-1'"
        ],
    ),
    (
        "two ingress gateways",
        raw(TC, clusters=[cluster("m1c1", 0, gateway=True), cluster("m1c2", 1, gateway=True)]),
        ["exactly one cluster sets ingressGateway: true", "['m1c1', 'm1c2']"],
    ),
    (
        "one cluster only",
        raw(TC, clusters=[cluster("m1c1", 0, gateway=True)]),
        ["meshstack:clusters", "expected at least 2 item(s)"],
    ),
    (
        "ASM too old for retention",
        raw(TC, asm={"version": "v1.15.3.100-g1a2b3c4d-aliyun"}),
        ["meshstack:asm.version 'v1.15.3.100-g1a2b3c4d-aliyun' predates cluster-local retention"],
    ),
    (
        "retaining the entry service",
        raw(TC, retention={"services": ["productpage"]}),
        ["meshstack:retention.services[0] = 'productpage'", "'reviews'"],
    ),
    (
        "ASM mTLS mode in lower case",
        raw(TC, asm={"mtls": "strict"}),
        ["meshstack:asm.mtls = 'strict'", "'STRICT', 'PERMISSIVE' or 'DISABLE'"],
    ),
    (
        "control plane typo",
        raw(TC, controlPlane="istiod"),
        ["meshstack:controlPlane = 'istiod'", "'asm'"],
    ),
    (
        "unsupported Kubernetes for self-managed Istio",
        raw(
            TC,
            controlPlane="istio",
            clusters=[cluster("m1c1", 0, gateway=True, version="1.31"), cluster("m1c2", 1)],
        ),
        ["meshstack:clusters[0].kubernetesVersion '1.31' is outside what Istio 1.31 supports"],
    ),
    (
        "remote cluster without a primary",
        raw(MC, clusters=[mesh_cluster("a", 0), mesh_cluster("b", 1, role="remote", primary="x")]),
        ["meshstack:clusters: remote cluster 'b' names primary 'x'", "primaries: ['a']"],
    ),
    (
        "mesh without any primary",
        raw(
            MC,
            clusters=[
                mesh_cluster("a", 0, role="remote", primary="b"),
                mesh_cluster("b", 1, role="remote", primary="a"),
            ],
        ),
        ["meshstack:clusters: a mesh needs at least one primary"],
    ),
    (
        "two mesh clusters with one name",
        raw(MC, clusters=[mesh_cluster("a", 0), mesh_cluster("a", 1)]),
        ["meshstack:clusters: cluster names must be unique; repeated: ['a']"],
    ),
    (
        "multi-network mesh without a gateway",
        raw(
            MC,
            clusters=[
                mesh_cluster("a", 0),
                mesh_cluster("b", 1, network="net2", eastWestGateway=False),
            ],
        ),
        ["meshstack:clusters[1].eastWestGateway is false", "several networks"],
    ),
    (
        "primary with remotes without a gateway",
        raw(
            MC,
            clusters=[
                mesh_cluster("a", 0, eastWestGateway=False),
                mesh_cluster("b", 1, role="remote", primary="a"),
            ],
        ),
        ["meshstack:clusters[0].eastWestGateway is false", "its remotes reach istiod through it"],
    ),
    (
        "one network across two clouds",
        raw(MC, clusters=[mesh_cluster("a", 0, "ack"), mesh_cluster("b", 1)]),
        ["meshstack:clusters: network 'network1' has clusters on both ACK and GKE"],
    ),
    (
        "private ACK API server read from GKE",
        raw(
            MC,
            clusters=[
                mesh_cluster("a", 0, "ack", network="ali", apiServerPublic=False),
                mesh_cluster("b", 1),
            ],
        ),
        ["meshstack:clusters[0].apiServerPublic is false", "istiod in 'b'"],
    ),
    (
        "NetworkPolicies on ACK, which would ignore them",
        raw(
            MC,
            security={"networkPolicies": True},
            clusters=[mesh_cluster("a", 0, "ack", network="ali"), mesh_cluster("b", 1)],
        ),
        [
            "meshstack:security.networkPolicies is true, but cluster(s) 'a' would not enforce",
            "Flannel",
            "Terway",
            "set it to false",
        ],
    ),
    (
        "NetworkPolicies on ACK with ASM, and every other mistake",
        raw(TC, security={"networkPolicies": True}, istio={"mtls": "STRCT"}),
        [
            "meshstack:security.networkPolicies is true, but cluster(s) 'm1c1', 'm1c2'",
            "meshstack:istio.mtls = 'STRCT'",
        ],
    ),
    (
        "NetworkPolicies on ACS",
        raw(SC, security={"networkPolicies": True}),
        [
            "meshstack:security.networkPolicies is true, but cluster(s) 'hello-istio'",
            "ACS documents no NetworkPolicy enforcement",
        ],
    ),
    (
        "NetworkPolicies on ASK",
        raw(SC, security={"networkPolicies": True}, cluster={"offering": "ask"}),
        ["meshstack:security.networkPolicies is true", "Poseidon add-on"],
    ),
    (
        "GKE setting on an ACK cluster",
        raw(
            MC,
            clusters=[
                mesh_cluster("a", 0, "ack", network="ali", releaseChannel="RAPID"),
                mesh_cluster("b", 1),
            ],
        ),
        ["meshstack:clusters[0].releaseChannel does not apply to ACK clusters"],
    ),
    (
        "GKE mesh cluster outside the GCP region",
        raw(MC, clusters=[mesh_cluster("a", 0), mesh_cluster("b", 1, zone="europe-west1-b")]),
        ["meshstack:clusters[1].zone 'europe-west1-b' is not in meshstack:gcp.region 'us-west1'"],
    ),
    (
        "mesh clusters with overlapping pod ranges",
        raw(MC, clusters=[mesh_cluster("a", 0), mesh_cluster("b", 1, podCidr="10.20.0.0/16")]),
        ["meshstack:clusters[0].podCidr 10.20.0.0/14 overlaps meshstack:clusters[1].podCidr"],
    ),
    (
        "ACK version shape on a GKE cluster",
        raw(
            MC,
            clusters=[
                mesh_cluster("a", 0, kubernetesVersion="1.36.1-aliyun.1"),
                mesh_cluster("b", 1),
            ],
        ),
        ["meshstack:clusters[0].kubernetesVersion = '1.36.1-aliyun.1'", "a GKE version"],
    ),
    (
        "VM zone outside its region",
        raw(VM, gcp={"region": "us-west1", "zone": "europe-west1-b"}),
        ["meshstack:gcp.zone 'europe-west1-b' is not in meshstack:gcp.region 'us-west1'"],
    ),
    (
        "GCP region in Alibaba's spelling",
        raw(VM, gcp={"region": "us-west-1"}),
        ["meshstack:gcp.region = 'us-west-1'", "such as us-west1"],
    ),
    (
        "GCP project id with capitals",
        raw(VM, gcp={"project": "My_Project"}),
        ["meshstack:gcp.project = 'My_Project'", "project id"],
    ),
    (
        "subnet overlaps the pod range",
        raw(VM, network={"podCidr": "10.10.0.0/16"}),
        ["meshstack:network.subnetCidr 10.10.0.0/20 overlaps meshstack:network.podCidr"],
    ),
    (
        "SSH open to the internet",
        raw(VM, vm={"sshSourceRanges": ["35.235.240.0/20", "0.0.0.0/0"]}),
        ["meshstack:vm.sshSourceRanges[1] 0.0.0.0/0 opens SSH to the whole internet"],
    ),
    (
        "multi-network mesh without the VM's network",
        raw(VM, mesh={"network": "network1"}),
        ["meshstack:mesh.network is 'network1'", "meshstack:vm.network is ''", "name both"],
    ),
    (
        "VM on a network the single-network mesh does not name",
        raw(VM, vm={"network": "vm-network"}),
        ["meshstack:vm.network is 'vm-network'", "name both"],
    ),
    (
        "hello-world image without a tag",
        raw(VM, helloWorld={"image": "gcr.io/tetratelabs/hello-world"}),
        ["meshstack:helloWorld.image", "pinned tag"],
    ),
    (
        "VM image without its project",
        raw(VM, vm={"image": "debian-13"}),
        ["meshstack:vm.image = 'debian-13'", "debian-cloud/debian-13"],
    ),
    (
        "GKE version Istio does not support",
        raw(VM, cluster={"kubernetesVersion": "1.30"}),
        ["meshstack:cluster.kubernetesVersion '1.30' is outside what Istio 1.31 supports"],
    ),
    (
        "unknown GKE release channel",
        raw(VM, cluster={"releaseChannel": "LATEST"}),
        ["meshstack:cluster.releaseChannel = 'LATEST'", "'REGULAR'"],
    ),
    (
        "GKE cluster name longer than GKE allows",
        raw(VM, cluster={"name": "a-cluster-name-that-is-longer-than-forty-chars"}),
        ["meshstack:cluster.name = 'a-cluster-name-that-is-longer-than-forty-chars'", "at most 40"],
    ),
    (
        "VM name starting with a digit",
        raw(VM, vm={"name": "1vm"}),
        ["meshstack:vm.name = '1vm'", "a lower-case letter"],
    ),
    (
        "VM application port out of range",
        raw(VM, vm={"port": 0}),
        ["meshstack:vm.port = 0", "expected at least 1"],
    ),
    (
        "typo in a VM key",
        raw(VM, vm={"instanceID": "vm1"}),
        ["meshstack:vm.instanceID is not a known setting", "instanceId"],
    ),
    (
        "active reader token not listed",
        raw(
            MC,
            clusters=[mesh_cluster("a", 0), mesh_cluster("b", 1)],
            membership={"readerTokens": ["g2"], "activeReaderToken": "initial"},
        ),
        ["meshstack:membership.activeReaderToken 'initial' is not in", "['g2']"],
    ),
    (
        "two reader tokens, none named active",
        raw(
            MC,
            clusters=[mesh_cluster("a", 0), mesh_cluster("b", 1)],
            membership={"readerTokens": ["initial", "g2"]},
        ),
        ["meshstack:membership.activeReaderToken is unset", "['initial', 'g2']"],
    ),
    (
        "a reader token listed twice",
        raw(
            MC,
            clusters=[mesh_cluster("a", 0), mesh_cluster("b", 1)],
            membership={"readerTokens": ["g2", "g2"]},
        ),
        ["meshstack:membership.readerTokens lists ['g2'] twice"],
    ),
    (
        "reader tokens with ASM",
        raw(TC, membership={"readerTokens": ["g2"]}),
        ["meshstack:membership does not apply with controlPlane asm"],
    ),
    (
        "several roots of trust without the signing one",
        raw(VM, trust={"roots": ["root", "r2"]}),
        ["meshstack:trust.signingRoot is unset", "['root', 'r2']"],
    ),
    (
        "a signing root that is not trusted",
        raw(VM, trust={"roots": ["r2"], "signingRoot": "r3"}),
        ["meshstack:trust.signingRoot 'r3' is not in trust.roots ['r2']"],
    ),
    (
        "an expiry check at or beyond the renewal window",
        raw(VM, trust={"renewBeforeHours": 100, "minValidityHours": 100}),
        ["meshstack:trust.minValidityHours 100", "trust.renewBeforeHours 100"],
    ),
    (
        "renewal too close to the end",
        raw(VM, trust={"renewBeforeHours": 24}),
        ["meshstack:trust.renewBeforeHours = 24", "48"],
    ),
]
