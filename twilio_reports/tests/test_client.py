import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from twilio_reports.client import (
    PullConfig,
    PullStats,
    RetryPolicy,
    TwilioClient,
    TwilioError,
    parse_retry_after,
    repoint,
)
from twilio_reports.sandbox import DATE_UPPER_READINGS
from twilio_reports.service import Credentials

SECRET = "s3cr3t-token-never-shown-anywhere"
BASE = "https://api.example.test"


def _client(handler, **overrides) -> tuple[TwilioClient, list[float]]:
    slept: list[float] = []
    config = PullConfig(transport=httpx.MockTransport(handler), sleep=slept.append,
                        **overrides)
    return TwilioClient(("AC1", SECRET), label="Calls", config=config, stats=PullStats()), slept


def _json(status: int, body: dict, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers or {})


def test_it_backs_off_with_full_jitter_under_a_cap():
    policy = RetryPolicy(base_delay=0.5, max_delay=30)
    assert policy.delay(1, rng=lambda: 1.0) == 0.5
    assert policy.delay(3, rng=lambda: 1.0) == 2.0
    assert policy.delay(20, rng=lambda: 1.0) == 30
    assert policy.delay(4, rng=lambda: 0.0) == 0
    assert RetryPolicy(scale=0.01).delay(20, rng=lambda: 1.0) == pytest.approx(0.3)


def test_it_honours_retry_after_seconds_and_dates():
    policy = RetryPolicy(max_delay=30)
    assert policy.delay(1, "7", rng=lambda: 0.0) == 7
    assert policy.delay(1, "600", rng=lambda: 0.0) == 30
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 < parse_retry_after(later) <= 20
    assert parse_retry_after("soon") is None


def test_it_always_retries_429_and_counts_retries():
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        if calls["n"] <= 7:  # more than the 5xx budget: 429 has its own
            return _json(429, {"code": 20429, "message": "Too Many Requests"},
                         {"Retry-After": "2"} if calls["n"] == 1 else {})
        return _json(200, {"calls": [], "next_page_uri": None})

    client, slept = _client(handler)
    assert client.get_json(BASE + "/x") == {"calls": [], "next_page_uri": None}
    assert client.stats.retries == 7
    assert slept[0] == 2


def test_it_gives_up_on_5xx_after_bounded_retries():
    client, slept = _client(lambda r: _json(503, {"code": 20500, "message": "oops"}))
    with pytest.raises(TwilioError) as err:
        client.get_json(BASE + "/x")
    assert err.value.message == "Calls: Twilio kept failing (HTTP 503) (20500) after 5 retries"
    assert len(slept) == 5 and client.stats.retries == 5


def test_it_retries_timeouts_resets_and_broken_bodies():
    outcomes = iter(["timeout", "reset", "truncated", "ok"])

    def handler(request):
        step = next(outcomes)
        if step == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if step == "reset":
            raise httpx.RemoteProtocolError("peer closed", request=request)
        if step == "truncated":
            return httpx.Response(200, content=b'{"calls": [{"sid": "CA1"')
        return _json(200, {"calls": [{"sid": "CA1"}]})

    client, _ = _client(handler)
    assert client.get_json(BASE + "/x")["calls"] == [{"sid": "CA1"}]
    assert client.stats.retries == 3


def test_it_fails_at_once_on_bad_credentials_without_leaking_the_secret():
    seen = []

    def handler(request):
        seen.append(request)
        return _json(401, {"code": 20003, "message": "Authenticate", "status": 401})

    client, slept = _client(handler)
    with pytest.raises(TwilioError) as err:
        client.get_json(BASE + "/x")
    assert str(err.value) == (
        'Calls: Twilio rejected the credentials (20003). Twilio said: "Authenticate"'
    )
    assert err.value.code == 20003 and err.value.status == 401
    assert len(seen) == 1 and slept == []
    assert SECRET not in repr(client) and SECRET not in repr(err.value)


@pytest.mark.parametrize(("status", "words"), [
    (400, "Twilio rejected the request: Invalid PageSize (20001)"),
    (403, "Twilio refused access: Invalid PageSize (20001)"),
    (404, "Twilio found nothing at this address: Invalid PageSize (20001)"),
])
def test_it_says_what_twilio_said(status, words):
    client, _ = _client(lambda r: _json(status, {"code": 20001, "message": "Invalid PageSize"}))
    with pytest.raises(TwilioError, match=words.replace("(", r"\(").replace(")", r"\)")):
        client.get_json(BASE + "/x")


