"""Istio revisions side by side and the tags that point at them (docs/day-2.md).

A revision is one istiod (its release `istiod-<name>`, its Service, its webhooks) at one Istio
version; a tag is a name a namespace selects (`istio.io/rev=<tag>`, or for `default` the
plain `istio-injection=enabled`) that one revision's webhooks answer. Moving a tag moves
every namespace that selects it to another revision; a revision is dropped once no tag
names it. What changes between runs (a swap, a drop in the same `up` as a tag's move) is
judged in stacks/config/previous.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import field_validator

from meshstack import versions
from stacks.config.fields import PROJECT, ChartRepository, Model, Revision, SemVer

# The tag base's `defaultRevision` (the `istiod-default-validator`), the gateways and the
# namespaces labelled `istio-injection=enabled` follow.
DEFAULT_TAG = "default"
# Helm refuses a release name longer than this (helm/helm pkg/chart/v2/util/validate_name.go
# maxReleaseNameLen); a revision's release is istiod-<name>, a tag's revision-tag-<tag>.
HELM_RELEASE_NAME = 53
ISTIOD_RELEASE, TAG_RELEASE = "istiod-", "revision-tag-"


def minor_of(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def known_minor(version: str) -> str:
    """`version`, if its minor is one whose charts the tests render (versions.py)."""
    minor = ".".join(version.split(".")[:2])
    if minor not in versions.ISTIO_SUPPORTS_KUBERNETES:
        known = ", ".join(f"{m}.x" for m in versions.ISTIO_SUPPORTS_KUBERNETES)
        raise ValueError(
            f"Istio {minor} is not one this package is tested with ({known}: its charts "
            "are rendered by the tests and its Kubernetes range is known)"
        )
    return version


class RevisionConfig(Model):
    """One istiod of the mesh, at one Istio version."""

    name: Revision
    """The revision: istiod's release and Service are istiod-<name>; never renamed (a new
    name is a new istiod beside the others)."""
    version: SemVer
    """Its Istio release: the charts' version and the images' tag."""
    chart_repository: ChartRepository | None = None
    """Where this version's charts come from; unset: istio.chartRepository."""

    @field_validator("version")
    @classmethod
    def _known_minor(cls, version: str) -> str:
        return known_minor(version)


def revision_problems(
    revisions: list[RevisionConfig] | None,
    tags: Mapping[str, str] | None,
    fields_set: Iterable[str],
    data_plane: str,
    ambient: AmbientConfig | None = None,
) -> list[str]:
    """What is wrong with istio.revisions, istio.tags and istio.ambient together, every
    mistake at once."""
    problems: list[str] = []
    if revisions is None:
        if tags is not None:
            problems.append(
                f"{PROJECT}:istio.tags {dict(tags)} needs istio.revisions: a tag points at a "
                "revision declared there"
            )
        if ambient is not None:
            problems.append(
                f"{PROJECT}:istio.ambient needs istio.revisions (and dataPlane ambient): it "
                "says which of them istio-cni and ztunnel run; without revisions they run "
                "istio.version; remove it"
            )
        return problems
    single = [f for f in ("version", "revision", "tag") if f in set(fields_set)]
    problems += [
        f"{PROJECT}:istio.{field} does not apply with istio.revisions (each revision names "
        "its version; tags choose which revision namespaces get); remove it"
        for field in single
    ]
    names = [r.name for r in revisions]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append(f"{PROJECT}:istio.revisions names {twice} more than once")
    if DEFAULT_TAG in names:
        problems.append(
            f"{PROJECT}:istio.revisions name {DEFAULT_TAG!r} is the name of Istio's default "
            "tag; name a revision after its version instead (e.g. 1-31-0)"
        )
    given = dict(tags or {})
    if DEFAULT_TAG not in given:
        problems.append(
            f"{PROJECT}:istio.tags {given} has no {DEFAULT_TAG!r} tag: it says which revision "
            "validates Istio's objects (base's defaultRevision) and injects the gateways and "
            "the namespaces labelled istio-injection=enabled; add default: <revision>"
        )
    problems += [
        f"{PROJECT}:istio.tags.{tag} {revision!r} names no revision of istio.revisions "
        f"({', '.join(names)}); name one of them (a revision is dropped only once no tag "
        "names it)"
        for tag, revision in given.items()
        if revision not in names
    ]
    problems += [
        f"{PROJECT}:istio.{key} {name!r} is too long: its Helm release {prefix}{name} would "
        f"have {len(prefix + name)} characters, and Helm takes at most {HELM_RELEASE_NAME}; "
        f"use at most {HELM_RELEASE_NAME - len(prefix)}"
        for key, prefix, names_given in (
            ("revisions name", ISTIOD_RELEASE, names),
            ("tags", TAG_RELEASE, list(given)),
        )
        for name in names_given
        if len(prefix + name) > HELM_RELEASE_NAME
    ]
    problems += skew_problems(revisions)
    problems += ambient_problems(ambient, names, data_plane)
    return problems


