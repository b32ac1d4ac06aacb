"""The mTLS check between revisions side by side (docs/day-2.md "Revisions and tags"): a pod
injected by one revision and a pod injected by another talk over mTLS.

For each tag other than `default`, a namespace on that tag (`tag-<tag>`, labelled
`istio.io/rev=<tag>`) runs Istio's helloworld sample, whose answer names the revision its
pod was created for (SERVICE_VERSION: a moved tag changes it, so the Deployment rolls onto
the tag's new revision, as the package's own workloads do). Under mesh-wide STRICT mTLS:

- from a pod injected through that tag, productpage (Bookinfo, on `default`) answers its page;
- from a pod of Bookinfo's namespace (`default`), helloworld answers with its revision;
- from a pod outside the mesh, helloworld gives no answer (its proxy, of the tag's revision,
  enforces STRICT: the two answers above came over mTLS). This one is part of bookinfo-check.

A 503 from the caller's own proxy (a failed handshake) matches neither answer. Each check's
name names both revisions, so a tag's move replaces its Jobs and they run again; the
`deployed` record lists the pairs they proved (previous.py), which moving `default` needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from meshstack import versions
from meshstack.apps.bookinfo import PORT
from meshstack.apps.hello_world import (
    APP,
    SAMPLE_ANSWER,
    SAMPLE_HEALTH_PATH,
    SAMPLE_PATH,
    SAMPLE_PORT,
    SERVICE_PORT,
    HelloWorld,
    HelloWorldArgs,
)
from meshstack.apps.namespace import injected_namespace
from meshstack.hardening import pinned
from meshstack.istio.control_plane import IstioControlPlane
from meshstack.verify.checks import AnswerClass, Check, Expect, refused_in_plain_text
from meshstack.verify.mesh_check import MeshCheck
from stacks.config import MeshStack
from stacks.config.revisions import DEFAULT_TAG, revision_mtls_applies
from stacks.scenarios.verification import mesh_check

# Few calls: each proves the path, not a distribution.
SAMPLES = 3
# productpage's page, whatever reviews answered (bookinfo_checks.py: Istio's productpage).
PAGE = AnswerClass("productpage", status=200, body="Reviews served by:|Error fetching product")


# The Job (and its service account) in each tag's namespace that calls productpage.
CALLER_JOB = "mtls-check"


def tag_namespace(tag: str) -> str:
    return f"tag-{tag}"


def productpage_callers(config: MeshStack) -> list[str]:
    """The accounts (`<namespace>/<account>`) of the checks that call productpage from each
    tag's namespace, which Bookinfo's default-deny set admits (bookinfo_authz.Entrance)."""
    if not revision_mtls_applies(config):
        return []
    tags = dict(config.istio.tags or {})
    return [f"{tag_namespace(tag)}/{CALLER_JOB}" for tag in tags if tag != DEFAULT_TAG]


@dataclass(frozen=True)
class RevisionMtls:
    # Each tag's helloworld, and the out-of-mesh check of it (for bookinfo-check).
    servers: tuple[HelloWorld, ...]
    plain_text: tuple[Check, ...]
    # The in-mesh checks, two per tag.
    checks: tuple[MeshCheck | None, ...]


def revision_mtls(
    provider: k8s.Provider,
    config: MeshStack,
    control_plane: IstioControlPlane,
    bookinfo_namespace: pulumi.Input[str],
    after: list[pulumi.Resource],
) -> RevisionMtls | None:
    """The check for each tag but `default`, where it applies (revision_mtls_applies);
    `after`: Bookinfo and its routing."""
    if not revision_mtls_applies(config):
        return None
    istio, security = config.istio, config.security
    tags = dict(istio.tags or {})
    default = tags[DEFAULT_TAG]
    servers, plain, checks = [], [], []
    for tag, revision in tags.items():
        if tag == DEFAULT_TAG:
            continue
        namespace = tag_namespace(tag)
        ready = [control_plane.tags[tag], *control_plane.ready]
        server = HelloWorld(
            f"tag-{tag}-hello-world",
            HelloWorldArgs(
                namespace=injected_namespace(
                    f"tag-{tag}-namespace",
                    namespace,
                    tag,
                    pulumi.ResourceOptions(provider=provider),
                ).metadata.name,
                image=pinned(versions.HELLOWORLD_SAMPLE_IMAGE, security.image_digests),
                network_policies=security.network_policies,
                container_port=SAMPLE_PORT,
                health_path=SAMPLE_HEALTH_PATH,
                env={"SERVICE_VERSION": revision},
            ),
            pulumi.ResourceOptions(provider=provider, depends_on=ready),
        )
        url = f"http://{APP}.{namespace}:{SERVICE_PORT}{SAMPLE_PATH}"
        servers.append(server)
        plain.append(
            refused_in_plain_text(
                f"mTLS STRICT: hello-world on tag {tag} refuses a caller outside the mesh", url
            )
        )
        old, new = f"{default} (tag {DEFAULT_TAG})", f"{revision} (tag {tag})"
        waits = [*after, server, *ready]
        if control_plane.peer_authentication is not None:
            waits.append(control_plane.peer_authentication)
        checks += [
            mesh_check(
                f"tag-{tag}-mtls-check",
                config.verify,
                provider=provider,
                namespace=server.namespace,
                job_name=CALLER_JOB,
                checks=[
                    Check(
                        name=f"mTLS: a pod of revision {new} gets productpage of {old}",
                        url=f"http://productpage.{config.bookinfo.namespace}:{PORT}/productpage",
                        classes=(PAGE,),
                        expect=Expect(only=(PAGE.label,)),
                        samples=SAMPLES,
                    )
                ],
                after=waits,
                in_mesh=True,
                revision=tag,
            ),
            mesh_check(
                f"tag-{tag}-mtls-back-check",
                config.verify,
                provider=provider,
                namespace=bookinfo_namespace,
                job_name=f"mtls-check-{tag}",
                checks=[
                    Check(
                        name=f"mTLS: a pod of revision {old} gets hello-world of {new}",
                        url=url,
                        classes=(AnswerClass("hello-world", status=200, body=SAMPLE_ANSWER),),
                        # The answer names the revision of the pod that gave it.
                        expect=Expect(only=(revision,)),
                        samples=SAMPLES,
                    )
                ],
                after=waits,
                in_mesh=True,
            ),
        ]
    return RevisionMtls(tuple(servers), tuple(plain), tuple(checks))
