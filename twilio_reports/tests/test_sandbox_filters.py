"""Filter semantics of the sandbox, through the WSGI app (no port needed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

import httpx
import pytest

from twilio_reports.sandbox import (
    MAIN_ACCOUNT_SID,
    MAIN_AUTH_TOKEN,
    SUBACCOUNTS,
    SandboxConfig,
    SandboxWorld,
    make_app,
)

TODAY = date(2026, 11, 20)
BASE = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}"


@pytest.fixture(scope="module")
def app():
    return make_app(SandboxConfig(today=TODAY, calls=3000, messages=1500, alerts=400))


@pytest.fixture
def client(app) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://sandbox.test",
                      auth=(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN)) as c:
        yield c


def fetch_all(client: httpx.Client, path: str, key: str, params: dict[str, str]) -> list[dict]:
    rows: list[dict] = []
    body = client.get(path, params={**params, "PageSize": "1000"}).json()
    rows += body[key]
    while body.get("next_page_uri"):
        body = client.get(body["next_page_uri"]).json()
        rows += body[key]
    return rows


def when(value: str | None) -> datetime:
    """A row's timestamp; a null one (a call never dialled, a message never sent) sorts
    before every window, so no date filter can match it."""
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return parsedate_to_datetime(value)


def sids(rows: list[dict]) -> list[str]:
    return [r["sid"] for r in rows]


def test_it_filters_calls_by_day_granular_start_time_bounds(app, client):
    # Twilio's documented reading: a date-only upper bound is *before* that day.
    rows = fetch_all(client, f"{BASE}/Calls.json", "calls",
                     {"StartTime>": "2026-11-10", "StartTime<": "2026-11-12"})
    lo, hi = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 12, tzinfo=UTC)
    truth = [c for c in app.world.records("calls") if lo <= when(c["start_time"]) < hi]
    assert len(truth) > 50
    assert sids(rows) == sids(truth)


def test_it_filters_calls_on_one_exact_day(app, client):
    rows = fetch_all(client, f"{BASE}/Calls.json", "calls", {"StartTime": "2026-11-15"})
    assert rows
    assert {when(c["start_time"]).date() for c in rows} == {date(2026, 11, 15)}
    truth = [c for c in app.world.records("calls")
             if when(c["start_time"]).date() == date(2026, 11, 15)]
    assert sids(rows) == sids(truth)


def test_it_accepts_iso_datetime_bounds(app, client):
    rows = fetch_all(client, f"{BASE}/Calls.json", "calls",
                     {"StartTime>": "2026-11-15T06:00:00Z", "StartTime<": "2026-11-15T18:00:00Z"})
    lo = datetime(2026, 11, 15, 6, tzinfo=UTC)
    hi = datetime(2026, 11, 15, 18, tzinfo=UTC)
    truth = [c for c in app.world.records("calls") if lo <= when(c["start_time"]) <= hi]
    assert sids(rows) == sids(truth)


def test_it_ignores_a_key_literally_named_start_time_ge(client):
    # Twilio ignores unknown parameters: `StartTime>=` as a key filters nothing (the trap).
    wrong = client.get(f"{BASE}/Calls.json?StartTime%3E%3D=2026-11-19&PageSize=1000").json()
    right = client.get(f"{BASE}/Calls.json?StartTime%3E=2026-11-19&PageSize=1000").json()
    assert len(wrong["calls"]) > len(right["calls"])


def test_it_filters_calls_by_to_from_and_status(app, client):
    truth = app.world.records("calls")
    number = truth[0]["to"] if truth[0]["direction"] == "inbound" else truth[0]["from"]
    to_rows = fetch_all(client, f"{BASE}/Calls.json", "calls", {"To": number})
    assert to_rows and sids(to_rows) == sids([c for c in truth if c["to"] == number])
    from_rows = fetch_all(client, f"{BASE}/Calls.json", "calls", {"From": number})
    assert sids(from_rows) == sids([c for c in truth if c["from"] == number])
    busy = fetch_all(client, f"{BASE}/Calls.json", "calls", {"Status": "busy"})
    assert busy and sids(busy) == sids([c for c in truth if c["status"] == "busy"])
    assert client.get(f"{BASE}/Calls.json", params={"Status": "nope"}).status_code == 400


def test_it_lists_only_in_progress_conferences_when_no_status_is_given(app, client):
    truth = app.world.records("conferences")
    default = fetch_all(client, f"{BASE}/Conferences.json", "conferences", {})
    assert default and {c["status"] for c in default} == {"in-progress"}
    assert len(default) < len(truth)
    for status in ("init", "in-progress", "completed"):
        rows = fetch_all(client, f"{BASE}/Conferences.json", "conferences", {"Status": status})
        assert sids(rows) == sids([c for c in truth if c["status"] == status])


def test_it_filters_conferences_by_name_and_created_date(app, client):
    rows = fetch_all(client, f"{BASE}/Conferences.json", "conferences",
                     {"Status": "completed", "FriendlyName": "Incident bridge",
                      "DateCreated>": "2026-11-01"})
    truth = [c for c in app.world.records("conferences")
             if c["status"] == "completed" and c["friendly_name"] == "Incident bridge"
             and when(c["date_created"]).date() >= date(2026, 11, 1)]
    assert rows and sids(rows) == sids(truth)


def test_it_filters_notifications_by_log_and_message_date(app, client):
    rows = fetch_all(client, f"{BASE}/Notifications.json", "notifications",
                     {"Log": "0", "MessageDate<": "2026-11-10"})
    truth = [n for n in app.world.records("notifications")
             if n["log"] == "0" and when(n["message_date"]).date() < date(2026, 11, 10)]
    assert rows and sids(rows) == sids(truth)


def test_it_filters_messages_by_date_sent_and_number(app, client):
    truth = app.world.records("messages")
    number = truth[3]["to"]
    rows = fetch_all(client, f"{BASE}/Messages.json", "messages",
                     {"To": number, "DateSent>": "2026-10-25"})
    expected = [m for m in truth if m["to"] == number
                and when(m["date_sent"]).date() >= date(2026, 10, 25)]
    assert rows and sids(rows) == sids(expected)


def test_it_refuses_messages_older_than_400_days_with_20004(client):
    response = client.get(f"{BASE}/Messages.json", params={"DateSent>": "2025-10-01"})
    assert response.status_code == 400
    assert response.json()["code"] == 20004
    assert "400 days" in response.json()["message"]
    ok = client.get(f"{BASE}/Messages.json", params={"DateSent>": "2025-10-16"})
    assert ok.status_code == 200


def test_it_filters_alerts_by_log_level_and_dates(app, client):
    body = client.get("/v1/Alerts", params={"LogLevel": "warning", "StartDate": "2026-11-05",
                                            "EndDate": "2026-11-10T12:00:00Z",
                                            "PageSize": "1000"}).json()
    truth = [a for a in app.world.records("alerts") if a["log_level"] == "warning"
             and "2026-11-05" <= a["date_generated"] <= "2026-11-10T12:00:00Z"]
    assert body["alerts"] and sids(body["alerts"]) == sids(truth)


def test_it_caps_alert_queries_at_10000_results():
    app = make_app(SandboxConfig(today=TODAY, calls=10, messages=10, alerts=24_000))
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox.test",
                      auth=(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN)) as client:
        too_many = client.get("/v1/Alerts")
        assert too_many.status_code == 400
        assert too_many.json()["code"] == 20001
        assert "10000" in too_many.json()["message"]
        narrow = client.get("/v1/Alerts", params={"StartDate": "2026-11-10",
                                                  "EndDate": "2026-11-19"})
        assert narrow.status_code == 200


def usage(client: httpx.Client, account: str, sub: str, **params: str) -> httpx.Response:
    return client.get(f"/2010-04-01/Accounts/{account}/Usage/Records/{sub}.json",
                      params={**params, "PageSize": "1000"})


def test_it_includes_subaccount_usage_unless_told_not_to(app, client):
    params = {"Category": "calls", "StartDate": "2026-11-01", "EndDate": "2026-11-01"}
    main_all = usage(client, MAIN_ACCOUNT_SID, "Daily", **params).json()["usage_records"]
    main_own = usage(client, MAIN_ACCOUNT_SID, "Daily", IncludeSubaccounts="false",
                     **params).json()["usage_records"]
    subs = [usage(client, sid, "Daily", IncludeSubaccounts="false", **params)
            .json()["usage_records"] for sid, _, _ in SUBACCOUNTS[:2]]
    total = int(main_own[0]["count"]) + sum(int(s[0]["count"]) for s in subs)
    assert int(main_all[0]["count"]) == total
    assert int(main_own[0]["count"]) < total


def test_it_answers_404_for_the_subaccount_without_usage(client):
    archive = SUBACCOUNTS[2][0]
    response = usage(client, archive, "Daily")
    assert response.status_code == 404
    assert response.json()["code"] == 20404


def test_it_counts_usage_from_the_generated_calls_and_messages(app, client):
    day = date(2026, 11, 12)
    own = {"IncludeSubaccounts": "false", "StartDate": day.isoformat(), "EndDate": day.isoformat()}
    rows = {r["category"]: r for r in
            usage(client, MAIN_ACCOUNT_SID, "Daily", **own).json()["usage_records"]}
    calls = [c for c in app.world.records("calls") if when(c["start_time"]).date() == day]
    assert int(rows["calls"]["count"]) == len(calls)
    call_cost = -sum(float(c["price"]) for c in calls if c["price"])
    assert rows["calls"]["price"] == pytest.approx(call_cost, abs=1e-6)
    sms = [m for m in app.world.records("messages")
           if m["date_sent"] and when(m["date_sent"]).date() == day and m["num_media"] == "0"]
    assert int(rows["sms"]["count"]) == sum(int(m["num_segments"]) for m in sms)
    leaves = [r["price"] for name, r in rows.items()
              if name not in ("calls", "sms", "mms", "phonenumbers", "totalprice")]
    assert rows["totalprice"]["price"] == pytest.approx(sum(leaves), abs=1e-6)


def test_it_aggregates_monthly_and_all_time_usage_from_daily(client):
    daily = usage(client, MAIN_ACCOUNT_SID, "Daily", Category="sms", StartDate="2026-10-01",
                  EndDate="2026-10-31").json()["usage_records"]
    monthly = usage(client, MAIN_ACCOUNT_SID, "Monthly", Category="sms", StartDate="2026-10-01",
                    EndDate="2026-10-31").json()["usage_records"]
    assert len(daily) == 31 and len(monthly) == 1
    assert int(monthly[0]["count"]) == sum(int(r["count"]) for r in daily)
    assert monthly[0]["price"] == pytest.approx(sum(r["price"] for r in daily))
    last_month = usage(client, MAIN_ACCOUNT_SID, "LastMonth", Category="sms").json()
    assert last_month["usage_records"][0]["count"] == monthly[0]["count"]
    every = usage(client, MAIN_ACCOUNT_SID, "AllTime").json()["usage_records"]
    assert {r["category"] for r in every} >= {"calls", "sms", "totalprice", "calls-inbound"}


def test_it_is_deterministic_for_the_same_seed_and_day():
    a = SandboxWorld(SandboxConfig(today=TODAY, calls=300))
    b = SandboxWorld(SandboxConfig(today=TODAY, calls=300))
    c = SandboxWorld(SandboxConfig(seed=8, today=TODAY, calls=300))
    assert a.records("calls") == b.records("calls")
    assert sids(a.records("calls")) != sids(c.records("calls"))