class AmbientConfig(Model):
    """The node components of an ambient mesh with istio.revisions: one istio-cni and one
    ztunnel DaemonSet per cluster serve every revision's workloads (docs/day-2.md)."""

    revision: Revision
    """The revision whose version istio-cni and ztunnel run and whose istiod ztunnel takes
    its configuration and certificates from (istiod-<revision>:15012). Changing it upgrades
    istio-cni, then ztunnel, in place, in that order, after that revision's istiod."""


def ambient_problems(ambient: AmbientConfig | None, names: list[str], data_plane: str) -> list[str]:
    """istio.ambient beside istio.revisions: required in ambient, on a declared revision.
    ztunnel and istio-cni take the version of the revision whose istiod they call, so they
    are never ahead of their control plane (Istio supports ztunnel and the CNI at the
    control plane's minor or one behind: istio.io/latest/docs/ambient/upgrade/helm), and
    skew_problems keeps every revision within one minor of them."""
    if data_plane != "ambient":
        return (
            [
                f"{PROJECT}:istio.ambient applies with dataPlane ambient only (sidecar mode "
                "runs no ztunnel); remove it"
            ]
            if ambient is not None
            else []
        )
    if ambient is None:
        return [
            f"{PROJECT}:istio.revisions with dataPlane ambient needs istio.ambient.revision: "
            "the revision istio-cni and ztunnel run (one of each per cluster serves every "
            f"revision), one of {', '.join(names)}"
        ]
    if ambient.revision not in names:
        return [
            f"{PROJECT}:istio.ambient.revision {ambient.revision!r} names no revision of "
            f"istio.revisions ({', '.join(names)}); name one of them (a revision is dropped "
            "only once ztunnel has moved off it)"
        ]
    return []


def skew_problems(revisions: list[RevisionConfig]) -> list[str]:
    """Istio's control plane may be at most one minor ahead of the data plane
    (istio.io/latest/docs/releases/supported-releases, "Control Plane/Data Plane Skew"): the
    gateways and the base (CRDs, validator) follow the newest revision while pods of the
    oldest still run, so the declared versions are at most one minor apart."""
    found = sorted({minor_of(r.version) for r in revisions})
    if len(found) < 2:
        return []
    (major, low), (major_high, high) = found[0], found[-1]
    if major == major_high and high - low <= 1:
        return []
    versions_given = ", ".join(f"{r.name}: {r.version}" for r in revisions)
    return [
        f"{PROJECT}:istio.revisions ({versions_given}) span more than one minor release: "
        "Istio's control plane may be at most one minor ahead of the proxies it serves "
        "(istio.io supported releases, control plane/data plane skew); upgrade one minor "
        "at a time (add the next minor, move the tags, drop the oldest)"
    ]


def newest(revisions: Iterable[Any]) -> Any:
    """The revision of the newest version (base's chart and CRDs are that version's)."""
    return max(revisions, key=lambda r: tuple(int(p) for p in r.version.split(".")))


def revision_mtls_applies(stack: Any) -> bool:
    """Whether the stack builds the mTLS check between revisions (stacks/scenarios/
    revision_mtls.py): with tags in sidecar mode (ambient has no pod of a revision: one
    ztunnel serves them all), Bookinfo, mTLS STRICT (else a plain-text answer would pass)
    and the checks on; built by the one-cluster scenarios only (stacks/scenarios/mesh.py: the
    multi-cluster ones record no proven pair, so their `default` moves without this gate)."""
    from stacks.config.mesh import MeshStack  # mesh.py imports this module

    if not isinstance(stack, MeshStack):
        return False
    istio, bookinfo, verify = stack.istio, stack.bookinfo, stack.verify
    return bool(
        istio is not None
        and istio.tagged
        and istio.data_plane == "sidecar"
        and istio.mtls == "STRICT"
        and bookinfo is not None
        and bookinfo.enabled
        and verify is not None
        and verify.enabled
    )


def mtls_pairs(stack: Any) -> list[tuple[str, str]]:
    """What that check proves: each (revision of the `default` tag, another tag's revision),
    distinct revisions only; empty where it does not apply."""
    if not revision_mtls_applies(stack):
        return []
    tags = dict(stack.istio.tags or {})
    default = tags[DEFAULT_TAG]
    return sorted({(default, r) for t, r in tags.items() if t != DEFAULT_TAG and r != default})
