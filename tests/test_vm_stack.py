"""The `vm` stack (seed 001): GKE, Istio with an east-west gateway, and a VM that joins."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from meshstack.istio import vm_files
from meshstack.istio.eastwest import eastwest_values
from meshstack.istio.values import IstioRelease
from meshstack.istio.vm_files import sidecar_package_url
from tests.schema.crd import crd_errors
from tools.offline.engine import Declared, Resource
from tools.offline.fakes import (
    FAKE_GKE_ENDPOINT,
    FAKE_INTERNAL_ADDRESS,
    FAKE_VM_IP,
)

STACK = "vm"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
INSTANCE = "gcp:compute/instance:Instance"
FIREWALL = "gcp:compute/firewall:Firewall"
RELEASE = "kubernetes:helm.sh/v3:Release"
MULTI_NETWORK = {"mesh": {"network": "network1"}, "vm": {"network": "vm-network"}}


@pytest.fixture
def vm(engine) -> Declared:
    return engine.run(STACK)


def istio_object(declared: Declared, kind: str, name: str) -> Resource:
    (found,) = [
        r
        for r in declared.istio_objects()
        if r.manifest["kind"] == kind and r.manifest["metadata"]["name"] == name
    ]
    return found


def release(declared: Declared, release_name: str) -> Resource:
    (found,) = [r for r in declared.of_type(RELEASE) if r.inputs["name"] == release_name]
    return found


def startup_script(declared: Declared) -> str:
    (instance,) = declared.of_type(INSTANCE)
    return instance.inputs["metadata"]["startup-script"]


# --- Google Cloud floor -------------------------------------------------------------------


def test_zonal_vpc_native_cluster_with_its_own_node_pool(vm):
    (cluster,) = vm.of_type(CLUSTER)
    (pool,) = vm.of_type(NODE_POOL)
    (subnet,) = vm.of_type("gcp:compute/subnetwork:Subnetwork")
    inputs = cluster.inputs
    assert inputs["location"] == "us-west1-b"
    assert inputs["removeDefaultNodePool"] is True and inputs["initialNodeCount"] == 1
    assert inputs["networkingMode"] == "VPC_NATIVE"
    assert inputs["releaseChannel"] == {"channel": "REGULAR"}
    assert inputs["deletionProtection"] is True
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in subnet.inputs["secondaryIpRanges"]}
    policy = inputs["ipAllocationPolicy"]
    assert ranges == {
        policy["clusterSecondaryRangeName"]: "10.20.0.0/14",
        policy["servicesSecondaryRangeName"]: "10.24.0.0/20",
    }
    location = "projects/fake-project/locations/us-west1-b"
    assert pool.inputs["cluster"] == f"{location}/clusters/{inputs['name']}"
    assert pool.inputs["nodeCount"] == 2
    assert pool.inputs["nodeConfig"]["machineType"] == "e2-standard-4"
    assert pool.inputs["nodeConfig"]["tags"] == ["istio-vm-lab-node"]


def test_nodes_are_private_and_run_as_their_own_least_privileged_account(vm):
    """No external IPs (egress through Cloud NAT), not the Compute Engine default account
    (CIS GKE 5.2.1): an account of their own with GKE's node role only."""
    (cluster,) = vm.of_type(CLUSTER)
    (pool,) = vm.of_type(NODE_POOL)
    assert cluster.inputs["privateClusterConfig"] == {"enablePrivateNodes": True}
    assert "enablePrivateEndpoint" not in cluster.inputs["privateClusterConfig"]  # kubectl
    assert "masterAuthorizedNetworksConfig" not in cluster.inputs  # any address, by default
    assert cluster.inputs["enableShieldedNodes"] is True
    account = vm.named("istio-vm-lab-node-sa").inputs
    assert account["accountId"] == "istio-vm-lab-nodes"
    node_config = pool.inputs["nodeConfig"]
    assert node_config["serviceAccount"] == (
        "istio-vm-lab-nodes@fake-project.iam.gserviceaccount.com"
    )
    assert node_config["shieldedInstanceConfig"]["enableSecureBoot"] is True
    roles = [
        r.inputs
        for r in vm.of_type("gcp:projects/iAMMember:IAMMember")
        if "istio-vm-lab-nodes@" in r.inputs["member"]
    ]
    assert roles == [
        {
            "project": "fake-project",
            "role": "roles/container.defaultNodeServiceAccount",
            "member": "serviceAccount:istio-vm-lab-nodes@fake-project.iam.gserviceaccount.com",
        }
    ]
    assert vm.named("istio-vm-lab-node-role").urn in vm.upstream(pool)
    (nat,) = vm.of_type("gcp:compute/routerNat:RouterNat")
    assert nat.inputs["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"


def test_the_control_plane_can_be_limited_to_authorised_networks(engine):
    cluster = engine.run(
        STACK, {"cluster": {"authorizedNetworks": ["198.51.100.0/24"], "deletionProtection": False}}
    ).of_type(CLUSTER)[0]
    assert cluster.inputs["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [
            {"cidrBlock": "198.51.100.0/24", "displayName": "meshstack cluster.authorizedNetworks"}
        ],
        "gcpPublicCidrsAccessEnabled": False,
    }


