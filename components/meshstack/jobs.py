"""Kubernetes Jobs that run one of the package's own scripts (standard-library Python).

The script travels in a ConfigMap; the pod runs it with least privilege (a service account of
its own, non-root, read-only root file system, no capabilities, the runtime's seccomp
profile) and outside the mesh: a sidecar would keep a Job's pod from completing, and these
scripts talk to the Kubernetes and cloud APIs, not to mesh services.
pulumi-kubernetes waits for a Job to complete and fails the update when it fails
(provider/pkg/await/job.go: BackoffLimitExceeded, DeadlineExceeded; 10 minutes by default).
No ttlSecondsAfterFinished: a Job that deleted itself would be created again on the next
`pulumi up` after a refresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from meshstack import hardening, network_policy
from meshstack.versions import PYTHON_IMAGE

SCRIPTS_PATH = "/scripts"
# Where script_pod mounts a token of its service account for another audience.
AUDIENCE_TOKENS_PATH = "/var/run/secrets/tokens"
NOBODY = 65534
# Outside the mesh in either data plane: no sidecar injected, not captured by ambient's
# ztunnel in an ambient namespace (pod label istio.io/dataplane-mode=none).
NO_SIDECAR = {"sidecar.istio.io/inject": "false", "istio.io/dataplane-mode": "none"}


class JobIdentity:
    """A Job's own service account, allowed exactly `rules` in its namespace."""

    account: k8s.core.v1.ServiceAccount
    # Depend on this before running the Job: the permissions exist once it does.
    binding: k8s.rbac.v1.RoleBinding

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        namespace: pulumi.Input[str],
        rules: Sequence[k8s.rbac.v1.PolicyRuleArgs],
        opts: pulumi.ResourceOptions,
        annotations: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> None:
        self.account = k8s.core.v1.ServiceAccount(
            f"{resource_name}-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=name, namespace=namespace, annotations=annotations
            ),
            opts=opts,
        )
        metadata = k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace)
        role = k8s.rbac.v1.Role(f"{resource_name}-role", metadata=metadata, rules=rules, opts=opts)
        self.binding = k8s.rbac.v1.RoleBinding(
            f"{resource_name}-binding",
            metadata=metadata,
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="ServiceAccount", name=self.account.metadata.name, namespace=namespace
                )
            ],
            opts=opts,
        )


