"""The `two-cluster-retention` stack (seed 002), with ASM and with self-managed Istio."""

from __future__ import annotations

import pytest
import yaml

from meshstack.alicloud.asm_resources import MemberProvider
from meshstack.apps.cluster_local import routing_objects
from tools.offline.engine import Declared, OfflineEngine, Resource
from tools.offline.fakes import (
    FAKE_ASM_PUBLIC_KUBECONFIG,
    FAKE_ASM_VERSIONS,
    FAKE_CA_DATA,
    FAKE_CLB_IP,
    FAKE_LB_IP,
    FAKE_READER_TOKEN,
    intranet_endpoint,
)
from tools.stack_file import stack_config

STACK = "two-cluster-retention"
CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
NODE_POOL = "alicloud:cs/nodePool:NodePool"
SG = "alicloud:ecs/securityGroup:SecurityGroup"
SG_RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule"
MESH = "alicloud:servicemesh/serviceMesh:ServiceMesh"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"

# Seed 002's three objects, as the walkthrough applies them (apiVersions aside).
SEED_GATEWAY = {
    "selector": {"istio": "ingressgateway"},
    "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}],
}
SEED_VIRTUAL_SERVICE = yaml.safe_load(
    """
hosts: ["*"]
gateways: [bookinfo-gateway]
http:
- match: [{uri: {exact: /productpage1}}]
  rewrite: {uri: /productpage}
  route: [{destination: {host: productpage, port: {number: 9080}, subset: m1c1}}]
- match: [{uri: {exact: /productpage2}}]
  rewrite: {uri: /productpage}
  route: [{destination: {host: productpage, port: {number: 9080}, subset: m1c2}}]
- match:
  - uri: {prefix: /static}
  - uri: {exact: /login}
  - uri: {exact: /logout}
  - uri: {prefix: /api/v1/products}
  route: [{destination: {host: productpage, port: {number: 9080}}}]
"""
)
SEED_DESTINATION_RULE = {
    "host": "productpage",
    "subsets": [
        {"name": "m1c1", "labels": {"cluster": "m1c1"}},
        {"name": "m1c2", "labels": {"cluster": "m1c2"}},
    ],
}


@pytest.fixture
def asm(engine) -> Declared:
    return engine.run(STACK)


@pytest.fixture
def istio(engine) -> Declared:
    return engine.run(STACK, {"controlPlane": "istio"})


def cluster_named(declared: Declared, name: str) -> Resource:
    (found,) = [r for r in declared.of_type(CLUSTER) if r.inputs["name"] == name]
    return found


def provider_of_cluster(declared: Declared, name: str) -> Resource:
    return declared.named(f"{name}-kubernetes")


def on(declared: Declared, provider: Resource, type_: str | None = None) -> list[Resource]:
    return [
        r for r in declared if r.provider_urn == provider.urn and (type_ is None or r.type == type_)
    ]


def istio_object(declared: Declared, provider: Resource, kind: str, name: str) -> Resource:
    (found,) = [
        r
        for r in on(declared, provider)
        if r.type.endswith(f":{kind}") and r.inputs["metadata"]["name"] == name
    ]
    return found


# --- the cloud floor (the same for both control planes) ----------------------------------


def test_two_ack_pro_clusters_in_one_vpc_each_on_its_own_vswitch(asm):
    vpc = asm.named("mesh1-vpc")
    vswitches = {v.inputs["vswitchName"]: v for v in asm.of_type("alicloud:vpc/switch:Switch")}
    assert set(vswitches) == {"mesh1-m1c1", "mesh1-m1c2"}
    assert all(asm.depends_on(v, vpc) for v in vswitches.values())
    for name, pods, services in (
        ("m1c1", "10.10.0.0/16", "172.16.0.0/20"),
        ("m1c2", "10.11.0.0/16", "172.16.16.0/20"),
    ):
        inputs = cluster_named(asm, name).inputs
        assert inputs["profile"] == "Default"  # ACK managed, not serverless
        assert inputs["clusterSpec"] == "ack.pro.small"
        assert inputs["vswitchIds"] == [f"{vswitches[f'mesh1-{name}'].name}-id"]
        assert (inputs["podCidr"], inputs["serviceCidr"]) == (pods, services)
        assert [a["name"] for a in inputs["addons"]] == ["flannel"]
        assert inputs["securityGroupId"] == f"cluster-security-{name}-id"


