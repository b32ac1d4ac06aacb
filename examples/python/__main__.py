"""meshstack's components in your own Python program: the plug-in CA files of a two-cluster
mesh's root of trust, and Istio's Bookinfo sample on a cluster that runs Istio (this
repository's `local` stack installs it)."""

import pulumi
import pulumi_kubernetes as k8s

from meshstack.apps.bookinfo import Bookinfo
from meshstack.istio.trust import SharedRootOfTrust

config = pulumi.Config()
# A kubeconfig of a cluster that runs Istio, set with `pulumi config set --secret kubeconfig`.
cluster = k8s.Provider("cluster", kubeconfig=config.require_secret("kubeconfig"))

trust = SharedRootOfTrust(
    "mesh-ca", {"clusters": ["east", "west"], "intermediate_validity_hours": 24 * 365}
)

# Labelled for sidecar injection, as in Istio's getting-started guide.
namespace = k8s.core.v1.Namespace(
    "bookinfo",
    metadata={"name": "bookinfo", "labels": {"istio-injection": "enabled"}},
    opts=pulumi.ResourceOptions(provider=cluster),
)
# The component's children use the provider it is given; its objects wait for the namespace
# through its name output.
bookinfo = Bookinfo(
    "bookinfo",
    {"namespace": namespace.metadata.name, "reviews_versions": ["v1", "v2", "v3"]},
    pulumi.ResourceOptions(providers=[cluster]),
)

pulumi.export("rootCertPem", trust.root_cert_pem)
pulumi.export("cacerts", pulumi.Output.secret(trust.cacerts))
pulumi.export("bookinfoServices", {name: s.metadata.name for name, s in bookinfo.services.items()})
