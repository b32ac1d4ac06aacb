"""Runs in the cluster (python3, standard library only): the stack's verification checks.

CHECKS is a JSON list; each check calls one URL `samples` times per round, classifies every
answer with its `classes` (the first that matches names it) and holds when a round's answers
show what `expect` says. Rounds repeat every RETRY_SECONDS (5) until every check holds or
DEADLINE_SECONDS pass (routes, sidecars and VMs take a while to be ready); then the pod fails
with, for each check that did not hold, what it expected and what it saw.

A check (meshstack/verify/checks.py builds them):
  name          what it proves, in a user's words
  url           what it calls (GET)
  login         a Bookinfo user: POST <origin>/login first and keep the session cookie
  samples       requests per round
  timeoutSeconds  per request
  classes       [{label, status?, body?, error?}]: an HTTP status and a body regex (a group
                `label` names the answer), or `error`, a regex on why there was no answer
  expect        {only?: [labels], each?: [labels], shares?: {label: [low, high]}}
                only: no other label in a round; shares: a label's share of a round;
                each: every label seen at least once (over all rounds)

IN_MESH=1: the pod has Istio's sidecar; it is told to quit at the end (pilot-agent's
POST localhost:15020/quitquitquit, pilot/cmd/pilot-agent/status/server.go), or a classic
sidecar would keep the Job's pod running. The verdict is also written to the termination
log, which pulumi-kubernetes shows when a Job's pod fails (await/checker/pod/check.go).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RETRY_SECONDS = 5
QUIT_URL = "http://localhost:15020/quitquitquit"
TERMINATION_LOG = "/dev/termination-log"
MAX_BODY = 256 * 1024
EXAMPLE_CHARS = 160

Check = Mapping[str, Any]


@dataclass(frozen=True)
class Answer:
    # None: no HTTP answer at all (refused, reset, timed out, name not found).
    status: int | None
    body: str = ""
    error: str = ""


# (method, url, headers, form data) -> Answer; one client keeps one session's cookies.
Client = Callable[[str, str, Mapping[str, str], bytes | None], Answer]


def http_client(timeout: float) -> Client:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def call(method: str, url: str, headers: Mapping[str, str], data: bytes | None) -> Answer:
        request = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
        try:
            with opener.open(request, timeout=timeout) as response:
                return Answer(response.status, _text(response.read(MAX_BODY)))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _text(error.read(MAX_BODY)))
        except (OSError, http.client.HTTPException) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            return Answer(None, error=_error_name(reason))

    return call


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _error_name(reason: object) -> str:
    if isinstance(reason, BaseException):
        detail = str(reason)
        return f"{type(reason).__name__}: {detail}" if detail else type(reason).__name__
    return str(reason)


NOT_RECOGNISED = ", not recognised"


def classify(answer: Answer, classes: Sequence[Mapping[str, Any]]) -> str:
    """The label of the first class the answer fits; otherwise what the answer was."""
    for rule in classes:
        if "error" in rule:
            if answer.status is None and re.search(rule["error"], answer.error):
                return rule["label"]
            continue
        if answer.status is None or answer.status != rule.get("status", answer.status):
            continue
        if "body" not in rule:
            return rule["label"]
        match = re.search(rule["body"], answer.body)
        if match:
            return match.groupdict().get("label") or rule["label"]
    if answer.status is None:
        return f"no HTTP answer ({answer.error})"
    return f"HTTP {answer.status}{NOT_RECOGNISED}"


def sample(check: Check, client: Client) -> tuple[Counter[str], dict[str, str]]:
    """One round: the labels counted, and the first body of each answer not recognised."""
    url = check["url"]
    if check.get("login"):
        parts = urllib.parse.urlsplit(url)
        # productpage.py login(): `username` into the Flask session, then a redirect to the
        # Referer; the session cookie makes productpage send `end-user: <user>` onwards.
        client(
            "POST",
            f"{parts.scheme}://{parts.netloc}/login",
            {"Referer": url, "Content-Type": "application/x-www-form-urlencoded"},
            urllib.parse.urlencode({"username": check["login"], "passwd": "password"}).encode(),
        )
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for _ in range(int(check["samples"])):
        answer = client("GET", url, {}, None)
        label = classify(answer, check["classes"])
        counts[label] += 1
        if label.endswith(NOT_RECOGNISED) and answer.body:
            examples.setdefault(label, answer.body)
    return counts, examples


def verdict(check: Check, counts: Counter[str], seen: Iterable[str]) -> str:
    """ "" when a round shows what the check expects, else what was expected."""
    expect = check["expect"]
    total = sum(counts.values())
    problems = []
    only = expect.get("only")
    if only is not None and any(label not in only for label in counts):
        problems.append(f"only {_labels(only)}")
    for label, (low, high) in sorted(expect.get("shares", {}).items()):
        share = counts[label] / total if total else 0.0
        if not low <= share <= high:
            problems.append(f"{label} in {low:.0%} to {high:.0%} of the answers (got {share:.0%})")
    missing = [label for label in expect.get("each", ()) if label not in set(seen)]
    if missing:
        wanted = _labels(expect["each"])
        problems.append(f"each of {wanted} at least once ({_labels(missing)} never)")
    return "; ".join(problems)


def _labels(labels: Iterable[str]) -> str:
    return ", ".join(labels)


def _seen(counts: Counter[str], examples: Mapping[str, str]) -> str:
    """Each label with its count, most common first; the start of answers not recognised."""
    parts = [f"{label} x{n}" for label, n in counts.most_common()]
    parts += [
        f'e.g. "{" ".join(body.split())[:EXAMPLE_CHARS]}"' for body in list(examples.values())[:2]
    ]
    return ", ".join(parts)


def describe(check: Check) -> str:
    who = f" as {check['login']}" if check.get("login") else ""
    return f"{check['name']} (GET {check['url']}{who})"


def run(
    checks: Sequence[Check],
    new_client: Callable[[float], Client],
    deadline_seconds: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    nap: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = print,
    retry_seconds: float = RETRY_SECONDS,
) -> list[str]:
    """Rounds until every check holds or the deadline passes: the failures, [] if none."""
    deadline = clock() + deadline_seconds
    pending = list(checks)
    seen: dict[str, set[str]] = {check["name"]: set() for check in checks}
    last: dict[str, str] = {}
    while True:
        for check in list(pending):
            counts, examples = sample(check, new_client(float(check.get("timeoutSeconds", 15))))
            seen[check["name"]].update(counts)
            problem = verdict(check, counts, seen[check["name"]])
            observed = _seen(counts, examples)
            if not problem:
                log(f"PASS {describe(check)}: {observed}")
                pending.remove(check)
            else:
                last[check["name"]] = f"FAIL {describe(check)}: expected {problem}; saw {observed}"
        if not pending:
            return []
        if clock() >= deadline:
            return [last[check["name"]] for check in pending]
        log(f"waiting for {len(pending)} check(s): {pending[0]['name']} ...")
        nap(retry_seconds)


def quit_sidecar() -> None:
    try:
        urllib.request.urlopen(urllib.request.Request(QUIT_URL, method="POST"), timeout=5)
    except OSError as error:  # no sidecar, or a native one that stops with the pod
        print(f"sidecar not told to quit: {error}", flush=True)


def main() -> None:
    settings = os.environ
    try:
        failures = run(
            json.loads(settings["CHECKS"]),
            http_client,
            float(settings.get("DEADLINE_SECONDS", "300")),
            log=lambda line: print(line, flush=True),
            retry_seconds=float(settings.get("RETRY_SECONDS", RETRY_SECONDS)),
        )
    finally:
        if settings.get("IN_MESH") == "1":
            quit_sidecar()
    if failures:
        message = "\n".join(failures)
        try:
            with open(TERMINATION_LOG, "w") as log_file:
                log_file.write(message[:4000])
        except OSError:
            pass  # FallbackToLogsOnError: the log's tail is the message then
        sys.exit(message)


if __name__ == "__main__":
    main()