def test_clusters_are_built_in_parallel(asm):
    first, second = cluster_named(asm, "m1c1"), cluster_named(asm, "m1c2")
    assert not asm.depends_on(first, second) and not asm.depends_on(second, first)
    pools = asm.of_type(NODE_POOL)
    for pool in pools:
        other = second if pool.inputs["clusterId"] == f"{first.name}-id" else first
        assert not asm.depends_on(pool, other)


def test_each_cluster_waits_for_its_own_vswitchs_egress_only(asm):
    """Nodes pull images through the SNAT entry of their vSwitch; another cluster's entry
    is no reason to wait."""
    for name in ("m1c1", "m1c2"):
        cluster = cluster_named(asm, name)
        entries = {
            s.name
            for s in asm.of_type("alicloud:vpc/snatEntry:SnatEntry")
            if asm.depends_on(cluster, s)
        }
        assert entries == {f"mesh1-snat-{name}"}


def test_each_cluster_has_a_node_pool_in_its_vswitch_and_security_group(asm):
    pools = {p.inputs["nodePoolName"]: p.inputs for p in asm.of_type(NODE_POOL)}
    assert set(pools) == {"m1c1-workers", "m1c2-workers"}
    for name, pool in ((n.removesuffix("-workers"), p) for n, p in pools.items()):
        assert pool["clusterId"] == f"{name}-cluster-id"
        assert pool["securityGroupIds"] == [f"cluster-security-{name}-id"]
        assert pool["vswitchIds"] == [f"mesh1-vswitch-{name}-id"]
        assert pool["desiredSize"] == "2"
        assert pool["instanceTypes"] == ["ecs.g7.xlarge", "ecs.g6.xlarge"]
        assert pool["instanceChargeType"] == "PostPaid"


def test_node_pools_log_in_with_a_key_pair_the_stack_makes(asm):
    """cs.NodePool: "You have to specify one of password and key_name"; a key, never a
    password in state. ECS takes RSA keys (ImportKeyPair lists rsa, dsa, ecdsa)."""
    for name in ("m1c1", "m1c2"):
        key = asm.named(f"{name}-node-key")
        assert (key.inputs["algorithm"], key.inputs["rsaBits"]) == ("RSA", 4096)
        pair = asm.named(f"{name}-node-key-pair")
        assert pair.inputs["keyPairName"] == f"{name}-nodes"
        assert pair.inputs["publicKey"] == f"ssh-rsa FAKE-{name}-node-key\n"
        assert pair.options.delete_before_replace is True  # names are unique per region
        pool = asm.named(f"{name}-node-pool")
        assert pool.inputs["keyName"] == f"{name}-nodes" and "password" not in pool.inputs
    assert asm.outputs["nodeLoginKeys"] == {
        name: f"-----FAKE OPENSSH KEY {name}-node-key-----\n" for name in ("m1c1", "m1c2")
    }


def test_a_key_pair_of_the_users_is_used_as_given(engine):
    config = stack_config("two-cluster-retention")["meshstack:clusters"]
    clusters = [{**c, "nodePool": {**c.get("nodePool", {}), "keyPair": "ops"}} for c in config]
    declared = engine.run("two-cluster-retention", {"clusters": clusters})
    assert not declared.of_type("alicloud:ecs/ecsKeyPair:EcsKeyPair")
    assert {p.inputs["keyName"] for p in declared.of_type(NODE_POOL)} == {"ops"}
    assert "nodeLoginKeys" not in declared.outputs


def test_kubernetes_versions_resolve_for_ack_managed_clusters(engine):
    asm = engine.run(STACK)
    assert [a for a in engine.catalog.asked if a[0] == "ack_versions"] == [
        ("ack_versions", "us-west-1", "Default")
    ] * 2
    assert {cluster_named(asm, n).inputs["version"] for n in ("m1c1", "m1c2")} == {
        "1.36.3-aliyun.1"
    }