def test_it_follows_relative_and_absolute_next_links_to_the_configured_base():
    requested = []

    def handler(request):
        requested.append(str(request.url))
        if "PageToken" not in str(request.url):
            assert request.url.params["PageSize"] == "1000"
            assert request.url.params["StartTime>"] == "2026-03-01"
            return _json(200, {"calls": [1], "next_page_uri": "/p?Page=1&PageToken=A"})
        if "PageToken=A" in str(request.url):
            return _json(200, {"calls": [2], "meta": {
                "next_page_url": "https://monitor.twilio.com/p?Page=2&PageToken=B"}})
        return _json(200, {"calls": [3], "meta": {"next_page_url": None}})

    client, _ = _client(handler)
    pages = list(client.iter_pages(BASE, "/p", {"StartTime>": "2026-03-01"}))
    assert [p["calls"] for p in pages] == [[1], [2], [3]]
    assert requested[1] == BASE + "/p?Page=1&PageToken=A"
    assert requested[2] == BASE + "/p?Page=2&PageToken=B"
    assert "StartTime%3E=2026-03-01" in requested[0]
    assert client.stats.pages == 3


def test_it_refuses_to_loop_on_a_repeated_next_link():
    client, _ = _client(lambda r: _json(200, {"calls": [], "next_page_uri": "/p?PageToken=X"}))
    with pytest.raises(TwilioError, match="same next page twice"):
        list(client.iter_pages(BASE, "/p", {}))


def test_it_stops_at_the_page_limit():
    counter = iter(range(10**6))
    client, _ = _client(lambda r: _json(200, {"next_page_uri": f"/p?PageToken={next(counter)}"}),
                        max_pages=5)
    with pytest.raises(TwilioError, match="stopped after 5 pages"):
        list(client.iter_pages(BASE, "/p", {}))


def test_it_repoints_links_under_a_base_path():
    assert repoint("https://monitor.twilio.com/v1/Alerts?Page=1", "http://127.0.0.1:9/mock") == (
        "http://127.0.0.1:9/mock/v1/Alerts?Page=1")
    assert repoint("/2010-04-01/A.json?x=1", "http://h:1") == "http://h:1/2010-04-01/A.json?x=1"


def test_it_keeps_the_secret_out_of_credentials_repr():
    creds = Credentials(account_sid="AC1", secret=SECRET, key_sid="SK1")
    assert SECRET not in repr(creds) and SECRET not in str(creds)
    assert creds.auth == ("SK1", SECRET)


@pytest.mark.parametrize("reading", DATE_UPPER_READINGS)
def test_it_reads_bodies_one_slot_at_a_time_while_requests_stay_in_flight(monkeypatch, reading):
    """Bodies wait in the socket, not in memory, until a body slot is free; the requests
    themselves still overlap (the server sees several in flight)."""
    import threading

    from twilio_reports import client as client_module
    from twilio_reports.dates import day_bounds_utc
    from twilio_reports.sandbox import (
        MAIN_ACCOUNT_SID,
        MAIN_AUTH_TOKEN,
        MAIN_FRIENDLY_NAME,
        SandboxConfig,
        start_server,
    )
    from twilio_reports.service import PullRequest, pull_batches
    from twilio_reports.tests.sandbox_truth import truth_sids

    reading, most = 0, 0
    lock = threading.Lock()
    real_read = client_module._read_body

    def counted(response: httpx.Response):
        nonlocal reading, most
        with lock:
            reading += 1
            most = max(most, reading)
        try:
            return real_read(response)
        finally:
            with lock:
                reading -= 1

    monkeypatch.setattr(client_module, "_read_body", counted)
    with start_server(SandboxConfig(calls=3000, messages=0, alerts=0, latency_ms=40,
                                    date_upper=reading)) as server:
        today = server.world.today
        window = (today - timedelta(days=9), today)
        creds = Credentials(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, api_base=server.url,
                            monitor_base=server.url)
        config = PullConfig(max_in_flight=6, page_size=50, bodies_at_once=1,
                            retry=RetryPolicy(scale=0.001))
        request = PullRequest("calls", {"account_name": MAIN_FRIENDLY_NAME}, window)
        sids = [sid for batch in pull_batches(request, creds, config=config)
                for sid in batch.column("sid").to_pylist()]
        want = truth_sids(server.world, "calls", sids=[MAIN_ACCOUNT_SID],
                          span=day_bounds_utc(*window, "UTC"))
        assert len(want) > 300 and sorted(sids) == sorted(want)
        assert most == 1
        assert server.app.faults.peak[MAIN_ACCOUNT_SID] >= 3
