"""Wrong stack configs of the classes a corpus of realistic stack files found accepted or
unclear (issue #19), with the fragments the refusal must show."""

from __future__ import annotations

import json

from tests.config_mistakes import SC, TC, VM, cluster, raw

FOUND: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "non-ASCII digit in a version",
        raw(istio={"version": "1.3\u0661.0"}),
        ["meshstack:istio.version", "ARABIC-INDIC DIGIT ONE", "an exact release such as 1.31.0"],
    ),
    (
        "pod range without its prefix length",
        raw(TC, clusters=[cluster("m1c1", 0, gateway=True, pod="10.10.0.0"), cluster("m1c2", 1)]),
        ["meshstack:clusters[0].podCidr = '10.10.0.0'", "prefix length", "10.0.0.0/16"],
    ),
    (
        "Bookinfo in Istio's namespace",
        raw(bookinfo={"namespace": "istio-system"}),
        ["meshstack:bookinfo.namespace = 'istio-system'", "belongs to Istio"],
    ),
    (
        "VM namespace that already exists",
        raw(VM, vm={"namespace": "default"}),
        ["meshstack:vm.namespace = 'default'", "exists in every cluster"],
    ),
    (
        "revision too long for istiod's Service name",
        raw(istio={"revision": "r" * 57}),
        ["meshstack:istio.revision", "at most 56", "istiod-<revision>"],
    ),
    (
        "single-cluster Service range inside the VPC",
        raw(SC, cluster={"serviceCidr": "192.168.64.0/20"}),
        ["meshstack:network.vpcCidr 192.168.0.0/16 overlaps meshstack:cluster.serviceCidr"],
    ),
    (
        "time zone that does not exist",
        raw(SC, cluster={"timezone": "Asia/Shangai"}),
        ["meshstack:cluster.timezone = 'Asia/Shangai'", "IANA time zone"],
    ),
    (
        "Google region in an Alibaba stack",
        raw(
            SC,
            network={
                "region": "us-west1",
                "vswitches": [{"zone": "us-west1-a", "cidr": "192.168.0.0/19"}],
            },
        ),
        [
            "meshstack:network.region = 'us-west1'",
            "an Alibaba Cloud region id",
            "meshstack:network.vswitches[0].zone = 'us-west1-a'",
        ],
    ),
    (
        "Alibaba region in a Google stack",
        raw(VM, gcp={"region": "us-west-1", "zone": "us-west-1a"}),
        ["meshstack:gcp.region = 'us-west-1'", "a Google Cloud region such as us-west1"],
    ),
    (
        "Google zone the region lacks",
        raw(VM, gcp={"region": "us-west1", "zone": "us-west1-d"}),
        ["meshstack:gcp.zone 'us-west1-d' is not a zone of us-west1", "us-west1-a, us-west1-b"],
    ),
    (
        "misspelt namespace",
        {"meshstack:scenario": "local", "meshstak:istio": json.dumps({"mtls": "STRICT"})},
        ["meshstak:istio", "did you mean meshstack:istio?"],
    ),
    (
        "unquoted version",
        raw(SC, cluster={"kubernetesVersion": 1.36}),
        ["meshstack:cluster.kubernetesVersion = 1.36", 'write it in quotes ("1.36")'],
    ),
    (
        "flat key from pulumi config set without --path",
        {"meshstack:scenario": "local", "meshstack:istio.version": "1.31.0"},
        ["meshstack:istio.version is one key", "pulumi config set --path"],
    ),
    (
        "cloud credential in plain text",
        {"meshstack:scenario": "local", "alicloud:secretKey": "not-secret"},
        ["alicloud:secretKey is in the stack file in plain text", "pulumi config set --secret"],
    ),
    (
        "a name with a look-alike letter",
        raw(bookinfo={"namespace": "b\u043eokinfo"}),
        ["meshstack:bookinfo.namespace", "CYRILLIC SMALL LETTER O"],
    ),
    (
        "a long value shortened",
        raw(istio={"hub": "X" * 300}),
        ["meshstack:istio.hub = 'XXXXX", "…", "an image registry"],
    ),
    (
        "no value shown as nothing",
        raw(bookinfo={"imageTag": None}),
        ["meshstack:bookinfo.imageTag = nothing", "expected text"],
    ),
    (
        "field and cross-field mistakes together",
        raw(SC, istio={"cni": True, "mtls": "STRCT"}, cluster={"serviceCidr": "192.168.64.0/20"}),
        [
            "meshstack:istio.mtls = 'STRCT'",
            "meshstack:istio.cni is true, but this cluster is serverless",
            "overlaps meshstack:cluster.serviceCidr",
        ],
    ),
    (
        "every overlap, not the first",
        raw(
            TC,
            clusters=[
                cluster("m1c1", 0, gateway=True, pod="10.10.0.0/16", service="172.16.0.0/20"),
                cluster("m1c2", 1, pod="10.10.0.0/16", service="172.16.0.0/20"),
            ],
        ),
        [
            "meshstack:clusters[0].podCidr 10.10.0.0/16 overlaps meshstack:clusters[1].podCidr",
            "meshstack:clusters[0].serviceCidr 172.16.0.0/20 overlaps "
            "meshstack:clusters[1].serviceCidr",
        ],
    ),
]