def test_security_groups_authorise_each_other_by_group_id(asm):
    groups = {g.inputs["securityGroupName"]: g for g in asm.of_type(SG)}
    assert set(groups) == {"m1c1-sg", "m1c2-sg"}
    rules = asm.of_type(SG_RULE)
    for own, peer in (("m1c1-sg", "m1c2-sg"), ("m1c2-sg", "m1c1-sg")):
        (by_group,) = [
            r.inputs
            for r in rules
            if r.inputs["securityGroupId"] == f"{groups[own].name}-id"
            and "sourceSecurityGroupId" in r.inputs
        ]
        assert by_group["sourceSecurityGroupId"] == f"{groups[peer].name}-id"
        assert (by_group["type"], by_group["ipProtocol"], by_group["policy"]) == (
            "ingress",
            "all",
            "accept",
        )
        assert by_group["nicType"] == "intranet"
    # Nothing is opened to the internet.
    assert not [r for r in rules if r.inputs.get("cidrIp") == "0.0.0.0/0"]


def test_every_security_group_rule_names_exactly_one_source(asm):
    for rule in asm.of_type(SG_RULE):
        sources = {"cidrIp", "sourceSecurityGroupId"} & set(rule.inputs)
        assert len(sources) == 1, rule.name


# --- ASM (the seed) ----------------------------------------------------------------------


MEMBER = "pulumi-python:dynamic/asm:Member"


def members(declared: Declared) -> dict[str, dict]:
    return {
        r.name: {k: v for k, v in r.inputs.items() if not k.startswith("__")}
        for r in declared.of_type(MEMBER)
    }


def test_asm_instance_mesh1_holds_both_clusters(asm):
    (mesh,) = asm.of_type(MESH)
    inputs = mesh.inputs
    assert inputs["serviceMeshName"] == "mesh1"
    # Membership is one resource per cluster, not the provider's list (which removes every
    # old cluster and adds every new one on any change).
    assert "clusterIds" not in inputs
    assert mesh.options.ignore_changes == ("clusterIds",)
    assert members(asm) == {
        f"mesh1-member-{name}": {
            "mesh_id": "mesh1-mesh-id",
            "cluster_id": f"{name}-cluster-id",
            "region": "us-west-1",
        }
        for name in ("m1c1", "m1c2")
    }
    assert (inputs["edition"], inputs["clusterSpec"]) == ("Pro", "enterprise")
    assert inputs["network"] == {"vpcId": "mesh1-vpc-id", "vswitcheList": "mesh1-vswitch-m1c1-id"}
    assert inputs["loadBalancer"] == {"apiServerPublicEip": True}
    assert inputs["meshConfig"] == {
        "outboundTrafficPolicy": "ALLOW_ANY",
        "accessLog": {"enabled": True},
        "enableLocalityLb": False,
    }
    # ASM installs its agents into each cluster: that cluster's nodes come first (and only
    # those: the members join side by side).
    for name in ("m1c1", "m1c2"):
        other = "m1c2" if name == "m1c1" else "m1c1"
        member = asm.named(f"mesh1-member-{name}")
        assert asm.named(f"{name}-node-pool").urn in asm.upstream(member)
        assert asm.named(f"{other}-node-pool").urn not in asm.upstream(member)


def test_a_replaced_asm_instance_goes_first_and_its_members_leave_before_it(asm):
    """ASM names are unique (CreateServiceMesh retries on NameAlreadyExist,
    terraform-provider-alicloud resource_alicloud_service_mesh_service_mesh.go): a create-first
    replacement would wait out its timeout. Delete-first, the engine first deletes what would be
    replaced with it (pulumi/pulumi step_generator.go calculateDependentReplacements): each
    membership whose mesh_id flows from the instance, and whose diff replaces on mesh_id."""
    (mesh,) = asm.of_type(MESH)
    assert mesh.options.delete_before_replace is True
    for name in ("m1c1", "m1c2"):
        member = asm.named(f"mesh1-member-{name}")
        assert member.property_dependencies["mesh_id"] == [mesh.urn]
        # Replaced on its own (another cluster), a cluster leaves before its successor joins.
        assert member.options.delete_before_replace is True
    changed_mesh = MemberProvider().diff(
        "m/c1", {**asm.named("mesh1-member-m1c1").inputs}, {"mesh_id": "new", "cluster_id": "x"}
    )
    assert "mesh_id" in (changed_mesh.replaces or [])


