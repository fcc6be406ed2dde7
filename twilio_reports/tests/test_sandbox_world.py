"""The generated data itself: volume, shapes, determinism; and the management command."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from twilio_reports.sandbox import MAIN_ACCOUNT_SID, SUBACCOUNTS, SandboxConfig, SandboxWorld
from twilio_reports.sandbox.query import encode_token, select_calls, take_page
from twilio_reports.sandbox.timefmt import day_start

TODAY = date(2026, 11, 20)
RFC2822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")


def all_calls(world: SandboxWorld) -> list[dict]:
    return [c for sid in world.calls for c in world.records("calls", sid)]


def test_it_builds_a_million_calls_without_materialising_them():
    # How fast it builds is a benchmark figure (bench/scenarios/units.py).
    world = SandboxWorld(SandboxConfig(today=TODAY, calls=1_000_000))
    series = world.calls[MAIN_ACCOUNT_SID]
    lo, hi = series.index_range(day_start(date(2026, 11, 3)), day_start(date(2026, 11, 4)) - 1)
    page = take_page(select_calls(series, {}), 1000, encode_token("A", lo))
    assert series.n == 500_000 and 15_000 < hi - lo < 18_500
    days = {parsedate_to_datetime(c["date_created"]).date() for c in page.items}
    assert days == {date(2026, 11, 3)}
    before = series.record(lo - 1)["date_created"]
    assert parsedate_to_datetime(before).date() == date(2026, 11, 4)


def test_it_spreads_calls_over_the_last_30_days_newest_first():
    world = SandboxWorld(SandboxConfig(today=TODAY, calls=3000))
    calls = world.records("calls")
    starts = [parsedate_to_datetime(c["start_time"]) for c in calls if c["start_time"]]
    assert starts == sorted(starts, reverse=True)
    assert starts[0].date() == TODAY and starts[-1].date() == date(2026, 10, 22)
    assert sum(len(world.records("calls", sid)) for sid, _, _ in SUBACCOUNTS) + len(calls) == 3000


def test_it_generates_parent_and_child_legs_and_every_status():
    world = SandboxWorld(SandboxConfig(today=TODAY, calls=20_000))
    calls = all_calls(world)
    by_sid = {c["sid"]: c for c in calls}
    children = [c for c in calls if c["parent_call_sid"]]
    assert children and all(c["direction"] == "outbound-dial" for c in children)
    for child in children:
        parent = by_sid[child["parent_call_sid"]]
        assert parent["direction"] == "inbound" and parent["parent_call_sid"] is None
        if child["start_time"]:
            assert parsedate_to_datetime(parent["start_time"]) <= \
                parsedate_to_datetime(child["start_time"])
    assert {c["direction"] for c in calls} == {"inbound", "outbound-api", "outbound-dial"}
    assert set(Counter(c["status"] for c in calls)) == {
        "queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer",
        "canceled"}


def test_it_uses_twilio_value_formats():
    world = SandboxWorld(SandboxConfig(today=TODAY, calls=3000))
    calls = all_calls(world)
    assert all(RFC2822.match(c["start_time"]) for c in calls if c["start_time"])
    assert all(c["duration"] is None or c["duration"].isdigit() for c in calls)
    prices = [c["price"] for c in calls]
    assert None in prices
    assert all(p is None or p == "0.00000" or re.fullmatch(r"-\d+\.\d{5}", p) for p in prices)
    assert {c["price_unit"] for c in calls} == {"USD", "EUR"}
    addresses = {c["from"] for c in calls} | {c["to"] for c in calls}
    assert any(a.startswith("client:") for a in addresses)
    assert any(a.startswith("sip:") for a in addresses)
    assert all(re.fullmatch(r"\+\d{8,15}", a) for a in addresses if a.startswith("+"))
    alerts = world.records("alerts")
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a["date_created"]) for a in alerts)
    usage = world.records("usage-records", granularity="daily")
    assert isinstance(usage[0]["price"], float) and usage[0]["count"].isdigit()
    assert len({u["start_date"] for u in usage}) == 400


def test_it_parses_the_management_command_options():
    from twilio_reports.management.commands.twilio_sandbox import Command

    command = Command()
    parser = command.create_parser("manage.py", "twilio_sandbox")
    options = vars(parser.parse_args(["--port", "8765", "--calls", "1000", "--latency-ms", "20",
                                      "--max-in-flight", "4", "--rate-429", "0.1",
                                      "--rate-5xx", "0.05"]))
    config = command.config_from(options)
    assert (config.calls, config.latency_ms, config.max_in_flight_per_account) == (1000, 20, 4)
    assert (config.rate_429, config.rate_5xx) == (0.1, 0.05)
    assert options["host"] == "127.0.0.1"


def test_it_leaves_calls_never_dialled_and_messages_never_sent_undated():
    world = SandboxWorld(SandboxConfig(today=TODAY, calls=20_000, messages=20_000))
    calls = all_calls(world)
    undated = [c for c in calls if c["start_time"] is None]
    assert {c["status"] for c in undated} == {"queued", "ringing", "canceled"}
    assert all(c["end_time"] is None for c in undated)
    assert all(c["start_time"] for c in calls if c["status"] not in ("queued", "ringing",
                                                                       "canceled"))
    messages = [m for sid in world.messages for m in world.records("messages", sid)]
    unsent = [m for m in messages if m["date_sent"] is None]
    assert {m["status"] for m in unsent} == {"queued", "scheduled", "failed"}


def test_it_dates_nothing_after_the_moment_it_was_built():
    now = int(datetime(2026, 11, 20, 20, 20, tzinfo=UTC).timestamp())
    world = SandboxWorld(SandboxConfig(today=TODAY, calls=20_000, messages=5000, now=now))
    latest = datetime.fromtimestamp(now, UTC)
    for report in ("calls", "messages", "conferences", "notifications"):
        for sid in world.calls:
            for row in world.records(report, sid):
                for key, value in row.items():
                    if key.startswith(("date_", "start_", "end_", "message_d")) and value:
                        assert parsedate_to_datetime(value) <= latest, (report, key, value)
    alerts = [a for sid in world.alerts for a in world.records("alerts", sid)]
    assert max(a["date_generated"] for a in alerts) <= "2026-11-20T20:20:00Z"


def test_it_changes_the_newest_records_when_time_passes():
    world = SandboxWorld(SandboxConfig(today=TODAY, calls=20_000, messages=20_000))
    before = {c["sid"]: c for c in world.records("calls")}
    texts = {m["sid"]: m for m in world.records("messages")}
    world.settle()
    after = {c["sid"]: c for c in world.records("calls")}
    assert before.keys() == after.keys()
    changed = [sid for sid in before if before[sid] != after[sid]]
    assert changed and all(before[s]["status"] in ("queued", "ringing", "in-progress",
                                                   "completed") for s in changed)
    assert any(before[s]["price"] is None and after[s]["price"] for s in changed)
    assert any(m["status"] in ("queued", "scheduled") for m in texts.values())
    assert not any(m["status"] in ("queued", "scheduled") for m in world.records("messages"))
