"""The `single-cluster` stack (seeds 000/003/004): Alibaba network, a serverless cluster (ACS
by default, the seed's ASK by config), the mesh on it."""

from __future__ import annotations

import pytest

from tools.offline.engine import Declared, Resource
from tools.offline.fakes import (
    FAKE_EIP,
    FAKE_KUBECONFIG,
    FAKE_LB_IP,
    GET_CLUSTER_CREDENTIAL,
    GET_KUBERNETES_VERSION,
)

CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
SNAT = "alicloud:vpc/snatEntry:SnatEntry"


@pytest.fixture
def single(engine) -> Declared:
    return engine.run("single-cluster")


def one(declared: Declared, type_: str) -> Resource:
    (found,) = declared.of_type(type_)
    return found


ASK = {"cluster": {"offering": "ask", "kubernetesVersion": "1.36"}}


def test_the_default_cluster_is_one_a_new_account_can_create(single):
    """ACK Serverless is closed to accounts that never created one (since 2025-02-17, ACK
    Serverless overview); its replacement ACS is `profile: Acs`."""
    inputs = one(single, CLUSTER).inputs
    assert inputs["profile"] == "Acs"
    assert inputs["name"] == "hello-istio" and inputs["clusterSpec"] == "ack.pro.small"
    # ACS manages its DNS itself (the provider's ACS acceptance test adds no addon).
    assert inputs.get("addons", []) == []
    assert one(single, "meshstack:alicloud:ServerlessCluster").name == "hello-istio"


def test_ask_cluster_has_the_seed_values(engine):
    single = engine.run("single-cluster", ASK)
    inputs = one(single, CLUSTER).inputs
    assert inputs["name"] == "hello-istio"
    assert inputs["profile"] == "Serverless"  # ASK, not the deprecated ServerlessKubernetes
    assert inputs["clusterSpec"] == "ack.pro.small"
    assert inputs["serviceCidr"] == "172.21.0.0/20"
    assert inputs["slbInternetEnabled"] is True  # API server exposed through an EIP
    assert inputs["timezone"] == "Asia/Shanghai"
    assert inputs["newNatGateway"] is False  # the stack's own NAT gateway serves the VPC
    assert inputs["deletionProtection"] is True
    assert [a["name"] for a in inputs["addons"]] == ["managed-coredns", "alibaba-log-controller"]
    modes = {o["resourceType"]: o["deleteMode"] for o in inputs["deleteOptions"]}
    assert modes == {"SLB": "delete", "SLS_Data": "retain", "SLS_ControlPlane": "retain"}


def test_kubernetes_minor_resolves_to_the_newest_ack_patch(engine):
    """Asked of ACK before anything is registered (stacks/config/lookups.py): the full list of
    creatable versions, chosen from here (ACK's filter takes exact versions only)."""
    single = engine.run("single-cluster")
    assert ("ack_versions", "us-west-1", "Acs") in engine.catalog.asked
    assert one(single, CLUSTER).inputs["version"] == "1.36.3-aliyun.1"
    assert single.outputs["kubernetesVersion"] == "1.36.3-aliyun.1"
    assert not [i for i in single.invokes if i.token == GET_KUBERNETES_VERSION]


def test_exact_kubernetes_version_is_used_as_given(engine):
    declared = engine.run("single-cluster", {"cluster": {"kubernetesVersion": "1.35.2-aliyun.1"}})
    assert one(declared, CLUSTER).inputs["version"] == "1.35.2-aliyun.1"


def test_versions_and_zones_ack_does_not_offer_are_refused_before_anything_exists(engine):
    settings = {
        "cluster": {"kubernetesVersion": "1.33"},
        "network": {
            "region": "us-west-1",
            "vswitches": [{"zone": "us-west-1c", "cidr": "192.168.0.0/19"}],
        },
    }
    with pytest.raises(Exception) as refused:
        engine.run("single-cluster", settings)
    message = str(refused.value)
    assert "meshstack:cluster.kubernetesVersion = '1.33': ACK offers no Acs Kubernetes 1.33" in (
        message
    )
    assert "minors it offers: 1.34, 1.35, 1.36" in message
    assert "meshstack:network.vswitches[0].zone = 'us-west-1c' is not a zone of us-west-1" in (
        message
    )
    assert engine.monitor.recorded == []  # not even a provider