def test_adding_or_reordering_clusters_leaves_every_membership_as_it_was(engine, asm):
    clusters = stack_config("two-cluster-retention")["meshstack:clusters"]
    reordered = engine.run("two-cluster-retention", {"clusters": clusters[::-1]})
    assert members(reordered) == members(asm)
    third = {
        "name": "m1c3",
        "zone": "us-west-1b",
        "nodeCidr": "192.168.32.0/20",
        "podCidr": "10.12.0.0/16",
        "serviceCidr": "172.16.32.0/20",
        "reviewsVersions": ["v1"],
    }
    grown = members(OfflineEngine().run("two-cluster-retention", {"clusters": [*clusters, third]}))
    assert {k: v for k, v in grown.items() if k != "mesh1-member-m1c3"} == members(asm)
    assert grown["mesh1-member-m1c3"]["cluster_id"] == "m1c3-cluster-id"


def test_istio_objects_reach_asm_through_its_public_kubeconfig(asm):
    """The provider's `kubeconfig` is the VPC-private one (DescribeServiceMeshKubeconfig with
    PrivateIpAddress=true): unreachable from a laptop or CI."""
    (kubeconfig,) = asm.of_type("pulumi-python:dynamic/asm:Kubeconfig")
    assert kubeconfig.inputs["private"] is False
    assert kubeconfig.options.additional_secret_outputs == ("kubeconfig",)
    provider = asm.named("mesh1-kubernetes")
    assert provider.inputs["kubeconfig"] == FAKE_ASM_PUBLIC_KUBECONFIG
    assert "kubeconfig" in provider.secret_inputs
    assert asm.outputs["meshKubeconfig"] == FAKE_ASM_PUBLIC_KUBECONFIG


def test_asm_minor_resolves_to_its_newest_release(engine):
    asm = engine.run(STACK)
    assert ("asm_versions", "us-west-1", "Pro") in engine.catalog.asked
    (mesh,) = asm.of_type(MESH)
    assert mesh.inputs["version"] == FAKE_ASM_VERSIONS[-1]
    assert asm.outputs["asmVersion"] == FAKE_ASM_VERSIONS[-1]


def test_asm_minor_it_does_not_offer_names_the_key_and_what_it_offers(engine):
    with pytest.raises(
        Exception, match=r"asm\.version = '1\.19': .*no 1\.19 release.*1\.25, 1\.26"
    ):
        engine.run(STACK, {"asm": {"version": "1.19"}})
    assert engine.monitor.recorded == []  # asked before anything was registered


def test_istio_objects_go_to_the_asm_api_server_and_workloads_to_the_clusters(asm):
    mesh_provider = asm.named("mesh1-kubernetes")
    assert mesh_provider.inputs["kubeconfig"] and "kubeconfig" in mesh_provider.secret_inputs
    assert all(r.provider_urn == mesh_provider.urn for r in asm.istio_objects())
    for name in ("m1c1", "m1c2"):
        workloads = on(asm, provider_of_cluster(asm, name), DEPLOYMENT)
        assert workloads and not [
            r for r in on(asm, provider_of_cluster(asm, name)) if ".istio.io/" in r.type
        ]


def test_mesh_wide_mtls_is_strict_through_the_asm_api_server(asm):
    mesh = asm.named("mesh1-kubernetes")
    policy = istio_object(asm, mesh, "PeerAuthentication", "default")
    assert policy.inputs["metadata"]["namespace"] == "istio-system"
    assert policy.inputs["spec"] == {"mtls": {"mode": "STRICT"}}
    assert asm.depends_on(policy, asm.of_type(MESH)[0])


