"""Every resource type the stacks create, and how a replacement of it goes.

Pulumi creates the new resource before deleting the old one. Where the cloud keeps a name
(or a range) unique, that create would fail with "already exists", so those resources are
replaced delete-first (components/meshstack/naming.py). A type missing from the table fails
the test: each new type is classified, with its reason.
"""

from __future__ import annotations

from typing import Literal

import pytest

from tests.variants import params
from tools.offline.engine import OfflineEngine, Resource

Strategy = Literal["delete-first", "create-first", "provider"]

REPLACEMENT: dict[str, tuple[Strategy, str]] = {
    # Google Cloud: names unique in their scope (each name argument is ForceNew in
    # terraform-provider-google; the bridge deletes first for a fixed name anyway).
    "gcp:container/cluster:Cluster": ("delete-first", "name unique per location"),
    "gcp:container/nodePool:NodePool": ("delete-first", "name unique per cluster"),
    "gcp:compute/network:Network": ("delete-first", "name unique per project"),
    "gcp:compute/subnetwork:Subnetwork": ("delete-first", "name and range unique"),
    "gcp:compute/router:Router": ("delete-first", "name unique per region"),
    "gcp:compute/routerNat:RouterNat": ("delete-first", "one all-subnet NAT per network"),
    "gcp:compute/address:Address": ("delete-first", "name and address unique"),
    "gcp:compute/firewall:Firewall": ("delete-first", "name unique per project"),
    "gcp:compute/instance:Instance": ("delete-first", "name unique per zone"),
    "gcp:serviceaccount/account:Account": ("delete-first", "account id unique per project"),
    "gcp:secretmanager/secret:Secret": ("delete-first", "secret id unique per project"),
    "gcp:projects/service:Service": ("create-first", "enabling an API is idempotent"),
    "gcp:projects/iAMMember:IAMMember": ("create-first", "a binding, not a named object"),
    "gcp:serviceaccount/iAMMember:IAMMember": ("create-first", "a binding"),
    "gcp:secretmanager/secretIamMember:SecretIamMember": ("create-first", "a binding"),
    # Alibaba Cloud.
    "alicloud:cs/managedKubernetes:ManagedKubernetes": (
        "delete-first",
        "cluster names unique per account (ErrorClusterNameAlreadyExist)",
    ),
    "alicloud:cs/nodePool:NodePool": ("delete-first", "names not documented as reusable"),
    "alicloud:ecs/ecsKeyPair:EcsKeyPair": ("delete-first", "names unique (ImportKeyPair)"),
    "alicloud:vpc/switch:Switch": ("delete-first", "its range cannot be taken twice"),
    "alicloud:vpc/snatEntry:SnatEntry": ("delete-first", "one SNAT entry per vSwitch"),
    "alicloud:vpc/network:Network": ("create-first", "VPC names are not unique"),
    "alicloud:vpc/natGateway:NatGateway": ("create-first", "names are not unique"),
    "alicloud:ecs/eipAddress:EipAddress": ("create-first", "names are not unique"),
    "alicloud:ecs/eipAssociation:EipAssociation": ("create-first", "an association"),
    "alicloud:ecs/securityGroup:SecurityGroup": ("create-first", "names are not unique"),
    "alicloud:ecs/securityGroupRule:SecurityGroupRule": ("create-first", "unnamed"),
    "alicloud:servicemesh/serviceMesh:ServiceMesh": (
        "delete-first",
        "names unique (CreateServiceMesh retries on NameAlreadyExist)",
    ),
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": (
        "create-first",
        "names are not unique",
    ),
    # Keys and certificates have no name.
    "tls:index/privateKey:PrivateKey": ("create-first", "no name"),
    "tls:index/selfSignedCert:SelfSignedCert": ("create-first", "no name"),
    "tls:index/certRequest:CertRequest": ("create-first", "no name"),
    "tls:index/locallySignedCert:LocallySignedCert": ("create-first", "no name"),
    # ASM's API: a new membership is another cluster or mesh (asm_resources.MemberProvider).
    "pulumi-python:dynamic/asm:Member": ("delete-first", "a cluster leaves before it joins"),
    "pulumi-python:dynamic/asm:Kubeconfig": ("create-first", "read, never replaced"),
    # Helm releases are replaced only when their name or namespace changes
    # (pulumi-kubernetes helm_release.go forceNewFields), so the new one never clashes.
    "kubernetes:helm.sh/v3:Release": ("provider", "replaced only under another name"),
}
# pulumi-kubernetes deletes a named object first when its replacement keeps the name
# (provider.go Diff: deleteBeforeReplace for named, not autonamed objects).
KUBERNETES = ("provider", "the Kubernetes provider deletes named objects first")


def strategy(resource: Resource) -> tuple[Strategy, str]:
    if resource.type.startswith("pulumi:providers:"):
        return ("create-first", "a provider is configuration, not a cloud object")
    if resource.type.startswith("kubernetes:") and resource.type in REPLACEMENT:
        return REPLACEMENT[resource.type]
    if resource.type.startswith("kubernetes:"):
        return KUBERNETES
    assert resource.type in REPLACEMENT, f"{resource.type}: how is it replaced?"
    return REPLACEMENT[resource.type]


@pytest.mark.parametrize(("stack", "overrides"), params())
def test_every_created_resource_is_replaced_as_its_name_allows(engine, stack, overrides):
    wrong = []
    for resource in engine.run(stack, overrides).created:
        how, _ = strategy(resource)
        delete_first = resource.options.delete_before_replace is True
        if delete_first != (how == "delete-first"):
            wrong.append(f"{resource.type} {resource.name}: expected {how}")
    assert wrong == []


def test_the_table_lists_no_type_the_stacks_do_not_create():
    created = {
        r.type
        for stack, overrides in (p.values for p in params())
        for r in OfflineEngine(stack).run(stack, overrides).created
    }
    assert set(REPLACEMENT) - created == set()
