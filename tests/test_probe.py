"""The verification script (components/meshstack/verify/probe_job.py) against recorded
answers: product pages rendered from Istio's template (tests/data/productpage/README.md),
helloworld's and the VM's answers, the answers of a broken mesh (Envoy's 404 without a
route, 503 without a healthy endpoint, a plain-text call that gets through), and a real
HTTP run of the script.
"""

from __future__ import annotations

import dataclasses
import http.server
import itertools
import json
import os
import socketserver
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from meshstack.apps.bookinfo_checks import (
    RATINGS_UNAVAILABLE,
    REVIEWS_UNAVAILABLE,
    cluster_local_checks,
    plain_text_refused,
    productpage_not_admitted,
    routing_checks,
)
from meshstack.apps.hello_world import responders_check
from meshstack.verify import probe_job as probe
from meshstack.verify.checks import REFUSED, Check, answers_with, refused_in_plain_text

PAGES = Path(__file__).parent / "data" / "productpage"
GATEWAY = "http://istio-ingressgateway.istio-system"
# Envoy's own answers (source/common/router/router.cc): no route matched; no healthy endpoint.
NO_ROUTE = probe.Answer(404, "")
NO_UPSTREAM = probe.Answer(503, "no healthy upstream")
RESET = probe.Answer(
    None, error="RemoteDisconnected: Remote end closed connection without response"
)


def page(name: str) -> probe.Answer:
    return probe.Answer(200, (PAGES / name).read_text())


V1, V2 = page("reviews-v1.html"), page("reviews-v2.html")
V3 = page("reviews-v3-jason.html")


def as_json(check: Check) -> dict:
    """The check as the pod receives it (the Job's CHECKS variable)."""
    return json.loads(json.dumps(check.to_json()))


