"""Twilio's date-only upper bound, read each way a server may read it.

Twilio documents `StartTime<=D` as *before* D and the real API was seen to read it so; some
look-alikes read it as the whole of D. The sandbox serves each reading behind its
`date_upper` knob, and every date-windowed report must come back exactly as the ground
truth under each of them, through a real HTTP round trip.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest

from twilio_reports.client import PullConfig, RetryPolicy
from twilio_reports.dates import day_bounds_utc
from twilio_reports.sandbox import (
    DATE_UPPER_READINGS,
    MAIN_ACCOUNT_SID,
    MAIN_AUTH_TOKEN,
    SandboxConfig,
    start_server,
)
from twilio_reports.tests.sandbox_truth import truth_sids, usage_keys
from twilio_reports.tests.test_service import assert_same, pull, sids_of

CONFIG = PullConfig(retry=RetryPolicy(scale=0.001), read_timeout=5, page_size=40)
DATED = ("calls", "messages", "conferences", "notifications", "alerts")
# A fixed day whose data window holds the end of US daylight saving time (2026-11-01).
DST_TODAY = date(2026, 11, 20)
DST_CONFIG = replace(CONFIG, clock=lambda: datetime.combine(DST_TODAY, time(23, 59), UTC))
CALLS = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json"


@pytest.fixture(scope="module")
def sandbox():
    with start_server(SandboxConfig(calls=2400, messages=1600, alerts=400)) as server:
        yield server


@pytest.fixture(scope="module")
def dst_sandbox():
    with start_server(SandboxConfig(today=DST_TODAY, calls=2400, messages=1600,
                                    alerts=400)) as server:
        yield server


@pytest.fixture(params=DATE_UPPER_READINGS)
def reading(request, sandbox, dst_sandbox):
    for server in (sandbox, dst_sandbox):
        server.config.date_upper = request.param
    yield request.param
    for server in (sandbox, dst_sandbox):
        server.config.date_upper = "before"


def check_window(server, report: str, window: tuple[date, date], tz: str,
                 config: PullConfig = CONFIG) -> None:
    table = pull(server, report, window=window, tz=tz, config=config)
    span = day_bounds_utc(window[0], window[1], tz)
    want = truth_sids(server.world, report, span=span)
    assert want, "the window must hold rows, or the test proves nothing"
    assert_same(sids_of(table), want)


def calls_on(server, params: dict[str, str]) -> list[dict]:
    body = httpx.get(server.url + CALLS, params={**params, "PageSize": "1000"},
                     auth=(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN)).json()
    assert body["next_page_uri"] is None
    return body["calls"]


@pytest.mark.parametrize("report", DATED)
def test_it_pulls_one_day_exactly_under_each_reading(sandbox, reading, report):
    day = sandbox.world.today - timedelta(days=3)
    check_window(sandbox, report, (day, day), "UTC")


@pytest.mark.parametrize("report", DATED)
def test_it_pulls_days_across_slices_exactly_under_each_reading(sandbox, reading, report):
    today = sandbox.world.today
    check_window(sandbox, report, (today - timedelta(days=9), today - timedelta(days=1)),
                 "Asia/Kolkata")


@pytest.mark.parametrize("report", DATED)
def test_it_pulls_a_new_york_window_across_a_dst_change(dst_sandbox, reading, report):
    # The sandbox's now is DST_TODAY's end: Alerts' 30-day limit is counted from it.
    check_window(dst_sandbox, report, (date(2026, 10, 30), date(2026, 11, 3)),
                 "America/New_York", config=DST_CONFIG)


def test_it_pulls_usage_across_a_dst_change_under_each_reading(dst_sandbox, reading):
    check_usage(dst_sandbox, (date(2026, 10, 30), date(2026, 11, 3)), "America/New_York")


def test_it_pulls_usage_exactly_under_each_reading(sandbox, reading):
    today = sandbox.world.today
    check_usage(sandbox, (today - timedelta(days=12), today - timedelta(days=2)), "UTC")


def check_usage(sandbox, window: tuple[date, date], tz: str) -> None:
    table = pull(sandbox, "usage-records", {"granularity": "daily"}, window=window, tz=tz,
                 config=CONFIG)
    got = sorted(zip(*(table.column(c).to_pylist() for c in
                       ("account_sid", "category", "start_date", "end_date")), strict=True))
    want = sorted((a, c, date.fromisoformat(s), date.fromisoformat(e))
                  for a, c, s, e in usage_keys(sandbox.world, "daily", window=window))
    assert want and got == want


def test_it_never_sends_the_same_day_on_both_sides(sandbox, reading):
    today = sandbox.world.today
    sandbox.app.requests.clear()
    pull(sandbox, "calls", window=(today - timedelta(days=6), today), config=CONFIG)
    firsts = [dict(q) for path, q in sandbox.app.requests if path == CALLS and q]
    bounded = [q for q in firsts if "StartTime<" in q]
    assert bounded
    for q in bounded:
        assert date.fromisoformat(q["StartTime<"]) > date.fromisoformat(q["StartTime>"])


def test_it_asks_for_each_day_once_when_the_server_includes_the_bound_day(sandbox):
    """Pairs of days: a server that includes D+1 is not asked for every day twice."""
    today = sandbox.world.today
    window = (today - timedelta(days=20), today - timedelta(days=1))
    requests = {}
    for reading in ("before", "whole-day"):
        sandbox.config.date_upper = reading
        sandbox.app.requests.clear()
        pull(sandbox, "calls", window=window, config=CONFIG)
        requests[reading] = sum(1 for path, _ in sandbox.app.requests if path == CALLS)
    sandbox.config.date_upper = "before"
    assert requests["whole-day"] <= requests["before"] * 1.1, requests


def test_it_serves_twilios_documented_reading_by_default(sandbox):
    assert sandbox.config.date_upper == "before"
    day = sandbox.world.today - timedelta(days=4)
    assert calls_on(sandbox, {"StartTime>": day.isoformat(), "StartTime<": day.isoformat()}) == []
    next_day = (day + timedelta(days=1)).isoformat()
    rows = calls_on(sandbox, {"StartTime>": day.isoformat(), "StartTime<": next_day})
    lo, hi = day_bounds_utc(day, day, "UTC")
    want = truth_sids(sandbox.world, "calls", sids=[MAIN_ACCOUNT_SID], span=(lo, hi))
    assert want and [r["sid"] for r in rows] == want
    exact = calls_on(sandbox, {"StartTime": day.isoformat()})
    assert [r["sid"] for r in exact] == want


def test_it_serves_the_whole_day_reading_behind_a_knob(sandbox):
    day = sandbox.world.today - timedelta(days=4)
    knob = httpx.post(sandbox.url + "/_sandbox/knobs", json={"date_upper": "whole-day"})
    try:
        assert knob.json()["date_upper"] == "whole-day"
        rows = calls_on(sandbox, {"StartTime>": day.isoformat(), "StartTime<": day.isoformat()})
        lo, hi = day_bounds_utc(day, day, "UTC")
        want = truth_sids(sandbox.world, "calls", sids=[MAIN_ACCOUNT_SID], span=(lo, hi))
        assert want and [r["sid"] for r in rows] == want
    finally:
        httpx.post(sandbox.url + "/_sandbox/knobs", json={"date_upper": "before"})
    bad = httpx.post(sandbox.url + "/_sandbox/knobs", json={"date_upper": "sometimes"})
    assert bad.status_code == 400


def test_it_keeps_undated_rows_only_without_a_window(sandbox):
    everything = pull(sandbox, "calls", config=CONFIG)
    starts = everything.column("start_time").to_pylist()
    assert None in starts  # queued, ringing and canceled-before-dialling calls
    today = sandbox.world.today
    windowed = pull(sandbox, "calls", window=(today - timedelta(days=29), today),
                    config=CONFIG)
    assert windowed.column("start_time").null_count == 0
    ever = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    assert_same(sids_of(windowed), truth_sids(sandbox.world, "calls", span=ever))