def test_network_has_one_vswitch_per_zone_and_a_nat_with_eip(single):
    vpc = one(single, "alicloud:vpc/network:Network")
    assert vpc.inputs["cidrBlock"] == "192.168.0.0/16"
    vswitches = single.of_type("alicloud:vpc/switch:Switch")
    assert {(v.inputs["zoneId"], v.inputs["cidrBlock"]) for v in vswitches} == {
        ("us-west-1a", "192.168.0.0/19"),
        ("us-west-1b", "192.168.32.0/19"),
    }
    nat = one(single, "alicloud:vpc/natGateway:NatGateway").inputs
    assert (nat["natType"], nat["paymentType"], nat["networkType"]) == (
        "Enhanced",
        "PayAsYouGo",
        "internet",
    )
    eip = one(single, "alicloud:ecs/eipAddress:EipAddress").inputs
    assert (eip["paymentType"], eip["internetChargeType"]) == ("PayAsYouGo", "PayByTraffic")
    association = one(single, "alicloud:ecs/eipAssociation:EipAssociation")
    assert association.inputs["instanceType"] == "Nat"
    entries = single.of_type(SNAT)
    assert len(entries) == len(vswitches)
    assert {e.inputs["sourceVswitchId"] for e in entries} == {f"{v.name}-id" for v in vswitches}
    for entry in entries:
        assert entry.inputs["snatIp"] == FAKE_EIP
        assert entry.inputs["snatTableId"] == "stb-hello-istio-nat"
        assert single.depends_on(entry, association)  # the EIP is bound before it is used


def test_cluster_uses_the_stack_vswitches_and_waits_for_internet_access(single):
    cluster = one(single, CLUSTER)
    # In the stack file's order (registration order is not deterministic).
    zones = ("us-west-1a", "us-west-1b")
    assert cluster.inputs["vswitchIds"] == [f"hello-istio-vswitch-{z}-id" for z in zones]
    assert all(single.depends_on(cluster, snat) for snat in single.of_type(SNAT))


def test_every_alibaba_call_goes_through_the_stack_provider_in_its_region(single):
    (provider,) = single.of_type("pulumi:providers:alicloud")
    assert provider.inputs["region"] == "us-west-1"
    cloud = [r for r in single if r.type.startswith("alicloud:")]
    assert len(cloud) == 9 and all(r.provider_urn == provider.urn for r in cloud)
    # The cluster's credential; versions and zones were asked before (the config's lookups).
    alibaba_invokes = [i for i in single.invokes if i.token.startswith("alicloud:")]
    assert [i.token for i in alibaba_invokes] == [GET_CLUSTER_CREDENTIAL]
    assert all(i.provider_urn == provider.urn for i in alibaba_invokes)


def test_kubernetes_provider_uses_the_cluster_credential_as_a_secret(single):
    (credential,) = [i for i in single.invokes if i.token == GET_CLUSTER_CREDENTIAL]
    assert credential.args == {"clusterId": f"{one(single, CLUSTER).name}-id"}
    (provider,) = single.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == FAKE_KUBECONFIG
    assert "kubeconfig" in provider.secret_inputs
    assert single.depends_on(provider, one(single, CLUSTER))
    kube = [r for r in single if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider_urn == provider.urn for r in kube)


def test_kubeconfig_output_is_secret_and_others_are_not(single):
    assert single.outputs["kubeconfig"] == FAKE_KUBECONFIG
    assert single.secret_outputs == {"kubeconfig"}


def test_outputs_say_where_to_look(single):
    outputs = single.outputs
    assert outputs["clusterId"] == "hello-istio-cluster-id"
    assert outputs["egressIp"] == FAKE_EIP
    assert outputs["productpageUrl"] == f"http://{FAKE_LB_IP}/productpage"
    assert outputs["kubectlSetup"].startswith(
        "scripts/pulumi.sh test stack output kubeconfig --show-secrets > "
    )
    assert outputs["kialiCommand"] == (
        "kubectl -n istio-system port-forward svc/kiali 20001:20001, "
        "then open http://localhost:20001/kiali"
    )
    assert "svc/grafana 3000:3000" in outputs["grafanaCommand"]
    assert "svc/tracing 16686:80" in outputs["jaegerCommand"]


def test_mesh_is_the_same_as_local_but_on_the_cluster(single, engine):
    def shape(declared: Declared) -> set[tuple[str, str]]:
        return {(r.type, r.name) for r in declared if r.type.startswith("kubernetes:")}

    local = engine.run("local")
    assert shape(single) == shape(local)


def test_resource_names_are_unique_per_type(single):
    keys = [(r.type, r.name) for r in single]
    assert len(keys) == len(set(keys))


def test_tags_name_the_stack_on_every_taggable_resource(single):
    taggable = [r for r in single if r.type.startswith("alicloud:") and "tags" in r.inputs]
    assert len(taggable) == 6  # VPC, 2 vSwitches, NAT gateway, EIP, cluster
    for resource in taggable:
        assert resource.inputs["tags"]["pulumi-stack"] == "test"
        assert resource.inputs["tags"]["managed-by"] == "pulumi"
