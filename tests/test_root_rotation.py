"""Root CA rotation as a plan (issue #32 item 2): roots named in `trust.roots`, intermediates
keyed by their signing root, each `up` one step (add → switch → drop) gated by a Job per
cluster that istiod serves the whole bundle, and intermediates renewed before they expire."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pulumi
import pytest

from meshstack.istio import trust_check_job
from meshstack.istio.trust import cacerts_files, expiring
from meshstack.istio.trust_names import name_clashes
from stacks.config import ConfigError
from stacks.scenarios.assembly import still_valid
from tools.offline.fakes import FAKE_CERT_END

STACK = "multi-primary"
CLUSTERS = ("ack-west", "gke-west")
ONE_ROOT = {"trust": {"roots": ["root"], "signingRoot": "root"}}
ADDED = {"roots": ["root", "r2"], "signingRoot": "root"}
SWITCHED = {"roots": ["root", "r2"], "signingRoot": "r2"}


def trusting(trust: dict) -> dict:
    return {"istio": {"revisions": ["default"]}, "trust": trust}


def refusal(engine, before: dict, trust: dict, stack: str = STACK) -> str:
    engine.state.record = before
    with pytest.raises(ConfigError) as caught:
        engine.run(stack, {"trust": trust})
    assert not engine.monitor.recorded  # refused before anything, the providers included
    return str(caught.value)


# --- pure helpers ---------------------------------------------------------------------------


def test_cacerts_trust_the_bundle_and_chain_to_the_signing_root():
    files = cacerts_files("INT", "KEY", "R2R1", "R2")
    assert files == {
        "ca-cert.pem": "INT",
        "ca-key.pem": "KEY",
        "root-cert.pem": "R2R1",
        "cert-chain.pem": "INTR2",
    }


def test_names_that_would_clash_are_found():
    assert name_clashes(["east", "west"], ["root", "r2"]) == []
    # A cluster named `root` shares the default root's names (mesh-ca-root-key).
    assert name_clashes(["root"], ["root"]) == ["root"]
    assert name_clashes(["a", "a-b"], ["root", "b"]) == ["a-b"]


def test_certificates_close_to_their_end_are_named():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    ends = {"root root": "2040-01-01T00:00:00Z", "intermediate of east": "2030-01-05T00:00:00Z"}
    assert expiring(ends, now, 7 * 24) == ["intermediate of east expires 2030-01-05T00:00:00Z"]
    assert expiring(ends, now, 24) == []


def test_up_fails_when_a_certificate_is_close_to_its_end():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    fresh = {"root root": FAKE_CERT_END}
    assert still_valid(fresh, now, 168) == fresh
    with pytest.raises(pulumi.RunError, match=r"trust.minValidityHours 168: root root expires"):
        still_valid({"root root": "2030-01-03T00:00:00Z"}, now, 168)


# --- the gate's script, run by the real Python ------------------------------------------------

R1 = "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n"
R2 = "-----BEGIN CERTIFICATE-----\nMIIC\nBBBB\n-----END CERTIFICATE-----\n"


def run_gate(tmp_path: Path, expected: str, served: str | None) -> subprocess.CompletedProcess:
    bundle = tmp_path / "root-cert.pem"
    if served is not None:
        bundle.write_text(served)
    env = {
        **os.environ,
        "EXPECTED": expected,
        "BUNDLE_FILE": str(bundle),
        "DEADLINE_SECONDS": "0",
        "CLUSTER": "east",
    }
    script = Path(trust_check_job.__file__)
    return subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
    )


def test_the_gate_passes_only_on_the_whole_bundle_in_order(tmp_path):
    assert run_gate(tmp_path, R1 + R2, R1 + "\n" + R2).returncode == 0
    old = run_gate(tmp_path, R1 + R2, R1)
    assert old.returncode == 1
    assert "1 of the 2 expected missing" in old.stderr
    switching = run_gate(tmp_path, R2 + R1, R1 + R2)
    assert "not yet the signing root first" in switching.stderr
    assert "not there yet" in run_gate(tmp_path / "none", R1, None).stderr


# --- the plan, offline ------------------------------------------------------------------------


def names(declared) -> set[str]:
    return {r.name for r in declared}


def test_one_default_root_keeps_the_names_and_declares_no_gate(engine):
    declared = engine.run(STACK)
    assert {"mesh-ca-root-key", "mesh-ca-root-cert"} <= names(declared)
    for cluster in CLUSTERS:
        assert {f"mesh-ca-{cluster}-key", f"mesh-ca-{cluster}-cert"} <= names(declared)
    assert not [n for n in names(declared) if "trust-check" in n]
    assert declared.outputs["deployed"]["trust"] == ONE_ROOT["trust"]
    assert declared.outputs["trustValidUntil"] == {
        "root root": FAKE_CERT_END,
        **{f"intermediate of {c}": FAKE_CERT_END for c in CLUSTERS},
    }
    for cert in declared.of_type("tls:index/locallySignedCert:LocallySignedCert"):
        assert cert.inputs["earlyRenewalHours"] == 720


def test_adding_a_root_trusts_both_everywhere_and_gates_every_cluster(engine):
    engine.state.record = trusting(ONE_ROOT["trust"])
    declared = engine.run(STACK, {"trust": ADDED})
    # The new root beside the old; intermediates still signed by the old one.
    assert {"mesh-ca-root-r2-key", "mesh-ca-root-r2-cert", "mesh-ca-root-cert"} <= names(declared)
    for cluster in CLUSTERS:
        assert f"mesh-ca-{cluster}-cert" in names(declared)
        assert f"mesh-ca-{cluster}-r2-cert" not in names(declared)
    bundle = "-----FAKE CERT mesh-ca-root-cert-----\n-----FAKE CERT mesh-ca-root-r2-cert-----\n"
    assert declared.outputs["rootCertPem"] == bundle
    for cluster in CLUSTERS:
        job = declared.named(f"{cluster}-trust-check-job")
        env = {
            e["name"]: e["value"]
            for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["EXPECTED"] == bundle
        # It waits for every primary's CA Secret and istiod, so it reads what they serve.
        for other in CLUSTERS:
            assert declared.depends_on(job, declared.named(f"{other}-istio-cacerts"))
            assert declared.depends_on(job, declared.named(f"{other}-istio-istiod"))
        volumes = job.inputs["spec"]["template"]["spec"]["volumes"]
        assert {
            "configMap": {"name": "istio-ca-root-cert", "optional": True},
            "name": "config-0",
        } in volumes
    # The record (the next step's judge) is written with `verified`, which holds the gates.
    assert declared.outputs["deployed"]["trust"] == ADDED
    assert {f"{c}-trust-check" for c in CLUSTERS} <= set(declared.outputs["verified"])


def test_switching_the_signing_root_creates_new_intermediates_by_name(engine):
    engine.state.record = trusting(ADDED)
    declared = engine.run(STACK, {"trust": SWITCHED})
    for cluster in CLUSTERS:
        assert {f"mesh-ca-{cluster}-r2-key", f"mesh-ca-{cluster}-r2-cert"} <= names(declared)
        assert f"mesh-ca-{cluster}-cert" not in names(declared)
        cert = declared.named(f"mesh-ca-{cluster}-r2-cert")
        assert cert.inputs["caCertPem"] == "-----FAKE CERT mesh-ca-root-r2-cert-----\n"
    # The signing root first: a reordered bundle makes istiod push it, and proxies re-sign.
    assert declared.outputs["rootCertPem"].startswith("-----FAKE CERT mesh-ca-root-r2-cert")


def test_dropping_the_old_root_after_the_switch_is_a_step(engine):
    engine.state.record = trusting(SWITCHED)
    declared = engine.run(STACK, {"trust": {"roots": ["r2"]}})
    assert "mesh-ca-root-cert" not in names(declared)
    assert declared.outputs["rootCertPem"] == "-----FAKE CERT mesh-ca-root-r2-cert-----\n"
    assert declared.outputs["deployed"]["trust"] == {"roots": ["r2"], "signingRoot": "r2"}


# --- refusals -----------------------------------------------------------------------------


def test_a_one_step_root_swap_is_refused(engine):
    message = refusal(engine, trusting(ONE_ROOT["trust"]), {"roots": ["r2"]})
    assert "meshstack:trust.roots ['r2']: the mesh trusts ['root']" in message
    assert "neither a subset nor a superset" in message


def test_signing_with_a_root_added_in_the_same_up_is_refused(engine):
    message = refusal(engine, trusting(ONE_ROOT["trust"]), SWITCHED)
    assert "meshstack:trust.signingRoot 'r2' is a root this `up` adds" in message


def test_dropping_the_signing_root_is_refused(engine):
    message = refusal(engine, trusting(ADDED), {"roots": ["r2"]})
    assert "meshstack:trust.roots drops 'root', the root that signs now" in message


@pytest.mark.parametrize(
    ("trust", "says"),
    [
        ({"roots": ["root", "r2"]}, "meshstack:trust.signingRoot is unset"),
        ({"roots": ["r2"], "signingRoot": "r3"}, "meshstack:trust.signingRoot 'r3' is not in"),
        ({"roots": ["r2", "r2"]}, "meshstack:trust.roots repeats ['r2']"),
        ({"minValidityHours": 800}, "meshstack:trust.minValidityHours 800 is not less than"),
    ],
)
def test_trust_config_mistakes_are_refused(engine, trust, says):
    assert says in refusal(engine, {}, trust)


def test_a_root_named_into_a_clusters_names_is_refused(engine):
    engine.state.record = {}
    with pytest.raises(ConfigError) as caught:
        engine.run("vm", {"mesh": {"clusterName": "root-r2"}, "trust": ADDED})
    assert "give two certificates the same resource name (root-r2)" in str(caught.value)


def test_several_roots_in_an_ambient_mesh_are_refused(engine):
    message = refusal(engine, {}, SWITCHED, stack="multi-primary-ambient")
    assert "meshstack:trust.roots ['root', 'r2'] in an ambient mesh" in message
    assert "istio/istio#47427" in message


def test_the_vm_trusts_the_same_bundle(engine):
    engine.state.record = trusting(ONE_ROOT["trust"])
    declared = engine.run("vm", {"trust": ADDED})
    bundle = declared.outputs["rootCertPem"]
    assert bundle.count("-----FAKE CERT") == 2
    # The VM's boot script carries it as /etc/certs/root-cert.pem.
    (instance,) = declared.of_type("gcp:compute/instance:Instance")
    assert bundle in instance.inputs["metadata"]["startup-script"]
    assert "trust-check" in set(declared.outputs["verified"])
