"""The value types of the stack configuration: each with the words its errors use."""

from __future__ import annotations

import ipaddress
import zoneinfo
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Strict, StringConstraints
from pydantic.alias_generators import to_camel

from meshstack.versions import LOCAL_CHARTS

PROJECT = "meshstack"

# Each pattern with the words an error message uses for it.
PATTERN_HELP: dict[str, str] = {}


def _pattern(regex: str, help_text: str) -> StringConstraints:
    PATTERN_HELP[regex] = help_text
    return StringConstraints(pattern=regex)


# A boolean is YAML's or JSON's true or false, nothing else: pydantic's lax bool would take
# "yes", "off", "1", 0 or 1 silently. Nothing is lost: Pulumi hands objects over as JSON, and
# `pulumi config set --path <key> true` stores a boolean (pulumi/pulumi
# sdk/go/common/resource/config/map.go, adjustObjectValue).
Flag = Annotated[bool, Strict()]


SemVer = Annotated[
    str,
    _pattern(
        r"^[0-9]+\.[0-9]+\.[0-9]+$", "an exact release such as 1.31.0 (no range, no 'latest')"
    ),
]


DnsLabel = Annotated[
    str,
    _pattern(
        r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        "a DNS label: at most 63 lower-case letters, digits and '-', "
        "starting and ending with a letter or digit",
    ),
]


ImageRegistry = Annotated[
    str,
    _pattern(
        r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$",
        "an image registry such as docker.io/istio",
    ),
]