def test_every_kubernetes_object_goes_through_the_gke_provider(vm):
    # What runs pods waits for the node pool: tests/test_invariants.py.
    provider = vm.named("istio-vm-lab-kubernetes")
    kube = [r for r in vm if r.type.startswith("kubernetes:") and r.custom]
    assert kube and {r.provider_urn for r in kube} == {provider.urn}


def test_kubeconfig_is_built_from_the_cluster_and_secret(vm):
    assert "kubeconfig" in vm.secret_outputs
    kubeconfig = yaml.safe_load(vm.outputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{FAKE_GKE_ENDPOINT}"
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert "kubeconfig" in vm.named("istio-vm-lab-kubernetes").secret_inputs


def test_project_apis_come_first_and_stay_enabled(vm):
    services = vm.of_type("gcp:projects/service:Service")
    assert {s.inputs["service"] for s in services} == {
        "compute.googleapis.com",
        "container.googleapis.com",
        "iam.googleapis.com",
        # The node account's project role goes through the project's IAM policy.
        "cloudresourcemanager.googleapis.com",
        "secretmanager.googleapis.com",
    }
    assert all(s.inputs["disableOnDestroy"] is False for s in services)
    (cluster,) = vm.of_type(CLUSTER)
    assert vm.depends_on(cluster, vm.named("apis-container"))
    role = vm.named("istio-vm-lab-node-role")
    assert {vm.named("apis-iam").urn, vm.named("apis-cloudresourcemanager").urn} <= (
        vm.upstream(role)
    )


def test_every_google_service_account_waits_for_the_iam_api(vm):
    """Service accounts are created through iam.googleapis.com: on a fresh project the create
    fails until the API is enabled (the node's, the VM's and the token relay writer's)."""
    accounts = vm.of_type("gcp:serviceaccount/account:Account")
    assert {a.name for a in accounts} >= {"vm-token-writer", "hello-vm-1-sa"}
    for account in accounts:
        assert vm.depends_on(account, vm.named("apis-iam")), account.name


# --- Istio and the east-west gateway ------------------------------------------------------


def test_istiod_carries_mesh_id_cluster_name_and_network(vm):
    values = release(vm, "istiod").inputs["values"]
    assert values["global"]["meshID"] == "mesh1"
    assert values["global"]["multiCluster"] == {"clusterName": "Kubernetes"}
    assert values["global"]["network"] == ""
    assert values["pilot"]["env"] == {
        "PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION": "true",
        "PILOT_ENABLE_WORKLOAD_ENTRY_HEALTHCHECKS": "true",
        # The plugged-in CA's root can be rotated (docs/day-2.md, Root CA rotation).
        "ISTIO_MULTIROOT_MESH": "true",
    }
    assert "profile" not in values  # seed 001: Istio's default profile


def test_plug_in_ca_is_in_place_before_istiod(vm):
    cacerts = vm.named("istio-cacerts")
    assert cacerts.inputs["metadata"]["name"] == "cacerts"
    assert vm.depends_on(release(vm, "istiod"), cacerts)


def test_eastwest_gateway_is_the_scripts_gateway_on_an_internal_address(vm):
    gateway = release(vm, "istio-eastwestgateway")
    values = gateway.inputs["values"]
    assert gateway.inputs["chart"] == "gateway"
    assert values["labels"] == {"istio": "eastwestgateway", "app": "istio-eastwestgateway"}
    assert values["service"]["ports"] == [
        {"name": "status-port", "port": 15021, "targetPort": 15021},
        {"name": "tls", "port": 15443, "targetPort": 15443},
        {"name": "tls-istiod", "port": 15012, "targetPort": 15012},
        {"name": "tls-webhook", "port": 15017, "targetPort": 15017},
    ]
    assert values["service"]["annotations"] == {"networking.gke.io/load-balancer-type": "Internal"}
    assert values["service"]["loadBalancerIP"] == FAKE_INTERNAL_ADDRESS
    assert "networkGateway" not in values  # one network (seed 001)
    assert vm.depends_on(gateway, release(vm, "istiod"))
    (address,) = vm.of_type("gcp:compute/address:Address")
    assert address.inputs["addressType"] == "INTERNAL"


def test_istiod_is_exposed_as_upstream(vm, istio_reference):
    upstream = list(
        yaml.safe_load_all((istio_reference / "multicluster" / "expose-istiod.yaml").read_text())
    )
    for document in upstream:
        ours = istio_object(vm, document["kind"], document["metadata"]["name"])
        assert ours.manifest["spec"] == document["spec"]
        assert ours.manifest["apiVersion"] == document["apiVersion"]
        assert ours.manifest["metadata"]["namespace"] == "istio-system"
        assert vm.depends_on(ours, release(vm, "istiod"))
    names = {r.manifest["metadata"]["name"] for r in vm.istio_objects()}
    assert "cross-network-gateway" not in names


def test_multi_network_adds_the_network_gateway_and_cross_network_exposure(engine, istio_reference):
    declared = engine.run(STACK, MULTI_NETWORK)
    (upstream,) = yaml.safe_load_all(
        (istio_reference / "multicluster" / "expose-services.yaml").read_text()
    )
    ours = istio_object(declared, "Gateway", "cross-network-gateway")
    assert ours.manifest["spec"] == upstream["spec"]
    values = release(declared, "istio-eastwestgateway").inputs["values"]
    assert values["networkGateway"] == "network1"
    # The Service takes the chart's network-gateway ports; its NetworkPolicy only these.
    assert [p["port"] for p in values["service"]["ports"]] == [15021, 15443, 15012, 15017]
    # Without policies the chart would ignore them (tests/test_helm_releases.py: no ignored key).
    unpoliced = eastwest_values(IstioRelease(network_policies=False), "network1", {}, None)
    assert "ports" not in unpoliced["service"]
    namespace = declared.named("istio-namespace").inputs["metadata"]
    assert namespace["labels"] == {"topology.istio.io/network": "network1"}
    entry = istio_object(declared, "WorkloadEntry", "hello-vm").manifest["spec"]
    assert entry["network"] == "vm-network"
    assert "ISTIO_META_NETWORK='vm-network'" in startup_script(declared)


# --- the VM -------------------------------------------------------------------------------


def test_workload_entry_address_is_the_instance_internal_ip(vm):
    entry = istio_object(vm, "WorkloadEntry", "hello-vm")
    (instance,) = vm.of_type(INSTANCE)
    assert entry.manifest["spec"] == {
        "serviceAccount": "vm-sa",
        "address": FAKE_VM_IP,
        "labels": {"app": "hello-vm", "instance-id": "vm1"},
    }
    assert entry.manifest["metadata"]["namespace"] == "vm-namespace"
    assert instance.urn in entry.dependencies
    assert vm.outputs["vmInternalIp"] == FAKE_VM_IP


def test_vm_objects_are_the_seeds(vm):
    group = istio_object(vm, "WorkloadGroup", "hello-vm").manifest["spec"]
    assert group == {
        "metadata": {"labels": {"app": "hello-vm"}},
        "template": {"serviceAccount": "vm-sa"},
        # The VM's page on its port (WorkloadGroup spec.probe, run by the VM's proxy).
        "probe": {
            "httpGet": {"path": "/", "port": 80},
            "periodSeconds": 10,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        },
    }
    service_entry = istio_object(vm, "ServiceEntry", "hello-vm").manifest["spec"]
    assert service_entry == {
        "hosts": ["hello-vm"],
        "location": "MESH_INTERNAL",
        "ports": [{"number": 80, "name": "http", "protocol": "HTTP", "targetPort": 80}],
        "resolution": "STATIC",
        "workloadSelector": {"labels": {"app": "hello-vm"}},
    }
    service = vm.named("vm-workload-service").manifest
    assert service["spec"]["ports"] == [{"name": "http-vm", "port": 80, "targetPort": 80}]
    assert service["spec"]["selector"] == {"app": "hello-vm"}
    assert vm.named("vm-workload-namespace").inputs["metadata"]["name"] == "vm-namespace"
    assert vm.named("vm-workload-service-account").inputs["metadata"]["name"] == "vm-sa"


def test_vm_boot_script_installs_the_mesh_version_and_trusts_the_mesh_root(vm):
    script = startup_script(vm)
    assert f"PACKAGE_URL={sidecar_package_url('1.31.0')}" in script
    assert "-----FAKE CERT mesh-ca-root-cert-----" in script
    assert f"{FAKE_INTERNAL_ADDRESS} istiod.istio-system.svc" in script
    assert "ISTIO_META_MESH_ID='mesh1'" in script
    assert "ISTIO_META_CLUSTER_ID='Kubernetes'" in script


def test_vm_is_created_alongside_the_cluster_not_after_it(vm):
    (instance,) = vm.of_type(INSTANCE)
    (cluster,) = vm.of_type(CLUSTER)
    assert not vm.depends_on(instance, cluster)
    assert not vm.depends_on(instance, vm.named("istio-vm-lab-kubernetes"))


def test_vm_has_no_public_address_and_its_own_identity(vm):
    (instance,) = vm.of_type(INSTANCE)
    (interface,) = instance.inputs["networkInterfaces"]
    assert "accessConfigs" not in interface
    account = vm.named("hello-vm-1-sa")
    assert instance.inputs["serviceAccount"]["email"].startswith(account.inputs["accountId"] + "@")
    assert instance.inputs["metadata"]["enable-oslogin"] == "TRUE"
    assert instance.inputs["shieldedInstanceConfig"]["enableSecureBoot"] is True


def test_no_audience_less_token_exists_and_none_passes_through_pulumi(vm):
    """Since Istio 1.22 istiod reviews CSR tokens for its audience istio-ca (kube_jwt.go): a
    legacy service-account-token Secret would never let the VM join."""
    kinds = {(r.type, r.inputs.get("type")) for r in vm.created}
    assert ("kubernetes:core/v1:Secret", "kubernetes.io/service-account-token") not in kinds
    assert not vm.of_type("gcp:secretmanager/secretVersion:SecretVersion")
    assert not [k for k in vm.outputs if "token" in k.lower()]
    vm_account = vm.named("vm-workload-service-account").inputs
    assert vm_account["automountServiceAccountToken"] is False  # no pod runs as the VM


def _relay_env(job: Resource) -> dict[str, str]:
    (container,) = job.manifest["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


def test_the_token_is_requested_for_istio_ca_with_a_bounded_life_and_renewed(vm):
    first = vm.named("vm-token-first-token")
    renewal = vm.named("vm-token-renewal").manifest["spec"]
    env = _relay_env(first)
    assert env["AUDIENCE"] == "istio-ca"
    assert (env["NAMESPACE"], env["SERVICE_ACCOUNT"]) == ("vm-namespace", "vm-sa")
    assert env["LIFETIME_SECONDS"] == str(24 * 3600)  # vm.tokenLifetimeHours
    # The secret's id as the provider gives it (projects/{project}/secrets/{secret_id}).
    assert env["SECRET"] == "projects/fake-project/secrets/hello-vm-1-istio-token"
    assert renewal["schedule"] == "17 */6 * * *"  # four renewals per lifetime
    assert renewal["concurrencyPolicy"] == "Forbid"
    assert renewal["jobTemplate"]["spec"]["template"] == first.manifest["spec"]["template"]
    # The relay talks to the Kubernetes and Google APIs; a sidecar would keep it from ending.
    assert first.manifest["spec"]["template"]["metadata"]["labels"]["sidecar.istio.io/inject"] == (
        "false"
    )


def test_the_relay_may_request_tokens_for_the_vm_account_only(vm):
    role = vm.named("vm-token-role").manifest
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["serviceaccounts/token"],
            "resourceNames": ["vm-sa"],
            "verbs": ["create"],
        }
    ]
    binding = vm.named("vm-token-binding").manifest
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "vm-sa-token-relay", "namespace": "vm-namespace"}
    ]
    pod = vm.named("vm-token-first-token").manifest["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "vm-sa-token-relay"
    # No other Role or ClusterRole in the stack grants anything to it.
    grants = [
        r
        for r in vm.created
        if r.type.startswith("kubernetes:rbac.authorization.k8s.io/v1:")
        and "vm-sa-token-relay" in str(r.inputs.get("subjects"))
    ]
    assert grants == [vm.named("vm-token-binding")]


def test_only_the_relay_writes_and_only_the_vm_reads_the_secret(vm):
    members = {
        r.inputs["role"]: r.inputs["member"]
        for r in vm.of_type("gcp:secretmanager/secretIamMember:SecretIamMember")
    }
    vm_email = (
        f"{vm.named('hello-vm-1-sa').inputs['accountId']}@fake-project.iam.gserviceaccount.com"
    )
    writer = vm.named("vm-token-writer").inputs["accountId"]
    assert members == {
        "roles/secretmanager.secretAccessor": f"serviceAccount:{vm_email}",
        # Adds, lists and destroys versions; cannot read them.
        "roles/secretmanager.secretVersionManager": (
            f"serviceAccount:{writer}@fake-project.iam.gserviceaccount.com"
        ),
    }
    federation = vm.named("vm-token-workload-identity").inputs
    assert federation["role"] == "roles/iam.workloadIdentityUser"
    assert federation["member"] == (
        "serviceAccount:fake-project.svc.id.goog[vm-namespace/vm-sa-token-relay]"
    )
    account = vm.named("vm-token-account").manifest
    assert account["metadata"]["annotations"] == {
        "iam.gke.io/gcp-service-account": f"{writer}@fake-project.iam.gserviceaccount.com"
    }


def test_the_first_token_waits_for_what_it_uses(vm):
    first = vm.named("vm-token-first-token")
    for needed in (
        "vm-token-binding",  # RBAC
        "vm-token-workload-identity",  # acting as the writer
        "vm-token-writes",  # the writer's role on the secret
        "vm-workload-service-account",  # the account whose token it requests
        "istio-vm-lab-nodes",  # nodes running the GKE metadata server
    ):
        assert vm.named(needed).urn in vm.upstream(first), needed
    (cluster,) = vm.of_type(CLUSTER)
    assert cluster.inputs["workloadIdentityConfig"] == {"workloadPool": "fake-project.svc.id.goog"}
    pool = vm.named("istio-vm-lab-nodes").inputs["nodeConfig"]
    assert pool["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


def test_the_vm_reads_its_token_without_gcloud(vm):
    script = startup_script(vm)
    # gcloud in command position anywhere (the image may not have it).
    assert not re.search(r"(^|[;&|(`]|\$\()\s*gcloud\s", script, re.M)
    assert "python3 /usr/local/lib/meshstack/secret_reader_vm.py hello-vm-1-istio-token" in script
    secret_id = vm.named("vm-token-secret").inputs["secretId"]
    assert secret_id == "hello-vm-1-istio-token"


# --- firewall and the sample app -----------------------------------------------------------


def rules(declared: Declared) -> dict[str, dict]:
    return {
        r.inputs["name"].removeprefix("istio-vm-lab-"): r.inputs for r in declared.of_type(FIREWALL)
    }


def test_firewall_opens_only_what_the_mesh_needs(vm):
    found = rules(vm)
    assert found["mesh-to-vm"]["sourceRanges"] == ["10.20.0.0/14"]
    assert found["mesh-to-vm"]["allows"] == [{"protocol": "tcp", "ports": ["80"]}]
    assert found["mesh-to-vm"]["targetTags"] == ["hello-vm-1"]
    assert found["vm-to-mesh"]["sourceTags"] == ["hello-vm-1"]
    assert found["vm-to-mesh"]["targetTags"] == ["istio-vm-lab-node"]
    assert found["ssh-to-vm"]["sourceRanges"] == ["35.235.240.0/20"]
    assert found["ssh-to-vm"]["allows"] == [{"protocol": "tcp", "ports": ["22"]}]
    for rule in found.values():
        assert "0.0.0.0/0" not in rule.get("sourceRanges", [])
        assert rule.get("sourceRanges") or rule.get("sourceTags")


def test_no_ssh_rule_unless_configured(engine):
    declared = engine.run(STACK, {"vm": {"sshSourceRanges": []}})
    assert set(rules(declared)) == {"istiod-webhooks", "mesh-to-vm", "vm-to-mesh"}


def test_hello_world_runs_injected_in_default(vm):
    patch = vm.named("hello-world-namespace")
    assert patch.type == "kubernetes:core/v1:NamespacePatch"
    assert patch.inputs["metadata"] == {"name": "default", "labels": {"istio-injection": "enabled"}}
    deployment = vm.named("hello-world-deployment")
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "gcr.io/tetratelabs/hello-world:1.0.0"
    assert container["ports"] == [{"containerPort": 3000}]
    assert vm.depends_on(deployment, release(vm, "istiod"))
    service = vm.named("hello-world-service").manifest["spec"]
    assert service["ports"] == [{"name": "http", "port": 80, "targetPort": 3000}]


def test_outputs_say_how_to_check_both_directions(vm):
    assert vm.outputs["vmName"] == "hello-vm-1"
    assert "curl -sS http://hello-vm.vm-namespace" in vm.outputs["checkPodToVm"]
    assert "curl -sS http://hello-world.default" in vm.outputs["checkVmToPod"]
    assert vm.outputs["eastWestGatewayAddress"] == FAKE_INTERNAL_ADDRESS


def test_a_revisioned_istiod_is_what_the_vm_and_gateway_point_at(engine):
    declared = engine.run(STACK, {"istio": {"revision": "canary"}})
    script = startup_script(declared)
    assert f"{FAKE_INTERNAL_ADDRESS} istiod-canary.istio-system.svc" in script
    assert "CA_ADDR='istiod-canary.istio-system.svc:15012'" in script
    route = istio_object(declared, "VirtualService", "istiod-vs").manifest["spec"]["tls"][0]
    assert (
        route["route"][0]["destination"]["host"] == "istiod-canary.istio-system.svc.cluster.local"
    )


def test_hello_world_in_its_own_namespace_creates_it(engine):
    declared = engine.run(STACK, {"helloWorld": {"namespace": "hello"}})
    namespace = declared.named("hello-world-namespace")
    assert namespace.type == "kubernetes:core/v1:Namespace"
    assert namespace.inputs["metadata"] == {
        "name": "hello",
        "labels": {"istio-injection": "enabled"},
    }
    assert "hello-world.hello" in declared.outputs["checkVmToPod"]


def test_the_entry_takes_the_probes_health_reports(vm):
    entry = istio_object(vm, "WorkloadEntry", "hello-vm").manifest["metadata"]
    # pilot/pkg/model/status/workloadentry.go: health reports of a declared entry.
    assert entry["annotations"] == {"proxy.istio.io/health-checks-enabled": "true"}
    assert "ISTIO_META_WORKLOAD_ENTRY='hello-vm'" in startup_script(vm)


def test_the_running_vm_reads_the_files_its_boot_script_wrote(vm):
    (instance,) = vm.of_type(INSTANCE)
    current = json.loads(instance.inputs["metadata"]["meshstack-mesh-files"])
    assert set(current) == {
        vm_files.ROOT_CERT_PATH,
        vm_files.CLUSTER_ENV_PATH,
        vm_files.MESH_CONFIG_PATH,
        vm_files.HOSTS_ADDENDUM,
    }
    script = startup_script(vm)
    for path, content in current.items():
        # The same content, written at boot (a heredoc per file).
        assert f"cat > {path} <<'{vm_files.HEREDOC_END}'\n{content}" in script, path
    # The timer's command reads that key from the metadata server.
    assert (
        'curl -fsS -H "Metadata-Flavor: Google" '
        "http://metadata.google.internal/computeMetadata/v1/instance/attributes/"
        "meshstack-mesh-files" in script
    )


def test_the_probe_is_what_the_workload_group_crd_accepts(vm, istio_crds):
    """networking.istio.io WorkloadGroup spec.probe in the pinned Istio's CRDs
    (charts/base/files/crd-all.gen.yaml): the declared probe passes, a misspelt one fails."""
    group = istio_object(vm, "WorkloadGroup", "hello-vm").manifest
    assert crd_errors(group, istio_crds) == []
    misspelt = copy.deepcopy(group)
    misspelt["spec"]["probe"]["httpget"] = misspelt["spec"]["probe"].pop("httpGet")
    assert crd_errors(misspelt, istio_crds)
    port = copy.deepcopy(group)
    port["spec"]["probe"]["httpGet"]["port"] = "http"  # an integer (its range is a CEL rule)
    assert crd_errors(port, istio_crds)
