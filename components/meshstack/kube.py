"""Explicit Kubernetes providers: every cluster gets its own (the local stack: kubectl's own)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

# The provider's ambient configuration: with an empty kubeconfig it loads what kubectl loads
# (pulumi-kubernetes provider.go Configure: clientcmd.NewDefaultClientConfigLoadingRules, the
# files of $KUBECONFIG merged, or ~/.kube/config). Leaving the argument unset is not the same:
# the Python SDK then fills it with $KUBECONFIG as one path, which breaks a list of files.
AMBIENT_KUBECONFIG = ""


def kube_provider(
    name: str,
    kubeconfig: pulumi.Input[str],
    context: str | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> k8s.Provider:
    """A provider for one cluster. `kubeconfig` is a file path, the file's contents, or
    AMBIENT_KUBECONFIG; `context` None is that configuration's current context.

    Contents are wrapped as a secret: they carry credentials and must never reach state or
    logs in plain text.
    """
    return k8s.Provider(
        name,
        kubeconfig=pulumi.Output.secret(kubeconfig),
        context=context,
        # Server-side apply: fields owned by other managers (istiod, HPA) stay theirs.
        enable_server_side_apply=True,
        # A Secret whose data changes is updated in place, not deleted and created again
        # (pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties: without this,
        # .data and .stringData of a Secret force a replacement): istiod sees a remote
        # secret change, never disappear (deleting it drops the clusters it names).
        enable_secret_mutable=True,
        # Encrypted in state whatever path the value took (checked by the policy pack).
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
        ),
    )
