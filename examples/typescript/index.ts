// meshstack's components from TypeScript: Istio's Bookinfo sample on a cluster you already
// have, and the plug-in CA files of a two-cluster mesh's root of trust.
// `./sdks/meshstack` is the SDK `pulumi package add ../../provider` generates (Pulumi's own
// nodejs code generator, through tools/e2e/sdks.py: `make schema`); `package add` also links it
// into package.json, so that a program imports "@meshstack/meshstack" (the schema's namespace
// names the package).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as meshstack from "./sdks/meshstack";

const config = new pulumi.Config();
// A kubeconfig of a cluster that runs Istio (this repository's `local` stack installs it).
const cluster = new k8s.Provider("cluster", { kubeconfig: config.requireSecret("kubeconfig") });

const trust = new meshstack.SharedRootOfTrust("mesh-ca", {
    clusters: ["east", "west"],
    intermediateValidityHours: 24 * 365,
});

// Labelled for sidecar injection, as in Istio's getting-started guide.
const namespace = new k8s.core.v1.Namespace(
    "bookinfo",
    { metadata: { name: "bookinfo", labels: { "istio-injection": "enabled" } } },
    { provider: cluster },
);
// A component of another package: the Kubernetes provider goes in `providers`.
const bookinfo = new meshstack.Bookinfo(
    "bookinfo",
    { namespace: namespace.metadata.name, reviewsVersions: ["v1", "v2", "v3"] },
    { providers: [cluster] },
);

export const rootCertPem = trust.rootCertPem;
export const cacerts = pulumi.secret(trust.cacerts);
export const bookinfoServices = bookinfo.services;