@pytest.mark.parametrize(
    ("asm_config", "protected"), [({}, True), ({"deletionProtection": False}, False)]
)
def test_asm_instance_is_protected_unless_configured_otherwise(engine, asm_config, protected):
    (mesh,) = engine.run(STACK, {"asm": asm_config}).of_type(MESH)
    assert mesh.options.protect is protected


def test_seed_routing_objects_exactly(asm):
    mesh = asm.named("mesh1-kubernetes")
    gateway = istio_object(asm, mesh, "Gateway", "bookinfo-gateway")
    service = istio_object(asm, mesh, "VirtualService", "bookinfo-cluster-local")
    rule = istio_object(asm, mesh, "DestinationRule", "productpage-cluster-local")
    assert gateway.inputs["spec"] == SEED_GATEWAY
    assert service.inputs["spec"] == SEED_VIRTUAL_SERVICE
    assert rule.inputs["spec"] == SEED_DESTINATION_RULE
    assert {r.inputs["metadata"]["namespace"] for r in (gateway, service, rule)} == {"bookinfo"}


def test_ingress_gateway_runs_in_m1c1_only_behind_the_stack_clb(asm):
    (gateway,) = asm.of_type("kubernetes:istio.alibabacloud.com/v1beta1:IstioGateway")
    spec = gateway.inputs["spec"]
    assert gateway.inputs["metadata"]["name"] == "ingressgateway"  # label istio: ingressgateway
    assert gateway.inputs["metadata"]["namespace"] == "istio-system"
    assert spec["clusterIds"] == ["m1c1-cluster-id"]
    # Applied to the ASM API server, through a provider that exists only once the mesh does.
    mesh_provider = asm.named("mesh1-kubernetes")
    assert gateway.provider_urn == mesh_provider.urn
    assert asm.depends_on(mesh_provider, asm.of_type(MESH)[0])
    (clb,) = asm.of_type("alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer")
    annotations = spec["serviceAnnotations"]
    assert (
        annotations["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id"] == f"{clb.name}-id"
    )
    assert clb.inputs["addressType"] == "internet"
    assert asm.outputs["ingressGatewayAddress"] == FAKE_CLB_IP
    assert asm.outputs["productpageUrls"] == {
        "m1c1": f"http://{FAKE_CLB_IP}/productpage1",
        "m1c2": f"http://{FAKE_CLB_IP}/productpage2",
    }


def test_reviews_is_retained_through_source_based_routes(asm):
    mesh = asm.named("mesh1-kubernetes")
    routes = istio_object(asm, mesh, "VirtualService", "reviews-cluster-local").inputs["spec"]
    assert routes == {
        "hosts": ["reviews"],
        "http": [
            {
                "match": [{"sourceLabels": {"cluster": c}}],
                "route": [{"destination": {"host": "reviews", "subset": c}}],
            }
            for c in ("m1c1", "m1c2")
        ],
    }
    subsets = istio_object(asm, mesh, "DestinationRule", "reviews-cluster-local").inputs["spec"]
    assert subsets["subsets"] == [{"name": c, "labels": {"cluster": c}} for c in ("m1c1", "m1c2")]


@pytest.mark.parametrize(
    ("services", "retained"),
    [([], set()), (["reviews"], {"reviews"}), (["*"], {"details", "reviews", "ratings"})],
)
def test_retention_rules_exist_for_the_configured_services_only(engine, services, retained):
    declared = engine.run(STACK, {"retention": {"services": services}})
    routes = {
        r.inputs["metadata"]["name"].removesuffix("-cluster-local")
        for r in declared.of_type("kubernetes:networking.istio.io/v1:VirtualService")
        if r.inputs["spec"]["hosts"] != ["*"]
    }
    rules = {
        r.inputs["metadata"]["name"].removesuffix("-cluster-local")
        for r in declared.of_type("kubernetes:networking.istio.io/v1:DestinationRule")
    }
    assert routes == retained
    assert rules == retained | {"productpage"}  # productpage's is the seed's own


