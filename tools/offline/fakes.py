"""Plausible provider outputs for the offline engine (documentation ranges, fake ids)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pulumi

# RFC 5737 documentation addresses: never real endpoints.
FAKE_LB_IP = "203.0.113.10"
FAKE_EIP = "198.51.100.7"
# What ACK would list as creatable: plausible, not real, versions of several minors.
FAKE_ACK_VERSIONS = ("1.34.6-aliyun.1", "1.35.2-aliyun.1", "1.36.1-aliyun.1", "1.36.3-aliyun.1")
FAKE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "https://198.51.100.8:6443", certificate-authority-data: ZmFrZQ==}
users:
- name: fake
  user: {client-certificate-data: ZmFrZQ==, client-key-data: c2VjcmV0}
contexts:
- name: fake
  context: {cluster: fake, user: fake}
current-context: fake
"""

# What ASM would offer: plausible, not real, releases.
FAKE_ASM_VERSIONS = (
    "v1.25.6.90-gabcdef01-aliyun",
    "v1.26.2.100-g1234abcd-aliyun",
    "v1.26.3.110-g0fedcba9-aliyun",
)
FAKE_CLB_IP = "203.0.113.20"
FAKE_ASM_PUBLIC_KUBECONFIG = FAKE_KUBECONFIG.replace("198.51.100.8", "203.0.113.40")
FAKE_CA_DATA = "ZmFrZS1jYQ=="
FAKE_READER_TOKEN = "fake-reader-token"

# Google Cloud: a GKE endpoint, the reserved internal and external addresses, the VM's.
FAKE_GKE_ENDPOINT = "203.0.113.30"
FAKE_INTERNAL_ADDRESS = "10.10.0.100"
FAKE_EXTERNAL_ADDRESS = "203.0.113.50"
FAKE_VM_IP = "10.10.0.7"
FAKE_GCP_PROJECT = "fake-project"

# Asked no more through the provider: the config looks versions up before registering.
GET_KUBERNETES_VERSION = "alicloud:cs/getKubernetesVersion:getKubernetesVersion"
GET_CLUSTER_CREDENTIAL = "alicloud:cs/getClusterCredential:getClusterCredential"
GET_GCP_CLIENT_CONFIG = "gcp:organizations/getClientConfig:getClientConfig"


def intranet_endpoint(cluster_resource_name: str) -> str:
    """The fake intranet API server of an ACK cluster (by its resource name)."""
    return f"https://{cluster_resource_name}.intranet.invalid:6443"


def public_endpoint(cluster_resource_name: str) -> str:
    """The fake internet-facing API server of an ACK cluster (by its resource name)."""
    return f"https://{cluster_resource_name}.public.invalid:6443"


