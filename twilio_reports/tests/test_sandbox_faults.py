"""Fault knobs over a real port: concurrency cap, injected errors, stalls, broken bodies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from twilio_reports.sandbox import (
    MAIN_ACCOUNT_SID,
    MAIN_AUTH_TOKEN,
    SUBACCOUNTS,
    SandboxConfig,
    SandboxServer,
    start_server,
)

MAIN = (MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN)
CALLS = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json"
HEALTHY = {"latency_ms": 0, "max_in_flight_per_account": None, "rate_429": 0.0,
           "retry_after_share": 0.5, "rate_5xx": 0.0, "stall_next": 0, "stall_seconds": 30.0,
           "truncate_rate": 0.0, "reset_rate": 0.0, "date_upper": "before",
           "settled": False}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with start_server(SandboxConfig(today=date(2026, 11, 20), calls=500, messages=100)) as s:
        yield s


def test_it_answers_429_20429_above_the_in_flight_cap(sandbox):
    sandbox.config.max_in_flight_per_account = 2
    sandbox.config.latency_ms = 800
    statuses: list[int] = []
    bodies: list[dict] = []

    def call() -> None:
        r = httpx.get(sandbox.url + CALLS, auth=MAIN, timeout=10)
        statuses.append(r.status_code)
        bodies.append(r.json())

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 2
    assert statuses.count(429) == 4
    assert {b["code"] for b in bodies if "code" in b} == {20429}
    # The cap is per account: another account is not held back by the main one.
    sub_sid, sub_token, _ = SUBACCOUNTS[0]
    assert httpx.get(f"{sandbox.url}/2010-04-01/Accounts/{sub_sid}.json",
                     auth=(sub_sid, sub_token)).status_code == 200


def fault_sequence(url: str, n: int) -> list[tuple[int, str | None]]:
    out = []
    with httpx.Client(base_url=url, auth=MAIN, timeout=10) as client:
        for _ in range(n):
            r = client.get(CALLS, params={"PageSize": "5"})
            out.append((r.status_code, r.headers.get("retry-after")))
    return out


def test_it_injects_reproducible_faults_set_over_http(sandbox):
    knobs = {"rate_429": 0.3, "rate_5xx": 0.2, "retry_after_share": 0.5}
    assert httpx.post(sandbox.url + "/_sandbox/knobs", json=knobs).status_code == 200
    first = fault_sequence(sandbox.url, 40)
    httpx.post(sandbox.url + "/_sandbox/knobs", json=knobs)  # reseeds the fault RNG
    second = fault_sequence(sandbox.url, 40)
    assert first == second
    statuses = {s for s, _ in first}
    assert statuses >= {200, 429} and statuses & {500, 503}
    retry_afters = [ra for s, ra in first if s == 429]
    assert "1" in retry_afters and None in retry_afters


def test_it_reports_and_validates_knobs(sandbox):
    assert httpx.get(sandbox.url + "/_sandbox/knobs").json() == HEALTHY
    bad = httpx.post(sandbox.url + "/_sandbox/knobs", json={"calls": 5})
    assert bad.status_code == 400
    httpx.post(sandbox.url + "/_sandbox/knobs", json={"max_in_flight_per_account": 3})
    assert sandbox.config.max_in_flight_per_account == 3


def test_it_never_faults_the_control_endpoints(sandbox):
    sandbox.config.rate_5xx = 1.0
    assert httpx.get(sandbox.url + "/_sandbox/knobs").status_code == 200
    assert httpx.get(sandbox.url + CALLS, auth=MAIN).status_code in (500, 503)


def test_it_stalls_only_the_next_requests(sandbox):
    httpx.post(sandbox.url + "/_sandbox/knobs", json={"stall_next": 1, "stall_seconds": 2.0})
    with httpx.Client(base_url=sandbox.url, auth=MAIN) as client:
        started = time.monotonic()
        assert client.get(CALLS).status_code == 200
        assert time.monotonic() - started >= 2.0
        started = time.monotonic()
        client.get(CALLS)
        assert time.monotonic() - started < 1.5  # not stalled (slack for a loaded machine)
    with pytest.raises(httpx.ReadTimeout):  # a client timeout ends a long stall
        sandbox.config.stall_next, sandbox.config.stall_seconds = 1, 30
        httpx.get(sandbox.url + CALLS, auth=MAIN, timeout=0.3)


def test_it_truncates_bodies_after_honest_headers(sandbox):
    sandbox.config.truncate_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(sandbox.url + CALLS, auth=MAIN)


def test_it_resets_connections(sandbox):
    sandbox.config.reset_rate = 1.0
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(sandbox.url + CALLS, auth=MAIN)
    sandbox.config.reset_rate = 0.0
    assert httpx.get(sandbox.url + CALLS, auth=MAIN).status_code == 200


def test_it_adds_latency_to_each_request(sandbox):
    sandbox.config.latency_ms = 200
    started = time.monotonic()
    httpx.get(sandbox.url + CALLS, auth=MAIN)
    assert time.monotonic() - started >= 0.2
