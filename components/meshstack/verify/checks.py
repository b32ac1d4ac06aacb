"""Verification checks as data: what to call, how to name each answer, what must be seen.

The script that runs them in the cluster is probe_job.py; a check travels to it as JSON.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Four standard deviations of a binomial share: a correct split fails about once in 15,000
# rounds; 80/20 read as 50/50 (or as 100/0) fails at 100 samples.
SIGMAS = 4
# Weighted routing is judged on at least this many answers per round.
WEIGHTED_SAMPLES = 100
REFUSED = "closed by the server"
# The connection was accepted, then closed without an answer: what a sidecar in STRICT mode
# does to plain text (no filter chain matches it). Not a refused connection (nothing
# listening) nor an unknown host: those prove nothing about mTLS.
CLOSED = r"^(RemoteDisconnected|ConnectionResetError|BadStatusLine|BrokenPipeError)\b"


@dataclass(frozen=True)
class AnswerClass:
    """Answers that fit get `label`: an HTTP status and a body regex (a group named `label`
    names the answer instead), or `error`, a regex on why no HTTP answer came."""

    label: str
    status: int | None = None
    body: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"label": self.label}
        if self.error is not None:
            rule["error"] = self.error
        if self.status is not None:
            rule["status"] = self.status
        if self.body is not None:
            rule["body"] = self.body
        return rule


@dataclass(frozen=True)
class Expect:
    only: tuple[str, ...] | None = None
    each: tuple[str, ...] = ()
    shares: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        expect: dict[str, Any] = {}
        if self.only is not None:
            expect["only"] = list(self.only)
        if self.each:
            expect["each"] = list(self.each)
        if self.shares:
            expect["shares"] = {label: list(bounds) for label, bounds in self.shares.items()}
        return expect


@dataclass(frozen=True)
class Check:
    name: str
    url: str
    classes: tuple[AnswerClass, ...]
    expect: Expect
    samples: int
    login: str | None = None
    timeout_seconds: int = 15

    def to_json(self) -> dict[str, Any]:
        check: dict[str, Any] = {
            "name": self.name,
            "url": self.url,
            "samples": self.samples,
            "timeoutSeconds": self.timeout_seconds,
            "classes": [c.to_json() for c in self.classes],
            "expect": self.expect.to_json(),
        }
        if self.login:
            check["login"] = self.login
        return check


def share_bounds(share: float, samples: int) -> tuple[float, float]:
    """Where a round's share of a route with weight `share` lands, but for bad luck."""
    spread = SIGMAS * math.sqrt(share * (1 - share) / samples)
    return round(max(0.0, share - spread), 3), round(min(1.0, share + spread), 3)


def refused_in_plain_text(name: str, url: str, samples: int = 3) -> Check:
    """mTLS STRICT: a client without a sidecar gets no HTTP answer (the server's sidecar
    wants TLS and drops the connection)."""
    return Check(
        name=name,
        url=url,
        classes=(AnswerClass(REFUSED, error=CLOSED),),
        expect=Expect(only=(REFUSED,)),
        samples=samples,
    )


def answers_with(name: str, url: str, text: str, label: str, samples: int) -> Check:
    """Every answer is HTTP 200 with `text` in its body."""
    return Check(
        name=name,
        url=url,
        classes=(AnswerClass(label, status=200, body=re.escape(text)),),
        expect=Expect(only=(label,)),
        samples=samples,
    )