def _ack_connections(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    connection = {"apiServerIntranet": intranet_endpoint(args.name)}
    if args.inputs.get("slbInternetEnabled"):
        connection["apiServerInternet"] = public_endpoint(args.name)
    return {"connections": [connection]}


def _service_read(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    if not args.resource_id:
        return {}
    # A Service read back after its chart installed: a cloud load balancer answered.
    namespace, _, name = args.resource_id.partition("/")
    return {
        "metadata": {"name": name, "namespace": namespace},
        "status": {"loadBalancer": {"ingress": [{"ip": FAKE_LB_IP}]}},
    }


def _token_secret(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    if args.inputs.get("type") != "kubernetes.io/service-account-token":
        return {}
    # Kubernetes fills in the token; the provider waits for it.
    token = fake_token(args.inputs.get("metadata", {}).get("name", ""))
    return {"data": {"token": base64.b64encode(token.encode()).decode()}}


def fake_token(secret_name: str) -> str:
    """The token Kubernetes writes into a token Secret: one per Secret (each generation of
    reader token its own); the first generation's is FAKE_READER_TOKEN."""
    suffix = secret_name.removeprefix("istio-reader-service-account-token")
    return FAKE_READER_TOKEN + suffix


# When the provider's certificates end (validity_end_time): far enough for every check.
FAKE_CERT_END = "2036-01-01T00:00:00Z"


def _fake_cert(kind: str) -> Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]:
    key = {"KEY": "privateKeyPem", "CSR": "certRequestPem", "CERT": "certPem"}[kind]
    end = {"validityEndTime": FAKE_CERT_END} if kind == "CERT" else {}
    return lambda args: {key: f"-----FAKE {kind} {args.name}-----\n", **end}


def _fake_key(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """A tls private key in every encoding the provider gives (PEM, OpenSSH)."""
    return {
        **_fake_cert("KEY")(args),
        "privateKeyOpenssh": f"-----FAKE OPENSSH KEY {args.name}-----\n",
        "publicKeyOpenssh": f"ssh-rsa FAKE-{args.name}\n",
    }


# Per resource type: the outputs the cloud adds to the inputs.
OUTPUTS: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "kubernetes:core/v1:Service": _service_read,
    "kubernetes:core/v1:Secret": _token_secret,
    "alicloud:vpc/natGateway:NatGateway": lambda args: {
        "snatTableIds": f"stb-{args.name}",
        "forwardTableIds": f"ftb-{args.name}",
    },
    "alicloud:ecs/eipAddress:EipAddress": lambda _: {"ipAddress": FAKE_EIP},
    "alicloud:cs/managedKubernetes:ManagedKubernetes": _ack_connections,
    # The provider's own (VPC-private) kubeconfig, and ASM's API answer for ours.
    "alicloud:servicemesh/serviceMesh:ServiceMesh": lambda _: {"kubeconfig": FAKE_KUBECONFIG},
    "pulumi-python:dynamic/asm:Kubeconfig": lambda _: {
        "kubeconfig": FAKE_ASM_PUBLIC_KUBECONFIG,
        "expires": "2027-11-29T00:00:00Z",
    },
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": lambda _: {
        "address": FAKE_CLB_IP
    },
    "gcp:container/cluster:Cluster": lambda _: {
        "endpoint": FAKE_GKE_ENDPOINT,
        "masterAuth": {"clusterCaCertificate": FAKE_CA_DATA},
    },
    # compute.Address: `address` is the one reserved, of the type asked for.
    "gcp:compute/address:Address": lambda args: {
        "address": FAKE_EXTERNAL_ADDRESS
        if args.inputs.get("addressType") == "EXTERNAL"
        else FAKE_INTERNAL_ADDRESS
    },
    "gcp:compute/instance:Instance": lambda args: {
        "networkInterfaces": [
            {**interface, "networkIp": FAKE_VM_IP} for interface in args.inputs["networkInterfaces"]
        ]
    },
    # The provider's `name` is the account's full name (projects/P/serviceAccounts/EMAIL).
    "gcp:serviceaccount/account:Account": lambda args: {
        "email": (
            email := f"{args.inputs['accountId']}@{FAKE_GCP_PROJECT}.iam.gserviceaccount.com"
        ),
        "name": f"projects/{FAKE_GCP_PROJECT}/serviceAccounts/{email}",
    },
    "tls:index/privateKey:PrivateKey": _fake_key,
    "tls:index/certRequest:CertRequest": _fake_cert("CSR"),
    "tls:index/selfSignedCert:SelfSignedCert": _fake_cert("CERT"),
    "tls:index/locallySignedCert:LocallySignedCert": _fake_cert("CERT"),
}
# Per resource type: the id the cloud gives (default: "<name>-id").
IDS: dict[str, Callable[[pulumi.runtime.MockResourceArgs], str]] = {
    "alicloud:ecs/eipAddress:EipAddress": lambda args: f"eip-{args.name}",
    "gcp:container/cluster:Cluster": lambda args: (
        f"projects/{FAKE_GCP_PROJECT}/locations/{args.inputs['location']}"
        f"/clusters/{args.inputs['name']}"
    ),
    "gcp:secretmanager/secret:Secret": lambda args: (
        f"projects/{FAKE_GCP_PROJECT}/secrets/{args.inputs['secretId']}"
    ),
}


# Where the fake Alibaba Cloud has zones (a plausible, not a real, list).
FAKE_ALIBABA_ZONES = ("a", "b")


class FakeStackState:
    """What the config hears of the stack's last `up` offline (stacks/config/previous.py):
    `deployed`, the record a test says that `up` exported (e.g. a declared run's
    `outputs["deployed"]`); None, a first `up`."""

    def __init__(self) -> None:
        self.record: dict | None = None

    def deployed(self) -> dict | None:
        return self.record


class FakeCatalog:
    """What the config's cloud lookups hear offline (stacks/config/lookups.Catalog), with the
    shapes of Alibaba's answers: exact ACK versions, exact ASM releases, zone ids."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, ...]] = []
        # What already runs, by (region, name): none unless a test says so (a first `up`).
        self.clusters: dict[tuple[str, str], str] = {}
        self.meshes: dict[tuple[str, str], str] = {}

    def ack_versions(self, region: str, profile: str) -> list[str]:
        self.asked.append(("ack_versions", region, profile))
        return list(FAKE_ACK_VERSIONS)

    def asm_versions(self, region: str, edition: str) -> list[str]:
        self.asked.append(("asm_versions", region, edition))
        return list(FAKE_ASM_VERSIONS)

    def alibaba_zones(self, region: str) -> list[str]:
        self.asked.append(("alibaba_zones", region))
        return [f"{region}{suffix}" for suffix in FAKE_ALIBABA_ZONES]

    def ack_cluster_version(self, region: str, name: str) -> str | None:
        self.asked.append(("ack_cluster_version", region, name))
        return self.clusters.get((region, name))

    def asm_mesh_version(self, region: str, name: str) -> str | None:
        self.asked.append(("asm_mesh_version", region, name))
        return self.meshes.get((region, name))


class FakeCloud(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = {**args.inputs, **OUTPUTS.get(args.typ, lambda _: {})(args)}
        resource_id = IDS.get(args.typ, lambda a: f"{a.name}-id")(args)
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list]:
        if args.token == GET_CLUSTER_CREDENTIAL:
            return {
                "clusterId": args.args["clusterId"],
                "kubeConfig": FAKE_KUBECONFIG,
                "certificateAuthorities": [{"clusterCert": FAKE_CA_DATA}],
                "id": args.args["clusterId"],
            }, []
        if args.token == GET_GCP_CLIENT_CONFIG:
            # The provider's own settings (the access token is not one we read).
            return {"project": FAKE_GCP_PROJECT, "id": FAKE_GCP_PROJECT}, []
        return {}, []
