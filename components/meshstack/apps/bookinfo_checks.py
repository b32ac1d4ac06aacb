"""What Bookinfo shows when the mesh works, as checks (components/meshstack/verify).

Answers are named from productpage's page (samples/bookinfo/src/productpage/ in Istio at
05d518b, the source of the 1.20.3 images): "Reviews served by: <pod>" names the reviews pod,
so its version (Deployments reviews-v1, -v2, -v3); "Error fetching product reviews" when
productpage's two 3-second tries at reviews fail (the delay scenario, as Istio's fault
injection task describes); "Ratings service is currently unavailable" when reviews got no
rating (the abort scenario; reviews' LibertyRestEndpoint.java).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from meshstack.apps.bookinfo import PORT
from meshstack.apps.cluster_local import entry_path
from meshstack.verify.checks import (
    WEIGHTED_SAMPLES,
    AnswerClass,
    Check,
    Expect,
    refused_in_plain_text,
    share_bounds,
)

REVIEWS_UNAVAILABLE = "reviews unavailable"
RATINGS_UNAVAILABLE = "ratings unavailable"
PAGE_CLASSES = (
    AnswerClass(REVIEWS_UNAVAILABLE, status=200, body="Error fetching product reviews"),
    AnswerClass(RATINGS_UNAVAILABLE, status=200, body="Ratings service is currently unavailable"),
    AnswerClass("reviews", status=200, body=r"Reviews served by:\s*reviews-(?P<label>v[0-9]+)-"),
)
# The Bookinfo user of Istio's tasks; productpage accepts any password.
JASON = "jason"
# A delayed page takes productpage's two 3-second tries.
DELAYED_TIMEOUT_SECONDS = 30
# What a waypoint's Envoy answers a call its AuthorizationPolicy denies.
DENIED = "denied by the waypoint"
DENIED_CLASS = AnswerClass(DENIED, status=403, body="RBAC: access denied")
# What the callee's proxy (sidecar or waypoint) answers a call no ALLOW policy admits
# (Envoy's RBAC filter; Istio's release-1.31 tests/integration/security/authz_test.go:1518).
NOT_ADMITTED = "denied by the default-deny policies"
NOT_ADMITTED_CLASS = AnswerClass(NOT_ADMITTED, status=403, body="RBAC: access denied")


@dataclass(frozen=True)
class ReviewsSeen:
    """What the product page shows under a routing scenario (bookinfo_routing.py)."""

    # Reviews versions an anonymous user sees; None: any deployed one (no routing).
    anonymous: tuple[str, ...] | None
    # What jason sees, when the scenario treats him apart.
    jason: tuple[str, ...] | None = None
    # Weighted routes: each version's weight.
    shares: Mapping[str, float] = field(default_factory=dict)


SEEN: Mapping[str, ReviewsSeen] = {
    "none": ReviewsSeen(None),
    "all-v1": ReviewsSeen(("v1",)),
    "jason-v2": ReviewsSeen(("v1",), jason=("v2",)),
    "reviews-80-20": ReviewsSeen(("v1", "v2"), shares={"v2": 0.2}),
    "reviews-50-v3": ReviewsSeen(("v1", "v3"), shares={"v3": 0.5}),
    "reviews-v3": ReviewsSeen(("v3",)),
    "ratings-delay": ReviewsSeen(("v1",), jason=(REVIEWS_UNAVAILABLE,)),
    "ratings-abort": ReviewsSeen(("v1",), jason=(RATINGS_UNAVAILABLE,)),
}


def page_check(
    name: str,
    url: str,
    only: Sequence[str],
    samples: int,
    *,
    login: str | None = None,
    shares: Mapping[str, float] | None = None,
    each: Sequence[str] = (),
) -> Check:
    if shares:
        samples = max(samples, WEIGHTED_SAMPLES)
    delayed = REVIEWS_UNAVAILABLE in only
    return Check(
        name=name,
        url=url,
        classes=PAGE_CLASSES,
        expect=Expect(
            only=tuple(only),
            each=tuple(each),
            shares={label: share_bounds(share, samples) for label, share in (shares or {}).items()},
        ),
        # A delayed answer takes seconds: a few show the fault.
        samples=min(samples, 3) if delayed else samples,
        login=login,
        timeout_seconds=DELAYED_TIMEOUT_SECONDS if delayed else 15,
    )


def _shown(labels: Sequence[str]) -> str:
    """v1 and v2 → "reviews v1/v2"; an error's label as it is."""
    versions = [label for label in labels if label.startswith("v")]
    return f"reviews {'/'.join(versions)}" if versions == list(labels) else ", ".join(labels)


def routing_checks(
    gateway: str, scenario: str, deployed: Sequence[str], samples: int
) -> list[Check]:
    """The product page through the ingress gateway shows the routing scenario."""
    seen = SEEN[scenario]
    url = f"{gateway}/productpage"
    anonymous = seen.anonymous or tuple(deployed)
    who = "an anonymous user" if seen.jason else "every user"
    checks = [
        page_check(
            f"routing {scenario}: {who} sees {_shown(anonymous)}",
            url,
            anonymous,
            samples,
            shares=seen.shares,
        )
    ]
    if seen.jason:
        checks.append(
            page_check(
                f"routing {scenario}: jason sees {_shown(seen.jason)}",
                url,
                seen.jason,
                samples,
                login=JASON,
            )
        )
    return checks


def cluster_local_checks(
    gateway: str,
    reviews_of: Mapping[str, Sequence[str]],
    reviews_retained: bool,
    samples: int,
) -> list[Check]:
    """/productpage1, /productpage2, …: each cluster's product page; with reviews retained,
    only that cluster's reviews versions (no other cluster's stars)."""
    everywhere = sorted({v for versions in reviews_of.values() for v in versions})
    checks = []
    for i, (cluster, versions) in enumerate(reviews_of.items()):
        only = tuple(versions) if reviews_retained else tuple(everywhere)
        checks.append(
            page_check(
                f"{entry_path(i)}: {cluster}'s product page shows {_shown(only)}"
                + (" (retained in the cluster)" if reviews_retained else ""),
                f"{gateway}{entry_path(i)}",
                only,
                samples,
            )
        )
    return checks


def plain_text_refused(namespace: str) -> Check:
    return refused_in_plain_text(
        "mTLS STRICT: productpage refuses a caller outside the mesh",
        f"http://productpage.{namespace}:{PORT}/productpage",
    )


def reviews_denied(namespace: str, cluster: str, samples: int = 3) -> Check:
    """From a mesh pod that is not productpage, reviews is refused by the waypoint's L7
    policy (bookinfo_policy.py); the page's own reviews show productpage is admitted."""
    return Check(
        name=f"L7 policy in {cluster}: only productpage may GET reviews (others get 403)",
        url=f"http://reviews.{namespace}:{PORT}/reviews/0",
        classes=(DENIED_CLASS,),
        expect=Expect(only=(DENIED,)),
        samples=samples,
    )


def productpage_not_admitted(namespace: str, where: str = "", samples: int = 3) -> Check:
    """From a mesh pod whose account Bookinfo's default-deny set does not admit
    (bookinfo_authz.py), productpage refuses the call; the product page through the ingress
    gateway shows the admitted callers get through."""
    return Check(
        name=f"default-deny{where}: an account productpage does not admit gets 403",
        url=f"http://productpage.{namespace}:{PORT}/productpage",
        classes=(NOT_ADMITTED_CLASS,),
        expect=Expect(only=(NOT_ADMITTED,)),
        samples=samples,
    )