ImageTag = Annotated[
    str, _pattern(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", "an image tag such as 1.31.0")
]


def _chart_folder(value: str) -> str:
    directory = Path(value.removeprefix(LOCAL_CHARTS))
    if value.startswith(LOCAL_CHARTS) and not (directory.is_absolute() and directory.is_dir()):
        raise ValueError(f"{value!r} is not a directory (file:// takes an absolute path)")
    return value


ChartRepository = Annotated[
    str,
    _pattern(
        r"^(https|oci|file)://\S+$",
        "an https:// or oci:// chart repository URL, or file:///<dir>: a directory with one "
        "folder per chart (what `make charts` writes)",
    ),
    AfterValidator(_chart_folder),
]


def _manifest(value: str) -> str:
    if not value.startswith("https://") and not (
        Path(value).is_absolute() and Path(value).is_file()
    ):
        raise ValueError(f"{value!r} is neither an https:// URL nor an absolute path of a file")
    return value


# A manifest (YAML) the package applies: from its URL, or a local copy.
Manifest = Annotated[str, AfterValidator(_manifest)]


def local_chart_problems(key: str, repository: str, charts: Iterable[str]) -> list[str]:
    """What a file:// chart directory lacks of `charts` (one folder with a Chart.yaml each)."""
    if not repository.startswith(LOCAL_CHARTS):
        return []
    directory = Path(repository.removeprefix(LOCAL_CHARTS))
    return [
        f"{PROJECT}:{key} {repository!r} has no chart {chart!r} "
        f"(no {directory / chart / 'Chart.yaml'}): run `make charts` or `helm pull --untar`"
        for chart in charts
        if not (directory / chart / "Chart.yaml").is_file()
    ]


# Alibaba Cloud's ids (us-west-1, cn-hangzhou, cn-wuhan-lr); Google's (us-west1) do not fit.
Region = Annotated[
    str,
    _pattern(
        r"^[a-z]{2}-[a-z]+(-[a-z0-9]+)?$",
        "an Alibaba Cloud region id such as us-west-1 or cn-hangzhou",
    ),
]


Zone = Annotated[
    str,
    _pattern(
        r"^[a-z]{2}-[a-z]+(-[a-z0-9]+)?-?[a-z]$",
        "an Alibaba Cloud zone id such as us-west-1a or cn-hangzhou-h",
    ),
]


CloudZone = Annotated[
    str, _pattern(r"^[a-z]+(-[a-z0-9]+)+$", "a zone id such as us-west-1a or us-west1-b")
]


AckVersion = Annotated[
    str,
    _pattern(
        r"^1\.[0-9]+(\.[0-9]+-aliyun\.[0-9]+)?$",
        "a Kubernetes minor version such as 1.36 (a new cluster gets ACK's newest patch of "
        "it, a running one keeps its own) or an exact ACK version such as 1.36.1-aliyun.1",
    ),
]


def _cidr(value: str) -> str:
    if "/" not in value:
        # ip_network would take it as one address (/32).
        raise ValueError("expected a range with its prefix length, such as 10.0.0.0/16")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        raise ValueError(f"not a network range ({err})") from None
    if network.version != 4:
        raise ValueError("only IPv4 ranges are supported")
    return str(network)


Cidr = Annotated[str, AfterValidator(_cidr)]


InstanceType = Annotated[
    str, _pattern(r"^ecs\.[a-z0-9-]+\.[a-z0-9]+$", "an ECS instance type such as ecs.g7.xlarge")
]


AsmVersion = Annotated[
    str,
    _pattern(
        r"^(1\.[0-9]+|v1\.[0-9]+\.[0-9]+\.[0-9]+-[0-9A-Za-z.-]+)$",
        "an ASM minor version such as 1.26 (a new instance gets ASM's newest release of it, a "
        "running one keeps its own) or an exact ASM version such as v1.26.3.110-g1a2b3c4d-aliyun",
    ),
]


PullPolicy = Literal["IfNotPresent", "Always", "Never"]


GcpRegion = Annotated[
    str, _pattern(r"^[a-z]+-[a-z]+[0-9]+$", "a Google Cloud region such as us-west1")
]


GcpZone = Annotated[
    str, _pattern(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$", "a Google Cloud zone such as us-west1-b")
]


GcpProject = Annotated[
    str,
    _pattern(
        r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        "a Google Cloud project id: 6-30 lower-case letters, digits and '-'",
    ),
]


GkeVersion = Annotated[
    str,
    _pattern(
        r"^1\.[0-9]+(\.[0-9]+(-gke\.[0-9]+)?)?$", "a GKE version such as 1.35 or 1.35.2-gke.1200"
    ),
]


MachineType = Annotated[
    str, _pattern(r"^[a-z][a-z0-9]*-[a-z0-9-]+$", "a Compute Engine machine type such as e2-medium")
]


# "family/<name>" or "<project>/<family or image>" as gcloud and the provider accept it.
GceImage = Annotated[
    str, _pattern(r"^[a-z][a-z0-9-]*/[a-z][a-z0-9-]*$", "an image such as debian-cloud/debian-13")
]


# An Istio network name: empty means the single, flat network (seed 001).
# Compute Engine and GKE names: RFC 1035 labels (a letter first); GKE allows 40 characters.
GceName = Annotated[
    str,
    _pattern(
        r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
        "a Compute Engine name: a lower-case letter, then lower-case letters, digits and '-', "
        "at most 63, not ending in '-'",
    ),
]


GkeClusterName = Annotated[
    str,
    _pattern(
        r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$",
        "a GKE cluster name: a lower-case letter, then lower-case letters, digits and '-', "
        "at most 40, not ending in '-'",
    ),
]


IstioClusterName = Annotated[
    str,
    _pattern(
        r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        "a cluster name such as Kubernetes or cluster1 (letters, digits, '-', '_', '.')",
    ),
]


HostName = Annotated[
    str,
    _pattern(
        r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        "a fully qualified DNS name in lower case, such as istiod.mesh.example.com",
    ),
]


ImageDigest = Annotated[
    str, _pattern(r"^sha256:[0-9a-f]{64}$", "an image digest: sha256: and 64 hex digits")
]


ImageReference = Annotated[
    str,
    _pattern(
        r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        "an image with a pinned tag such as gcr.io/tetratelabs/hello-world:1.0.0",
    ),
]


NetworkName = Annotated[
    str, _pattern(r"^([a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?)?$", "empty or a name such as network1")
]


# A SPIFFE trust domain (spiffe/spiffe standards/SPIFFE-ID.md 2.1: lower-case letters,
# digits, '.', '-' and '_'); Istio's default is cluster.local.
TrustDomain = Annotated[
    str,
    _pattern(
        r"^[a-z0-9]([-a-z0-9._]{0,251}[a-z0-9])?$",
        "a trust domain such as mesh-a.example: lower-case letters, digits, '.', '-' and '_'",
    ),
]


# Namespaces Kubernetes and Istio own: an application declared there would collide with
# them (a second Namespace resource of the same name, or workloads inside the control plane's).
RESERVED_NAMESPACES = ("istio-system", "kube-system", "kube-public", "kube-node-lease")


def _application_namespace(value: str) -> str:
    if value in RESERVED_NAMESPACES:
        raise ValueError(
            f"{value} belongs to {'Istio' if value == 'istio-system' else 'Kubernetes'}; "
            "choose a namespace of the application's own"
        )
    return value


AppNamespace = Annotated[DnsLabel, AfterValidator(_application_namespace)]


def _created_namespace(value: str) -> str:
    if value == "default":
        raise ValueError("default exists in every cluster; choose a namespace the stack creates")
    return value


VmNamespace = Annotated[AppNamespace, AfterValidator(_created_namespace)]
# istiod's Service is `istiod-<revision>`: a DNS label of at most 63 characters.
Revision = Annotated[
    str,
    _pattern(
        r"^[a-z0-9]([-a-z0-9]{0,54}[a-z0-9])?$",
        "a revision: at most 56 lower-case letters, digits and '-' (istiod's Service is "
        "istiod-<revision>, a name of at most 63 characters)",
    ),
]


def _time_zone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise ValueError("expected an IANA time zone such as Asia/Shanghai or UTC")
    return value


TimeZone = Annotated[str, AfterValidator(_time_zone)]


class Model(BaseModel):
    """Strict base: unknown keys are errors, keys are camelCase as in the stack files."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=False,
        frozen=True,
        # A field's docstring is its description: the generated reference (make docs).
        use_attribute_docstrings=True,
    )


# The words of the checks that are not patterns, for the generated reference.
VALIDATOR_HELP: dict[Callable[..., Any], str] = {
    _cidr: "an IPv4 range with its prefix length, such as 10.0.0.0/16",
    _time_zone: "an IANA time zone such as Asia/Shanghai or UTC",
    _application_namespace: "a DNS label naming the application's own namespace "
    "(not istio-system or kube-*)",
    _created_namespace: "a DNS label naming a namespace the stack creates "
    "(not default, istio-system or kube-*)",
    _manifest: "an https:// URL, or the absolute path of a local copy",
}