def test_bookinfo_variants_per_cluster(asm):
    for name, reviews in (("m1c1", {"reviews-v1"}), ("m1c2", {"reviews-v2"})):
        deployments = on(asm, provider_of_cluster(asm, name), DEPLOYMENT)
        names = {d.inputs["metadata"]["name"] for d in deployments}
        assert names == {"details-v1", "ratings-v1", "productpage-v1"} | reviews
        for deployment in deployments:
            assert deployment.inputs["metadata"]["labels"]["cluster"] == name
            assert deployment.inputs["spec"]["template"]["metadata"]["labels"]["cluster"] == name


def test_app_namespace_is_injected_in_both_clusters_and_exists_in_asm(asm):
    namespaces = [
        r
        for r in asm.of_type("kubernetes:core/v1:Namespace")
        if r.inputs["metadata"]["name"] == "bookinfo"
    ]
    providers = {asm.by_urn(n.provider_urn).name for n in namespaces}
    assert providers == {"m1c1-kubernetes", "m1c2-kubernetes", "mesh1-kubernetes"}
    assert all(n.inputs["metadata"]["labels"]["istio-injection"] == "enabled" for n in namespaces)


def test_workloads_wait_for_the_mesh(asm):
    (mesh,) = asm.of_type(MESH)
    assert all(asm.depends_on(d, mesh) for d in asm.of_type(DEPLOYMENT))
    assert all(asm.depends_on(o, mesh) for o in asm.istio_objects())


