"""The mesh's safety rules, as CrossGuard resource policies.

Each rule is a plain function of (args, report_violation), wrapped in a `ResourceValidationPolicy`
in `POLICIES`. The module imports nothing of the program, so the pack runs in its own small
environment (policy/requirements.txt) and the tests import it directly.

CrossGuard hands a Python pack every input in plain text (secrets unwrapped), so "credentials
are secret" is checked through the option that keeps them encrypted in state,
`additional_secret_outputs`; stack outputs' secrecy is not visible to a pack and is checked by
the test suite instead.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

PACK_NAME = "meshstack-safety"

WORLD = {"0.0.0.0/0", "::/0"}
# The only ports a rule may open to the whole internet: the ingress gateway's.
WORLD_PORTS = {"80", "443"}

# Resource type -> the outputs that carry credentials and must be encrypted in state.
CREDENTIAL_OUTPUTS: dict[str, tuple[str, ...]] = {
    "pulumi:providers:kubernetes": ("kubeconfig",),
    "alicloud:servicemesh/serviceMesh:ServiceMesh": ("kubeconfig",),
    "kubernetes:core/v1:Secret": ("data", "stringData"),
    "gcp:secretmanager/secretVersion:SecretVersion": ("secretData",),
    "tls:index/privateKey:PrivateKey": ("privateKeyPem",),
}

# Cluster type -> (property, the provider's default when unset).
DELETION_PROTECTION: dict[str, tuple[str, bool]] = {
    "alicloud:cs/managedKubernetes:ManagedKubernetes": ("deletionProtection", False),
    "alicloud:cs/serverlessKubernetes:ServerlessKubernetes": ("deletionProtection", False),
    "gcp:container/cluster:Cluster": ("deletionProtection", True),
}
# Mesh instances without a deletion protection of their own: Pulumi's `protect` must be on.
PROTECTED_BY_PULUMI = {"alicloud:servicemesh/serviceMesh:ServiceMesh": "asm.deletionProtection"}
# Stacks that may be deleted freely (fnmatch patterns on the stack name), unless configured.
THROWAWAY_STACKS = ["dev", "dev-*", "test", "test-*", "tmp-*", "ci-*", "pr-*", "sandbox*"]

EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$")
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "Pod", "ReplicaSet"}


def _ports(range_: str) -> str:
    return range_.replace("/", "-") if range_ else "all ports"


def no_world_open_ingress(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == "alicloud:ecs/securityGroupRule:SecurityGroupRule":
        sources = {str(props.get("cidrIp")), str(props.get("ipv6CidrIp"))} & WORLD
        if props.get("type") != "ingress" or not sources:
            return
        start, _, end = str(props.get("portRange", "")).partition("/")
        if props.get("ipProtocol") == "tcp" and start == end and start in WORLD_PORTS:
            return
        report(
            f"security group rule {args.name} opens {props.get('ipProtocol')} "
            f"{_ports(props.get('portRange', ''))} to {', '.join(sorted(sources))}; only the "
            "ingress gateway's 80/443 may be open to the internet",
            None,
        )
    elif args.resource_type == "gcp:compute/firewall:Firewall":
        sources = set(props.get("sourceRanges") or []) & WORLD
        if props.get("direction", "INGRESS") != "INGRESS" or not sources:
            return
        for allow in props.get("allows") or []:
            ports = set(allow.get("ports") or [])
            if allow.get("protocol") != "tcp" or not ports or not ports <= WORLD_PORTS:
                report(
                    f"firewall {args.name} opens {allow.get('protocol')} "
                    f"{', '.join(sorted(ports)) or 'all ports'} to {', '.join(sorted(sources))}; "
                    "only the ingress gateway's 80/443 may be open to the internet",
                    None,
                )


def credentials_secret_in_state(args: ResourceValidationArgs, report: ReportViolation) -> None:
    outputs = CREDENTIAL_OUTPUTS.get(args.resource_type)
    if not outputs:
        return
    if args.resource_type == "pulumi:providers:kubernetes" and not args.props.get("kubeconfig"):
        return  # no credential given: nothing to keep secret
    missing = [o for o in outputs if o not in args.opts.additional_secret_outputs]
    if missing:
        report(
            f"{args.resource_type} {args.name} keeps {', '.join(missing)} unencrypted in state; "
            f"set additional_secret_outputs={list(outputs)!r}",
            None,
        )


def mesh_mtls_not_disabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not re.fullmatch(
        r"kubernetes:security\.istio\.io/v1(beta1)?:PeerAuthentication", args.resource_type
    ):
        return
    spec = args.props.get("spec") or {}
    mode = (spec.get("mtls") or {}).get("mode")
    if mode == "DISABLE" and not spec.get("selector"):
        namespace = (args.props.get("metadata") or {}).get("namespace", "default")
        report(
            f"PeerAuthentication {args.name} disables mTLS for all of namespace {namespace!r}; "
            "use STRICT (or PERMISSIVE while migrating), or a selector for one workload",
            None,
        )


def _containers(manifest: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    spec = manifest.get("spec") or {}
    if manifest.get("kind") != "Pod":
        spec = (spec.get("template") or {}).get("spec") or {}
    for key in ("initContainers", "containers"):
        yield from spec.get(key) or []


def _image_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    return ":" in name and name.rsplit(":", 1)[1] != "latest"


def versions_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == "kubernetes:helm.sh/v3:Release":
        chart, version = str(props.get("chart", "")), str(props.get("version") or "")
        if chart.startswith((".", "/")):
            return  # a chart in the repository is pinned by the commit
        if not EXACT_VERSION.match(version):
            report(
                f"Helm release {args.name} installs chart {chart!r} at version {version!r}; "
                "pin an exact version (e.g. 1.30.3)",
                None,
            )
    elif args.resource_type == "alicloud:servicemesh/serviceMesh:ServiceMesh":
        if not props.get("version"):
            report(f"service mesh {args.name} has no version: pin the ASM (Istio) version", None)
    elif args.resource_type.startswith("kubernetes:") and props.get("kind") in WORKLOAD_KINDS:
        for container in _containers(props):
            image = str(container.get("image", ""))
            if not _image_pinned(image):
                report(
                    f"{props.get('kind')} {args.name}: container {container.get('name')!r} uses "
                    f"image {image!r}; pin a tag other than latest, or a digest",
                    None,
                )


def _stack_of(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<type>::<name>
    return urn.split("::", 1)[0].rsplit(":", 1)[-1]


def cluster_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    rule = DELETION_PROTECTION.get(args.resource_type)
    pulumi_protected = PROTECTED_BY_PULUMI.get(args.resource_type)
    if not rule and not pulumi_protected:
        return
    stack = _stack_of(args.urn)
    throwaway = args.get_config().get("throwawayStacks", THROWAWAY_STACKS)
    if any(fnmatch.fnmatch(stack, pattern) for pattern in throwaway):
        return
    if rule:
        prop, default = rule
        protected = args.props.get(prop, default)
        remedy = f"set {prop} (the stack's cluster.deletionProtection)"
    else:
        protected = args.opts.protect
        remedy = f"protect it (the stack's {pulumi_protected})"
    if not protected:
        report(
            f"{args.name} of stack {stack!r} can be deleted by accident: {remedy}, or list "
            "the stack in this policy's throwawayStacks",
            None,
        )


def explicit_kubernetes_provider(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("kubernetes:"):
        return
    provider = args.provider
    if provider is None or provider.name.startswith("default"):
        report(
            f"{args.resource_type} {args.name} uses the default Kubernetes provider, i.e. "
            "whatever cluster the ambient kubeconfig points at; pass an explicit provider",
            None,
        )


def _policy(
    name: str,
    description: str,
    validate: Callable[[ResourceValidationArgs, ReportViolation], None],
    config_schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=config_schema,
    )


POLICIES: list[Policy] = [
    _policy(
        "no-world-open-ingress",
        "Security group and firewall rules open to 0.0.0.0/0 or ::/0 allow only TCP 80/443.",
        no_world_open_ingress,
    ),
    _policy(
        "credentials-secret-in-state",
        "Kubeconfigs, tokens and private keys are encrypted in state (additional_secret_outputs).",
        credentials_secret_in_state,
    ),
    _policy(
        "mesh-mtls-not-disabled",
        "No mesh-wide or namespace-wide PeerAuthentication sets mTLS to DISABLE.",
        mesh_mtls_not_disabled,
    ),
    _policy(
        "versions-pinned",
        "Helm charts, the ASM version and container images are pinned to exact versions.",
        versions_pinned,
    ),
    _policy(
        "cluster-deletion-protection",
        "Clusters and mesh instances of production stacks (all but throwawayStacks) are "
        "protected from deletion.",
        cluster_deletion_protection,
        PolicyConfigSchema(
            properties={
                "throwawayStacks": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": THROWAWAY_STACKS,
                }
            }
        ),
    ),
    _policy(
        "explicit-kubernetes-provider",
        "Kubernetes objects go through an explicit provider, never the ambient kubeconfig.",
        explicit_kubernetes_provider,
    ),
]
