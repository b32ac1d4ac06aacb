"""Every stack verifies, in its clusters and as part of `pulumi up`, what its seed checks by
hand; each check waits for what it checks and for nothing else it could start without.
(The checks' script against recorded answers: tests/test_probe.py.)"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from meshstack.apps.bookinfo_checks import SEEN
from meshstack.apps.bookinfo_routing import routing_scenario
from meshstack.jobs import NO_SIDECAR
from meshstack.verify.mesh_check import STARTUP_SECONDS
from tools.offline.engine import Declared, Resource
from tools.stack_file import committed_stacks

CHECK = "meshstack:verify:MeshCheck"
JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
MTLS = "mTLS STRICT: productpage refuses a caller outside the mesh"
JASON_V2 = [
    "routing jason-v2: an anonymous user sees reviews v1",
    "routing jason-v2: jason sees reviews v2",
    MTLS,
]
# bookinfo.authorization default-deny (a new stack's default).
DENIED = "default-deny{}: an account productpage does not admit gets 403"
AUTHZ = {"bookinfo-authz-check": [DENIED.format("")]}
# The committed stacks: per check Job, the names of its checks.
DECLARED: dict[str, dict[str, list[str]]] = {
    "local": {"bookinfo-check": JASON_V2, **AUTHZ},
    "local-ambient": {"bookinfo-check": JASON_V2, **AUTHZ},
    "local-canary": {
        # And the mTLS check between revisions (tests/test_revision_mtls.py).
        "bookinfo-check": [
            *JASON_V2,
            "mTLS STRICT: hello-world on tag canary refuses a caller outside the mesh",
        ],
        "tag-canary-mtls-check": [
            "mTLS: a pod of revision 1-31-0 (tag canary) gets productpage of 1-30-3 (tag default)"
        ],
        "tag-canary-mtls-back-check": [
            "mTLS: a pod of revision 1-30-3 (tag default) gets hello-world of 1-31-0 (tag canary)"
        ],
        **AUTHZ,
    },
    "single-cluster": {"bookinfo-check": JASON_V2, **AUTHZ},
    "two-cluster-retention": {
        "bookinfo-check": [
            "/productpage1: m1c1's product page shows reviews v1 (retained in the cluster)",
            "/productpage2: m1c2's product page shows reviews v2 (retained in the cluster)",
            MTLS,
        ],
        **AUTHZ,
    },
    "vm": {
        "vm-check": ["hello-vm answers from the VM, through its Service, in the mesh"],
        "vm-plain-text-check": [
            "mTLS STRICT: hello-vm on the VM refuses a caller without a sidecar"
        ],
    },
    "multi-primary": {
        f"{cluster}-hello-world-check": [
            "hello-world answers from every cluster: ack-west, gke-west"
        ]
        for cluster in ("ack-west", "gke-west")
    },
    "multi-primary-ambient": {
        **{
            f"{cluster}-hello-world-check": [
                "hello-world answers from every cluster: ack-ambient, gke-ambient"
            ]
            for cluster in ("ack-ambient", "gke-ambient")
        },
        # Through the ingress in ack-ambient: jason's reviews v2 runs in gke-ambient only.
        "ack-ambient-bookinfo-check": [
            "routing jason-v2: an anonymous user sees reviews v1",
            "routing jason-v2: jason sees reviews v2",
        ],
        **{
            f"{cluster}-bookinfo-policy-check": [
                f"L7 policy in {cluster}: only productpage may GET reviews (others get 403)",
                DENIED.format(f" in {cluster}"),
            ]
            for cluster in ("ack-ambient", "gke-ambient")
        },
    },
    "tenancy": {
        "tenancy-blue-check": [
            "tenant blue: hello-world in blue-front answers its own tenant",
            "tenant blue: hello-world in blue-back answers its own tenant",
            "tenant blue -> tenant green (green), same control plane: 403 RBAC: access denied",
            "tenant blue -> tenant red (red), another control plane: 503",
        ],
        "tenancy-green-check": [
            "tenant green: hello-world in green answers its own tenant",
            "tenant green -> tenant blue (blue-front), same control plane: 403 RBAC: access denied",
            "tenant green -> tenant red (red), another control plane: 503",
        ],
        "tenancy-red-check": [
            "tenant red: hello-world in red answers its own tenant",
            "tenant red -> tenant blue (blue-front), another control plane: 503",
            "tenant red -> tenant green (green), another control plane: 503",
        ],
        "tenancy-outside-check": [
            "through the ingress gateway: /blue/ answers (tenant exposed)",
            "through the ingress gateway: /green/ has no route (tenant not exposed)",
            *(
                f"mTLS STRICT: tenant {tenant}'s hello-world in {namespace} refuses a caller "
                "outside the mesh"
                for tenant, namespace in (
                    ("blue", "blue-front"),
                    ("blue", "blue-back"),
                    ("green", "green"),
                    ("red", "red"),
                )
            ),
        ],
    },
    "primary-remote": {
        f"{cluster}-hello-world-check": [
            "hello-world answers from every cluster: gke-primary, gke-remote"
        ]
        for cluster in ("gke-primary", "gke-remote")
    },
    # From mesh-a's cluster, each caller of mesh-b's federated helloworld.
    "multi-mesh": {
        "ack-west-federated-caller-check": [
            "hello-world.sample.mesh-b.federation answers from mesh-b (gke-west)",
            "hello-world answers from every cluster: ack-west",
        ],
        "ack-west-other-caller-check": [
            "mesh-b's gateway refuses another account of mesh-a: RBAC: access denied"
        ],
        "ack-west-unrooted-caller-check": [
            "without mesh-b's root the call fails (the gateway is not trusted)"
        ],
    },
    "external-control-plane": {
        f"{cluster}-hello-world-check": [
            "hello-world answers from every cluster: gke-config, gke-remote",
            "the proxy holds a workload certificate of the mesh",
            "a route written to the config cluster sends /routed to gke-remote only",
        ]
        for cluster in ("gke-config", "gke-remote")
    },
}
# Gates other than MeshChecks, by stack: the Job in each remote of an external control plane
# that fails when an istiod runs there.
NO_ISTIOD = {
    "external-control-plane": {
        f"{cluster}-no-istiod": ["no istiod Deployment runs in the remote"]
        for cluster in ("gke-config", "gke-remote")
    }
}


def check_jobs(declared: Declared) -> dict[str, Resource]:
    """The verification Jobs, by their MeshCheck's name."""
    return {
        declared.by_urn(job.parent).name: job
        for job in declared.of_type(JOB)
        if declared.by_urn(job.parent).type == CHECK
    }