def script_config_map(
    resource_name: str,
    name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    scripts: Mapping[str, Path],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.ConfigMap:
    """The scripts (file name → source file), as one ConfigMap."""
    return k8s.core.v1.ConfigMap(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        data={file_name: source.read_text() for file_name, source in scripts.items()},
        opts=opts,
    )


def no_ingress(
    resource_name: str,
    app: pulumi.Input[str],
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """A script's pod serves nothing: no connection in (it calls out only)."""
    return network_policy.ingress_policy(
        resource_name, app, namespace, network_policy.ingress_spec({"app": app}), opts
    )


def script_files(
    resource_name: str,
    app: pulumi.Input[str],
    namespace: pulumi.Input[str],
    script: Path,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.ConfigMap:
    """What every script Job has besides its pod: the script (`<resource_name>-script`,
    named `app`) and a policy that admits no connection to its pod."""
    scripts = script_config_map(
        f"{resource_name}-script", app, namespace, {script.name: script}, opts
    )
    no_ingress(f"{resource_name}-network-policy", app, namespace, opts)
    return scripts


def script_pod(
    *,
    app: pulumi.Input[str],
    config_map: pulumi.Input[str],
    script: str,
    service_account: pulumi.Input[str],
    env: Mapping[str, pulumi.Input[str]],
    sidecar: Mapping[str, str] = NO_SIDECAR,
    api_access: bool = True,
    audience: str | None = None,
    config_maps: Mapping[str, pulumi.Input[str]] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> k8s.core.v1.PodTemplateSpecArgs:
    """A pod that runs `python3 /scripts/<script>` once, hardened; uninjected unless
    `sidecar` holds the labels that ask Istio's injector for one. Without `api_access` no
    Kubernetes token is mounted (an injected sidecar mounts its own). With `audience`, a
    token of its service account for that audience is at AUDIENCE_TOKENS_PATH/<audience>
    (a projected token, renewed by the kubelet). `config_maps`: mount path → ConfigMap read
    there (optional: the script says what is missing). `annotations`: the pod's (e.g. its
    sidecar's proxy config)."""
    mounted = dict(config_maps or {})
    tokens = (
        [
            k8s.core.v1.VolumeArgs(
                name="audience-token",
                projected=k8s.core.v1.ProjectedVolumeSourceArgs(
                    sources=[
                        k8s.core.v1.VolumeProjectionArgs(
                            service_account_token=k8s.core.v1.ServiceAccountTokenProjectionArgs(
                                audience=audience, path=audience, expiration_seconds=3600
                            )
                        )
                    ]
                ),
            )
        ]
        if audience
        else []
    )
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            labels={"app": app, **sidecar}, annotations=dict(annotations) if annotations else None
        ),
        spec=k8s.core.v1.PodSpecArgs(
            service_account_name=service_account,
            automount_service_account_token=api_access,
            restart_policy="Never",
            security_context=hardening.pod_security(NOBODY, NOBODY),
            containers=[
                k8s.core.v1.ContainerArgs(
                    name=app,
                    image=PYTHON_IMAGE,
                    image_pull_policy=hardening.pull_policy(PYTHON_IMAGE),
                    command=["python3", f"{SCRIPTS_PATH}/{script}"],
                    # A failed script's last words become the pod's termination message,
                    # which pulumi-kubernetes shows with the failed Job.
                    termination_message_policy="FallbackToLogsOnError",
                    env=[
                        k8s.core.v1.EnvVarArgs(name=key, value=value)
                        for key, value in {
                            "PYTHONDONTWRITEBYTECODE": "1",
                            "PYTHONUNBUFFERED": "1",
                            **env,
                        }.items()
                    ],
                    security_context=hardening.container_security(),
                    resources=hardening.Resources("10m", "32Mi", "200m", "64Mi").args(),
                    volume_mounts=[
                        k8s.core.v1.VolumeMountArgs(
                            name="scripts", mount_path=SCRIPTS_PATH, read_only=True
                        ),
                        *(
                            [
                                k8s.core.v1.VolumeMountArgs(
                                    name="audience-token",
                                    mount_path=AUDIENCE_TOKENS_PATH,
                                    read_only=True,
                                )
                            ]
                            if audience
                            else []
                        ),
                        *(
                            k8s.core.v1.VolumeMountArgs(
                                name=f"config-{i}", mount_path=path, read_only=True
                            )
                            for i, path in enumerate(mounted)
                        ),
                    ],
                )
            ],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="scripts",
                    config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map),
                ),
                *tokens,
                *(
                    k8s.core.v1.VolumeArgs(
                        name=f"config-{i}",
                        config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=name, optional=True),
                    )
                    for i, name in enumerate(mounted.values())
                ),
            ],
        ),
    )


# Within pulumi-kubernetes' 10 minutes for a Job, so that the Job's own failure, not the
# provider's time-out, is what a user reads.
SCRIPT_DEADLINE_SECONDS = 480


def job_spec(
    pod: k8s.core.v1.PodTemplateSpecArgs,
    deadline_seconds: int = SCRIPT_DEADLINE_SECONDS,
    *,
    retries: int = 1,
    startup_seconds: int = 60,
) -> k8s.batch.v1.JobSpecArgs:
    """One pod, retried `retries` times; the script retries inside its own deadline, and
    the Job ends `startup_seconds` after it (an image pull, a sidecar's start)."""
    return k8s.batch.v1.JobSpecArgs(
        backoff_limit=retries,
        active_deadline_seconds=deadline_seconds + startup_seconds,
        template=pod,
    )