class Service:
    """Answers as a mesh would: `answer(request, logged_in)` per request, sessions by login."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.requests: list[tuple[str, str, Mapping[str, str], bytes | None]] = []

    def client(self, timeout: float) -> probe.Client:
        session = {"user": ""}

        def call(method, url, headers, data):
            self.requests.append((method, url, headers, data))
            if method == "POST" and url.endswith("/login"):
                session["user"] = dict(item.split("=") for item in data.decode().split("&"))[
                    "username"
                ]
                return probe.Answer(200, "")
            return self.answer(url, session["user"])

        return call


def run(checks: list[Check], service: Service, deadline: float = 0) -> list[str]:
    clock = itertools.count(0, 10).__next__
    return probe.run(
        [as_json(c) for c in checks],
        service.client,
        deadline,
        clock=clock,
        nap=lambda _: None,
        log=lambda _: None,
    )


def cycle(*answers: probe.Answer):
    answers_iter = itertools.cycle(answers)
    return lambda url, user: next(answers_iter)


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        (V1, "v1"),
        (V2, "v2"),
        (V3, "v3"),
        (page("ratings-unavailable-jason.html"), RATINGS_UNAVAILABLE),
        (page("reviews-unavailable-jason.html"), REVIEWS_UNAVAILABLE),
        (NO_ROUTE, "HTTP 404, not recognised"),
        (NO_UPSTREAM, "HTTP 503, not recognised"),
        (RESET, f"no HTTP answer ({RESET.error})"),
    ],
    ids=["v1", "v2", "v3", "ratings-error", "reviews-error", "404", "503", "reset"],
)
def test_product_pages_are_named_by_what_they_show(answer, label):
    (check,) = routing_checks(GATEWAY, "all-v1", ["v1"], 20)
    assert probe.classify(answer, as_json(check)["classes"]) == label


def test_the_page_of_each_routing_scenario_passes_and_a_wrong_one_fails():
    # all-v1 while reviews still round-robins (the VirtualService missing or not yet pushed).
    (check,) = routing_checks(GATEWAY, "all-v1", ["v1", "v2", "v3"], 20)
    assert run([check], Service(cycle(V1))) == []
    (failure,) = run([check], Service(cycle(V1, V2, V3)))
    assert failure.startswith(
        f"FAIL routing all-v1: every user sees reviews v1 (GET {GATEWAY}/productpage): "
        "expected only v1; saw "
    )
    assert failure.endswith("saw v1 x7, v2 x7, v3 x6")


def test_jason_logs_in_and_sees_his_route():
    checks = routing_checks(GATEWAY, "jason-v2", ["v1", "v2", "v3"], 20)
    service = Service(lambda url, user: V2 if user == "jason" else V1)
    assert run(checks, service) == []
    logins = [r for r in service.requests if r[0] == "POST"]
    assert logins == [
        (
            "POST",
            f"{GATEWAY}/login",
            {
                "Referer": f"{GATEWAY}/productpage",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            b"username=jason&passwd=password",
        )
    ]
    # A route that ignores the end-user header: jason sees v1 too.
    (failure,) = run(checks, Service(cycle(V1)))
    assert "jason sees reviews v2" in failure and f"{GATEWAY}/productpage as jason" in failure
    assert "expected only v2; saw v1 x20" in failure


@pytest.mark.parametrize(
    ("scenario", "jason_page", "label"),
    [
        ("ratings-delay", "reviews-unavailable-jason.html", REVIEWS_UNAVAILABLE),
        ("ratings-abort", "ratings-unavailable-jason.html", RATINGS_UNAVAILABLE),
    ],
)
def test_injected_faults_show_for_jason_only(scenario, jason_page, label):
    checks = routing_checks(GATEWAY, scenario, ["v1", "v2"], 20)
    jason = checks[1]
    assert jason.login == "jason" and jason.expect.only == (label,)
    # A delayed page takes 6 s: a few show it, each allowed the whole delay.
    assert jason.samples == 3 or label != REVIEWS_UNAVAILABLE
    faulty = page(jason_page)
    assert run(checks, Service(lambda url, user: faulty if user else V1)) == []
    (failure,) = run(checks, Service(lambda url, user: V2 if user else V1))
    assert f"expected only {label}; saw v2 x" in failure


def test_weighted_routes_are_judged_on_their_share():
    (check,) = routing_checks(GATEWAY, "reviews-80-20", ["v1", "v2", "v3"], 20)
    assert check.samples == 100
    low, high = check.expect.shares["v2"]
    assert 0 < low < 0.2 < high < 0.5
    eighty_twenty = cycle(*([V1] * 4 + [V2]))
    assert run([check], Service(eighty_twenty)) == []
    for wrong in (cycle(V1, V2), cycle(V1)):  # 50/50, or the weights not applied
        (failure,) = run([check], Service(wrong))
        assert "v2 in " in failure and "of the answers (got " in failure


def test_cluster_local_paths_show_their_own_clusters_reviews():
    checks = cluster_local_checks(GATEWAY, {"m1c1": ["v1"], "m1c2": ["v2"]}, True, 20)
    assert [c.url for c in checks] == [f"{GATEWAY}/productpage1", f"{GATEWAY}/productpage2"]

    def retained(url, user):
        return V1 if url.endswith("1") else V2

    assert run(checks, Service(retained)) == []
    # Not retained: reviews answers from both clusters on both paths.
    failures = run(checks, Service(cycle(V1, V2)))
    assert len(failures) == 2
    assert "expected only v1; saw v1 x10, v2 x10" in failures[0]
    unretained = cluster_local_checks(GATEWAY, {"m1c1": ["v1"], "m1c2": ["v2"]}, False, 20)
    assert run(unretained, Service(cycle(V1, V2))) == []


RESET_BY_PEER = probe.Answer(
    None, error="ConnectionResetError: [Errno 104] Connection reset by peer"
)


@pytest.mark.parametrize("closed", [RESET, RESET_BY_PEER], ids=["closed", "reset"])
def test_plain_text_must_be_closed_under_strict_mtls(closed):
    check = plain_text_refused("bookinfo")
    assert check.url == "http://productpage.bookinfo:9080/productpage"
    assert run([check], Service(cycle(closed))) == []


@pytest.mark.parametrize(
    ("answer", "seen"),
    [
        # A pod without a sidecar (or PERMISSIVE mode) answers plain text.
        (V1, "HTTP 200, not recognised x3"),
        # Nothing listening, or no such Service: that proves nothing about mTLS.
        (
            probe.Answer(None, error="ConnectionRefusedError: [Errno 111] Connection refused"),
            "no HTTP answer (ConnectionRefusedError",
        ),
        (
            probe.Answer(None, error="gaierror: [Errno -2] Name or service not known"),
            "no HTTP answer (gaierror",
        ),
    ],
    ids=["answered", "refused", "unknown-host"],
)
def test_plain_text_check_fails_unless_the_server_closes_the_connection(answer, seen):
    (failure,) = run([plain_text_refused("bookinfo")], Service(cycle(answer)))
    assert f"expected only {REFUSED}; saw {seen}" in failure


def test_the_vm_must_answer_with_its_own_page():
    check = answers_with(
        "hello-vm answers",
        "http://hello-vm.vm-namespace/",
        "hello-vm (vm1) on hello-vm-1",
        "the VM's page",
        20,
    )
    # python3 -m http.server serves the index.html the boot script wrote.
    assert run([check], Service(cycle(probe.Answer(200, "hello-vm (vm1) on hello-vm-1\n")))) == []
    (failure,) = run([check], Service(cycle(NO_UPSTREAM)))
    assert 'saw HTTP 503, not recognised x20, e.g. "no healthy upstream"' in failure


def test_every_cluster_must_answer_over_the_rounds():
    check = responders_check("sample", ["m1c1", "m1c2"], 20)

    def hello(cluster: str) -> probe.Answer:
        # samples/helloworld/src/app.py: 'Hello version: %s, instance: %s\n'
        return probe.Answer(200, f"Hello version: {cluster}, instance: hello-world-7f9-x2x\n")

    (failure,) = run([check], Service(cycle(hello("m1c1"))), deadline=30)
    assert "each of m1c1, m1c2 at least once (m1c2 never)" in failure
    # Seen over two rounds (another cluster's endpoints arrive later): enough.
    rounds = iter([hello("m1c1")] * 20 + [hello("m1c2")] * 20)
    assert run([check], Service(lambda url, user: next(rounds)), deadline=30) == []


def test_checks_retry_until_their_deadline():
    (check,) = routing_checks(GATEWAY, "all-v1", ["v1"], 5)
    answers = iter([NO_ROUTE] * 10 + [V1] * 5)  # two failed rounds, then the route is pushed
    service = Service(lambda url, user: next(answers))
    naps: list[float] = []
    failures = probe.run(
        [as_json(check)],
        service.client,
        60,
        clock=itertools.count(0, 10).__next__,
        nap=naps.append,
        log=lambda _: None,
    )
    assert failures == [] and naps == [probe.RETRY_SECONDS] * 2
    # Past the deadline, the last round is what the failure reports.
    (failure,) = run([check], Service(cycle(NO_ROUTE)), deadline=25)
    assert "saw HTTP 404, not recognised x5" in failure


def test_answers_are_reported_most_common_first_with_the_start_of_unrecognised_ones():
    counts = Counter({"v1": 3, "HTTP 404, not recognised": 17})
    examples = {"HTTP 404, not recognised": "  route\n  not found " + "x" * 500}
    seen = probe._seen(counts, examples)
    assert seen.startswith('HTTP 404, not recognised x17, v1 x3, e.g. "route not found xxx')
    assert len(seen) < 250


@pytest.fixture
def bookinfo_server() -> Iterator[str]:
    """productpage's behaviour over real HTTP: /login keeps the user in a session cookie and
    redirects to the Referer (productpage.py login()); /productpage shows v2 to jason."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            user = dict(p.split("=") for p in self.rfile.read(length).decode().split("&"))
            self.send_response(302)
            self.send_header("Location", self.headers["Referer"])
            self.send_header("Set-Cookie", f"session={user['username']}; HttpOnly; Path=/")
            self.end_headers()

        def do_GET(self):
            if self.path != "/productpage":
                self.send_error(404)
                return
            body = (V2 if "session=jason" in (self.headers["Cookie"] or "") else V1).body
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _script(checks: list[Check], deadline: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CHECKS": json.dumps([c.to_json() for c in checks]),
        "DEADLINE_SECONDS": str(deadline),
        "RETRY_SECONDS": "0.1",
        "IN_MESH": "0",
    }
    return subprocess.run(
        [sys.executable, probe.__file__],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_script_runs_its_checks_over_http(bookinfo_server):
    ok = _script(routing_checks(bookinfo_server, "jason-v2", ["v1", "v2"], 5), 10)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("PASS ") == 2
    bad = _script(routing_checks(bookinfo_server, "reviews-v3", ["v3"], 5), 1)
    assert bad.returncode == 1
    assert "expected only v3; saw v1 x5" in bad.stderr


@pytest.fixture
def strict_sidecar() -> Iterator[int]:
    """Accepts a connection and closes it unanswered, as Envoy does with plain text on a
    STRICT inbound listener (no filter chain matches)."""

    class Close(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.recv(1024)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Close)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_script_tells_a_closed_connection_from_a_missing_service(strict_sidecar):
    closed = refused_in_plain_text("closed", f"http://127.0.0.1:{strict_sidecar}/", samples=2)
    result = _script([closed], 1)
    assert result.returncode == 0, result.stderr
    missing = refused_in_plain_text("missing", "http://productpage.no-such-namespace.invalid/")
    result = _script([missing], 1)
    assert result.returncode == 1 and "no HTTP answer (" in result.stderr


def test_a_sidecar_is_told_to_quit(monkeypatch):
    calls = []

    class Quit(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format, *args):  # quiet
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Quit)
    threading.Thread(target=server.handle_request, daemon=True).start()
    monkeypatch.setattr(
        probe, "QUIT_URL", f"http://127.0.0.1:{server.server_address[1]}/quitquitquit"
    )
    probe.quit_sidecar()
    server.server_close()
    assert calls == ["/quitquitquit"]