def test_workloads_wait_until_their_own_cluster_injects_sidecars(asm):
    """The provider waits for the ASM instance to be running, not for each member's injector
    (FACTS: servicemesh Create/Update wait on the instance state only): each cluster's
    Deployments wait for a Job proving a pod there would get its sidecar, which itself
    waits for the ASM instance and the injected namespace."""
    (mesh,) = asm.of_type(MESH)
    for name in ("m1c1", "m1c2"):
        provider = provider_of_cluster(asm, name)
        job = asm.named(f"{name}-injection-job")
        assert job.provider_urn == provider.urn
        namespace = asm.named(f"{name}-bookinfo-namespace")
        assert mesh.urn in asm.upstream(job) and namespace.urn in asm.upstream(job)
        env = {
            e["name"]: e["value"]
            for e in job.manifest["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["NAMESPACE"] == "bookinfo"
        deployments = on(asm, provider, DEPLOYMENT)
        assert deployments and all(job.urn in asm.upstream(d) for d in deployments), name
        # It dry-run-creates pods in that namespace; nothing else.
        (role,) = on(asm, provider, "kubernetes:rbac.authorization.k8s.io/v1:Role")
        assert role.manifest["rules"] == [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}
        ]
        assert role.manifest["metadata"]["namespace"] == "bookinfo"


def test_credentials_are_secret(asm):
    assert asm.secret_outputs == {"kubeconfigs", "meshKubeconfig", "nodeLoginKeys"}
    assert set(asm.outputs["kubeconfigs"]) == {"m1c1", "m1c2"}


# --- self-managed Istio (multi-primary) -------------------------------------------------


def test_istiod_in_every_cluster_as_multi_primary_on_one_network(istio):
    istiods = [r for r in istio.of_type(RELEASE) if r.inputs["chart"] == "istiod"]
    assert len(istiods) == 2
    seen = set()
    for release in istiods:
        values = release.inputs["values"]
        cluster = values["global"]["multiCluster"]["clusterName"]
        seen.add(cluster)
        assert release.provider_urn == provider_of_cluster(istio, cluster).urn
        assert values["global"]["meshID"] == "mesh1"
        assert values["global"]["network"] == "mesh1-network"
        assert values["meshConfig"]["serviceSettings"] == [
            {"settings": {"clusterLocal": True}, "hosts": ["reviews.bookinfo.svc.cluster.local"]}
        ]
    assert seen == {"m1c1", "m1c2"}


def test_ingress_gateway_is_installed_in_m1c1_only(istio):
    gateways = [r for r in istio.of_type(RELEASE) if r.inputs["name"] == "istio-ingressgateway"]
    assert [istio.by_urn(g.provider_urn).name for g in gateways] == ["m1c1-kubernetes"]
    assert istio.outputs["productpageUrls"]["m1c2"] == f"http://{FAKE_LB_IP}/productpage2"


def test_one_root_of_trust_with_an_intermediate_per_cluster(istio):
    (root,) = istio.of_type("tls:index/selfSignedCert:SelfSignedCert")
    assert root.inputs["isCaCertificate"] is True
    intermediates = istio.of_type("tls:index/locallySignedCert:LocallySignedCert")
    assert len(intermediates) == 2
    assert all(i.inputs["caCertPem"] == f"-----FAKE CERT {root.name}-----\n" for i in intermediates)
    assert all(
        i.inputs["isCaCertificate"] and i.inputs["maxPathLength"] == 0 for i in intermediates
    )
    cacerts = [s for s in istio.of_type(SECRET) if s.inputs["metadata"]["name"] == "cacerts"]
    assert len(cacerts) == 2
    for secret in cacerts:
        files = secret.inputs["stringData"]
        assert set(files) == {"ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"}
        assert files["root-cert.pem"] == f"-----FAKE CERT {root.name}-----\n"
        assert files["cert-chain.pem"] == files["ca-cert.pem"] + files["root-cert.pem"]
        assert "stringData" in secret.secret_inputs
        istiod = next(
            r
            for r in istio.of_type(RELEASE)
            if r.inputs["chart"] == "istiod" and r.provider_urn == secret.provider_urn
        )
        assert istio.depends_on(istiod, secret)  # istiod reads its CA at start


def test_remote_secrets_in_both_directions(istio):
    remote = [
        s for s in istio.of_type(SECRET) if s.inputs["metadata"]["name"] == "istio-remote-secrets"
    ]
    assert len(remote) == 2
    for cluster, peer in (("m1c1", "m1c2"), ("m1c2", "m1c1")):
        (secret,) = [s for s in remote if s.provider_urn == provider_of_cluster(istio, peer).urn]
        assert secret.inputs["metadata"]["labels"] == {"istio/multiCluster": "true"}
        assert "stringData" in secret.secret_inputs
        # One key per cluster read: istiod takes each key of the Secret as a cluster.
        assert set(secret.inputs["stringData"]) == {cluster}
        kubeconfig = yaml.safe_load(secret.inputs["stringData"][cluster])
        assert kubeconfig["clusters"][0]["cluster"] == {
            "server": intranet_endpoint(cluster_named(istio, cluster).name),
            "certificate-authority-data": FAKE_CA_DATA,
        }
        assert kubeconfig["users"][0]["user"] == {"token": FAKE_READER_TOKEN}


def test_reader_token_waits_for_the_account_the_base_chart_creates(istio):
    tokens = [
        s
        for s in istio.of_type(SECRET)
        if s.inputs.get("type") == "kubernetes.io/service-account-token"
    ]
    assert len(tokens) == 2
    for token in tokens:
        assert token.inputs["metadata"]["annotations"] == {
            "kubernetes.io/service-account.name": "istio-reader-service-account"
        }
        base = next(
            r
            for r in istio.of_type(RELEASE)
            if r.inputs["chart"] == "base" and r.provider_urn == token.provider_urn
        )
        assert istio.depends_on(token, base)


def test_routing_objects_are_where_the_gateway_runs_without_rule_based_retention(istio):
    """Each istiod reads its own cluster's objects; only m1c1's ingress gateway routes."""
    for name, expected in (("m1c1", routing_objects(["m1c1", "m1c2"], {}, ())), ("m1c2", [])):
        provider = provider_of_cluster(istio, name)
        kinds = sorted(
            (r.inputs["kind"], r.inputs["metadata"]["name"])
            for r in on(istio, provider)
            if ".istio.io/" in r.type
            and r.inputs["kind"] not in {"PeerAuthentication", "AuthorizationPolicy"}
        )
        assert kinds == sorted(expected)


def test_istio_variant_has_no_asm(istio):
    assert not istio.of_type(MESH)
    assert istio.secret_outputs == {"kubeconfigs", "nodeLoginKeys"}
