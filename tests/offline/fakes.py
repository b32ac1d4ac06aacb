"""Plausible provider outputs for the offline engine (documentation ranges, fake ids)."""

from __future__ import annotations

import base64
from typing import Any

import pulumi

# RFC 5737 documentation addresses: never real endpoints.
FAKE_LB_IP = "203.0.113.10"
FAKE_EIP = "198.51.100.7"
# What ACK would answer for "the newest Serverless 1.36": a plausible, not a real, version.
FAKE_ACK_VERSIONS = ("1.36.1-aliyun.1", "1.36.3-aliyun.1")
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
FAKE_CA_DATA = "ZmFrZS1jYQ=="
FAKE_READER_TOKEN = "fake-reader-token"

GET_KUBERNETES_VERSION = "alicloud:cs/getKubernetesVersion:getKubernetesVersion"
GET_CLUSTER_CREDENTIAL = "alicloud:cs/getClusterCredential:getClusterCredential"
GET_ASM_VERSIONS = "alicloud:servicemesh/getVersions:getVersions"


def intranet_endpoint(cluster_resource_name: str) -> str:
    """The fake intranet API server of an ACK cluster (by its resource name)."""
    return f"https://{cluster_resource_name}.intranet.invalid:6443"


class FakeCloud(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ == "kubernetes:core/v1:Service" and args.resource_id:
            # A Service read back after its chart installed: a cloud load balancer answered.
            namespace, _, name = args.resource_id.partition("/")
            outputs.update(
                metadata={"name": name, "namespace": namespace},
                status={"loadBalancer": {"ingress": [{"ip": FAKE_LB_IP}]}},
            )
        elif args.typ == "alicloud:vpc/natGateway:NatGateway":
            outputs.update(snatTableIds=f"stb-{args.name}", forwardTableIds=f"ftb-{args.name}")
        elif args.typ == "alicloud:ecs/eipAddress:EipAddress":
            outputs.update(ipAddress=FAKE_EIP)
            resource_id = f"eip-{args.name}"
        elif args.typ == "alicloud:cs/managedKubernetes:ManagedKubernetes":
            outputs.update(connections=[{"apiServerIntranet": intranet_endpoint(args.name)}])
        elif args.typ == "alicloud:servicemesh/serviceMesh:ServiceMesh":
            outputs.update(kubeconfig=FAKE_KUBECONFIG)
        elif args.typ == "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer":
            outputs.update(address=FAKE_CLB_IP)
        elif args.typ == "kubernetes:core/v1:Secret" and args.inputs.get("type") == (
            "kubernetes.io/service-account-token"
        ):
            # Kubernetes fills in the token; the provider waits for it.
            outputs.update(data={"token": base64.b64encode(FAKE_READER_TOKEN.encode()).decode()})
        elif args.typ == "tls:index/privateKey:PrivateKey":
            outputs.update(privateKeyPem=f"-----FAKE KEY {args.name}-----\n")
        elif args.typ == "tls:index/certRequest:CertRequest":
            outputs.update(certRequestPem=f"-----FAKE CSR {args.name}-----\n")
        elif args.typ in (
            "tls:index/selfSignedCert:SelfSignedCert",
            "tls:index/locallySignedCert:LocallySignedCert",
        ):
            outputs.update(certPem=f"-----FAKE CERT {args.name}-----\n")
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list]:
        if args.token == GET_KUBERNETES_VERSION:
            minor = str(args.args.get("kubernetesVersion", ""))
            versions = [v for v in FAKE_ACK_VERSIONS if v.startswith(f"{minor}.")]
            return {
                "clusterType": args.args.get("clusterType"),
                "metadatas": [{"version": v, "runtimes": []} for v in versions],
                "id": "versions",
            }, []
        if args.token == GET_CLUSTER_CREDENTIAL:
            return {
                "clusterId": args.args["clusterId"],
                "kubeConfig": FAKE_KUBECONFIG,
                "certificateAuthorities": [{"clusterCert": FAKE_CA_DATA}],
                "id": args.args["clusterId"],
            }, []
        if args.token == GET_ASM_VERSIONS:
            edition = args.args.get("edition", "Default")
            return {
                "edition": edition,
                "versions": [
                    {"edition": edition, "id": f"{edition}:{v}", "version": v}
                    for v in FAKE_ASM_VERSIONS
                ],
                "ids": [f"{edition}:{v}" for v in FAKE_ASM_VERSIONS],
                "id": edition,
            }, []
        return {}, []