# Envoy's RBAC filter's answer to a call no ALLOW policy admits (sidecar or waypoint).
RBAC_DENIED = probe.Answer(403, "RBAC: access denied")


def test_an_account_not_admitted_must_get_rbacs_403():
    denied = productpage_not_admitted("bookinfo")
    assert run([denied], Service(cycle(RBAC_DENIED))) == []
    # Admitted after all (the page), or refused another way (a reset): the check fails.
    for answer in (V1, RESET, probe.Answer(403, "forbidden")):
        (failure,) = run([denied], Service(cycle(answer)))
        assert "expected only denied by the default-deny policies" in failure


@pytest.fixture
def denying_sidecar() -> Iterator[str]:
    class Deny(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = RBAC_DENIED.body.encode()
            self.send_response(403)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Deny)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_script_passes_a_403_and_fails_a_page_for_a_denied_account(
    denying_sidecar, bookinfo_server
):
    check = productpage_not_admitted("bookinfo")
    ok = _script([dataclasses.replace(check, url=f"{denying_sidecar}/productpage")], 5)
    assert ok.returncode == 0, ok.stderr
    bad = _script([dataclasses.replace(check, url=f"{bookinfo_server}/productpage")], 1)
    assert bad.returncode == 1
    assert "expected only denied by the default-deny policies; saw HTTP 200" in bad.stderr