def env(job: Resource) -> dict[str, str]:
    (container,) = job.manifest["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


def checks(job: Resource) -> list[dict[str, Any]]:
    return json.loads(env(job)["CHECKS"])


def test_the_table_covers_every_committed_stack():
    assert set(DECLARED) == set(committed_stacks())


@pytest.mark.parametrize("stack", sorted(DECLARED))
def test_every_stack_declares_its_seeds_verification(engine, stack):
    declared = engine.run(stack)
    jobs = check_jobs(declared)
    assert {name: [c["name"] for c in checks(job)] for name, job in jobs.items()} == (
        DECLARED[stack]
    )
    # The output lists them, known once every Job has succeeded; with the gates of the
    # remote secrets' sync where istiod reads other clusters (tests/test_remote_credentials.py).
    synced = {
        name: proved
        for name, proved in declared.outputs["verified"].items()
        if name.startswith("membership-in-") and name.endswith("-synced")
    }
    gates = {k: v for k, v in declared.outputs["verified"].items() if k.endswith("-no-istiod")}
    assert gates == NO_ISTIOD.get(stack, {})
    assert {
        k: v for k, v in declared.outputs["verified"].items() if k not in synced | gates
    } == DECLARED[stack]
    assert bool(synced) == (stack in {"multi-primary", "multi-primary-ambient", "primary-remote"})


@pytest.mark.parametrize("stack", sorted(DECLARED))
def test_verification_can_be_switched_off(engine, stack):
    declared = engine.run(stack, {"verify": {"enabled": False}})
    assert check_jobs(declared) == {} and "verified" not in declared.outputs
    assert not declared.of_type(CHECK)


@pytest.mark.parametrize("stack", sorted(DECLARED))
def test_check_jobs_are_bounded_least_privileged_and_in_or_out_of_the_mesh(engine, stack):
    declared = engine.run(stack, {"verify": {"deadlineSeconds": 200}})
    for name, job in check_jobs(declared).items():
        spec = job.manifest["spec"]
        pod = spec["template"]
        # One pod: the script retries inside its deadline; the Job ends after it, and
        # pulumi-kubernetes waits past that, so that the script's verdict is what fails.
        assert spec["backoffLimit"] == 0 and env(job)["DEADLINE_SECONDS"] == "200"
        assert spec["activeDeadlineSeconds"] == 200 + STARTUP_SECONDS
        assert job.options.create_timeout == f"{200 + STARTUP_SECONDS + 60}s"
        # It calls services only: no Kubernetes token, its own service account.
        assert pod["spec"]["automountServiceAccountToken"] is False
        (account,) = [
            r
            for r in declared.of_type("kubernetes:core/v1:ServiceAccount")
            if r.parent == job.parent
        ]
        assert account.manifest["automountServiceAccountToken"] is False
        assert pod["spec"]["serviceAccountName"] == account.manifest["metadata"]["name"]
        in_mesh = env(job)["IN_MESH"] == "1"
        labels = pod["metadata"]["labels"]
        ambient = stack.endswith("-ambient")
        if in_mesh and ambient:
            # Its ambient namespace puts it in the mesh; a sidecar label would add one.
            assert not {"sidecar.istio.io/inject", "istio.io/dataplane-mode"} & set(labels)
        elif in_mesh and "istio.io/rev" in labels:
            if stack == "local-canary":
                # A revision tag's own pod (rev.object webhook): the mTLS check between revisions.
                assert labels["istio.io/rev"] == "canary", name
            else:
                # A tenant's own control plane (tenancy): its revision's injector.
                assert labels["istio.io/rev"] == name.split("-")[1], name
        elif in_mesh:
            # A pod's own request for the sidecar (charts/istiod mutatingwebhook.yaml).
            assert labels["sidecar.istio.io/inject"] == "true", name
        else:
            assert {k: labels[k] for k in NO_SIDECAR} == NO_SIDECAR, name
        # A check that calls the mesh from inside is a mesh workload; a plain-text check
        # must not be one, nor one that calls the ingress gateway as a client outside would.
        outside = all(
            c["name"].startswith("mTLS STRICT") or _through_ingress(c["url"]) for c in checks(job)
        )
        assert in_mesh == (not outside), name


# The ingress gateways' Services: Istio's chart release, ASM's, and the one Istio deploys
# for Bookinfo's Gateway API Gateway.
INGRESS_SERVICES = {"istio-ingressgateway", "bookinfo-gateway-istio"}


def _through_ingress(url: str) -> bool:
    return (urlsplit(url).hostname or "").split(".")[0] in INGRESS_SERVICES


def _upstream_named(declared: Declared, job: Resource) -> set[str]:
    return {declared.by_urn(urn).name for urn in declared.upstream(job)}


def test_the_bookinfo_check_waits_for_exactly_what_it_checks(engine):
    declared = engine.run("local")
    job = check_jobs(declared)["bookinfo-check"]
    upstream = _upstream_named(declared, job)
    deployments = {d.name for d in declared.of_type(DEPLOYMENT) if d.name.startswith("bookinfo-")}
    routing = {o.name for o in declared.istio_objects() if o.name.startswith("bookinfo-routing-")}
    assert deployments and routing
    assert deployments | routing <= upstream
    assert {"istio-ingress", "istio-peer-authentication"} <= upstream
    # Not the addons: the check proves routing and mTLS, not dashboards.
    addons = {r.name for r in declared if r.name.startswith("addons-")}
    assert addons and not addons & upstream


def test_the_two_cluster_check_runs_beside_the_gateway_after_both_clusters(engine):
    declared = engine.run("two-cluster-retention")
    job = check_jobs(declared)["bookinfo-check"]
    assert job.provider_urn == declared.named("m1c1-kubernetes").urn
    upstream = _upstream_named(declared, job)
    for cluster in ("m1c1", "m1c2"):
        assert {
            d.name for d in declared.of_type(DEPLOYMENT) if d.name.startswith(f"{cluster}-")
        } <= upstream
    routing = {o.name for o in declared.istio_objects() if o.name.startswith("bookinfo-routing-")}
    assert routing and routing | {"ingress-gateway", "mesh-mtls"} <= upstream
    # ASM names the gateway's Service istio-<name> in istio-system.
    assert {c["url"] for c in checks(job)} == {
        "http://istio-ingressgateway.istio-system/productpage1",
        "http://istio-ingressgateway.istio-system/productpage2",
        "http://productpage.bookinfo:9080/productpage",
    }


def test_without_retention_both_paths_may_show_every_cluster(engine):
    declared = engine.run("two-cluster-retention", {"retention": {"services": ["ratings"]}})
    paths = checks(check_jobs(declared)["bookinfo-check"])[:2]
    assert [c["expect"]["only"] for c in paths] == [["v1", "v2"], ["v1", "v2"]]


def test_the_vm_check_calls_the_vm_from_the_mesh_for_the_page_its_boot_script_writes(engine):
    declared = engine.run("vm")
    job = check_jobs(declared)["vm-check"]
    ((rule,),) = [c["classes"] for c in checks(job)]
    script = declared.named("hello-vm-1-instance").inputs["metadata"]["startup-script"]
    page = re.search(r"cat > /srv/hello-vm/index.html <<'(\w+)'\n(.*?)\n\1", script, re.DOTALL)
    assert page and re.fullmatch(rule["body"], page.group(2))
    assert checks(job)[0]["url"] == "http://hello-vm.vm-namespace/"
    upstream = _upstream_named(declared, job)
    assert {
        "hello-vm-1-instance",
        "vm-workload-workload-entry",
        "vm-token-first-token",
        "istio-vm-lab-mesh-to-vm",
    } <= upstream


@pytest.mark.parametrize("stack", ["multi-primary", "primary-remote"])
def test_each_cluster_checks_that_every_cluster_answers(engine, stack):
    declared = engine.run(stack)
    names = list(DECLARED[stack])
    clusters = [name.removesuffix("-hello-world-check") for name in names]
    for name, job in check_jobs(declared).items():
        cluster = name.removesuffix("-hello-world-check")
        assert job.provider_urn == declared.named(f"{cluster}-kubernetes").urn
        ((check,),) = [checks(job)]
        assert check["expect"] == {"only": clusters, "each": clusters}
        # After every cluster's instance and the way between clusters.
        upstream = _upstream_named(declared, job)
        assert {f"{c}-hello-world-deployment" for c in clusters} <= upstream
        assert {r.name for r in declared.of_type("kubernetes:core/v1:Secret")} & upstream
    # Istio's helloworld answers with SERVICE_VERSION (samples/helloworld/src/app.py) on
    # gunicorn's port 5000 (its Dockerfile): here, its cluster's name.
    for cluster in clusters:
        deployment = declared.named(f"{cluster}-hello-world-deployment")
        (container,) = deployment.manifest["spec"]["template"]["spec"]["containers"]
        assert container["env"] == [{"name": "SERVICE_VERSION", "value": cluster}]
        assert container["ports"] == [{"containerPort": 5000}]
        assert container["image"] == "docker.io/istio/examples-helloworld-v1:1.0"


def _reviews_for(scenario: str, jason: bool) -> dict[str, int]:
    """The reviews subsets the scenario's VirtualService sends a request to, with weights
    (bookinfo_routing.py's specs, read as Istio reads them: first matching rule)."""
    spec = routing_scenario(scenario).get("reviews")
    if spec is None:
        return {}
    for rule in spec["http"]:
        matches = rule.get("match")
        if matches and not (jason and any("end-user" in m.get("headers", {}) for m in matches)):
            continue
        return {r["destination"]["subset"]: r.get("weight", 100) for r in rule["route"]}
    raise AssertionError(f"no route for {scenario}")


@pytest.mark.parametrize("scenario", sorted(SEEN))
def test_what_each_scenario_should_show_follows_from_its_routes(scenario):
    seen = SEEN[scenario]
    anonymous = _reviews_for(scenario, jason=False)
    assert seen.anonymous == (tuple(sorted(anonymous)) or None)
    weights = {v: w / 100 for v, w in anonymous.items() if w < 100}
    assert dict(seen.shares) == {v: w for v, w in weights.items() if v != min(weights, default="")}
    faults = routing_scenario(scenario).get("ratings", {}).get("http", [{}])[0].get("fault")
    jason = _reviews_for(scenario, jason=True)
    if faults:
        # jason's reviews (v2) calls ratings with the fault: productpage shows the error.
        assert jason == {"v2": 100}
        label = "reviews unavailable" if "delay" in faults else "ratings unavailable"
        assert seen.jason == (label,)
    elif jason != anonymous:
        assert seen.jason == tuple(sorted(jason))
    else:
        assert seen.jason is None


def test_a_changed_scenario_replaces_the_check_so_it_runs_again(engine):
    before = check_jobs(engine.run("local"))["bookinfo-check"]
    after = check_jobs(engine.run("local", {"bookinfo": {"routing": "reviews-v3"}}))
    # A Job's pod template cannot change in place: pulumi-kubernetes replaces the Job.
    assert env(before)["CHECKS"] != env(after["bookinfo-check"])["CHECKS"]
    (only,) = [c["expect"]["only"] for c in checks(after["bookinfo-check"])[:1]]
    assert only == ["v3"]
