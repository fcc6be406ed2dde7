"""Every primary metric on a real version pulled from the sandbox, against its ground truth.

The version is pulled through the HTTP sandbox (main account + subaccounts, so USD and EUR),
written with datacenter.tables and read back. Expected values are recomputed here in plain
Python (Decimal amounts, zoneinfo days) from `world.records(...)`, never through the metrics
code, and every chart's series and table is compared with them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from datacenter import tables
from datacenter.metrics import Chart, compute_metrics
from twilio_reports.client import PullConfig, RetryPolicy
from twilio_reports.dates import day_bounds_utc
from twilio_reports.definitions import REPORTS
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, SandboxConfig, start_server
from twilio_reports.sandbox.usage import LEAVES
from twilio_reports.service import Credentials, PullRequest, pull_batches
from twilio_reports.tests.sandbox_truth import ALL_SIDS, instant

TZ = "Europe/Berlin"
ZONE = ZoneInfo(TZ)
FAST = PullConfig(retry=RetryPolicy(scale=0.001), read_timeout=5, connect_timeout=2)
FINAL = ("completed", "busy", "failed", "no-answer", "canceled")
RATE_SLACK = 0.005 + 1e-9  # a rate / mean shown with 2 decimals is within half a cent of exact


# Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox():
    with start_server(SandboxConfig(calls=6000, messages=3000, alerts=20)) as server:
        yield server


@pytest.fixture(scope="module")
def window(sandbox) -> tuple[date, date]:
    """Berlin days up to tomorrow: the sandbox's last two hours (the only live or unrated
    calls) end at midnight UTC, which is already tomorrow in Berlin, in summer all of them."""
    today = sandbox.world.today
    return today - timedelta(days=6), today + timedelta(days=1)


@pytest.fixture(scope="module")
def usage_window(sandbox) -> tuple[date, date]:
    today = sandbox.world.today  # usage days are GMT dates and end today
    return today - timedelta(days=6), today


@pytest.fixture(scope="module")
def span(window) -> tuple[datetime, datetime]:
    return day_bounds_utc(*window, TZ)


def _version(sandbox, tmp_path_factory, report: str, window, params=None) -> pa.Table:
    """Pull `report` for every account into a real DataSet version and read it back."""
    creds = Credentials(account_sid=MAIN_ACCOUNT_SID, secret=MAIN_AUTH_TOKEN,
                        api_base=sandbox.url, monitor_base=sandbox.url)
    schema = REPORTS[report].arrow_schema()
    batches = pull_batches(PullRequest(report, params or {}, window, TZ), creds, config=FAST)
    uri = str(tmp_path_factory.mktemp(report) / "table")
    result = tables.write_version(uri, batches, schema, mode="replace")
    table = tables.read_table(uri, result.delta_version)
    assert table.num_rows == result.rows > 0
    return table


@pytest.fixture(scope="module")
def calls_table(sandbox, tmp_path_factory, window) -> pa.Table:
    return _version(sandbox, tmp_path_factory, "calls", window)


@pytest.fixture(scope="module")
def messages_table(sandbox, tmp_path_factory, window) -> pa.Table:
    return _version(sandbox, tmp_path_factory, "messages", window)


@pytest.fixture(scope="module")
def usage_table(sandbox, tmp_path_factory, usage_window) -> pa.Table:
    return _version(sandbox, tmp_path_factory, "usage-records", usage_window,
                    {"granularity": "daily"})


def _truth(sandbox, report: str, field: str, span) -> list[dict]:
    """Ground-truth records of every account whose `field` instant is in the window, with
    their local day (in TZ) added as "_day"."""
    out = []
    for sid in ALL_SIDS:
        for row in sandbox.world.records(report, sid):
            moment = instant(row[field])
            if moment is not None and span[0] <= moment < span[1]:
                out.append({**row, "_day": moment.astimezone(ZONE).date().isoformat()})
    return out


@pytest.fixture(scope="module")
def true_calls(sandbox, span) -> list[dict]:
    rows = _truth(sandbox, "calls", "start_time", span)
    # Fail loudly rather than pass vacuously: the version must hold every hard case (calls
    # are live only in the sandbox's last two hours, hence the 6,000 calls).
    assert any(r["parent_call_sid"] for r in rows), "no child legs in the window"
    assert any(not r["price"] for r in rows), "no unrated calls in the window"
    assert any(r["price"] for r in rows if r["parent_call_sid"]), "no rated child legs"
    assert len({r["price_unit"].upper() for r in rows if r["price"]}) >= 2, "one currency only"
    assert any(r["direction"] == "inbound" and r["status"] in ("no-answer", "canceled")
               for r in rows), "no abandoned inbound calls"
    assert any(is_parent(r) and r["status"] not in FINAL for r in rows), "no live calls"
    return rows


@pytest.fixture(scope="module")
def true_messages(sandbox, span) -> list[dict]:
    rows = _truth(sandbox, "messages", "date_sent", span)
    assert any(not r["price"] for r in rows), "no unrated messages in the window"
    assert len({r["price_unit"].upper() for r in rows if r["price"]}) >= 2, "one currency only"
    assert any(int(r["num_segments"]) > 1 for r in rows), "no multi-segment messages"
    return rows


def chart(charts: list[Chart], chart_id: str) -> Chart:
    found = [c for c in charts if c.id == chart_id]
    assert len(found) == 1, [c.id for c in charts]
    assert found[0].empty_reason is None, found[0].empty_reason
    return found[0]


# Expected values, plain Python ------------------------------------------------------------


def is_parent(row: dict) -> bool:
    return not row["parent_call_sid"]


def expect_counts(rows: list[dict], key: str) -> dict[str, dict[str, int]]:
    """{day: {value: count}} with zeros for values absent that day but present elsewhere."""
    per_day: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        per_day[r["_day"]][r[key]] += 1
    values = {v for c in per_day.values() for v in c}
    return {d: {v: per_day[d][v] for v in values} for d in sorted(per_day)}


def assert_counts(c: Chart, expected: dict[str, dict[str, int]]) -> None:
    days = list(expected)
    values = sorted({v for counts in expected.values() for v in counts})
    got = {s.name: dict(zip(s.x, s.y, strict=True)) for s in c.series}
    want = {v: {d: expected[d][v] for d in days} for v in values}
    assert got == want
    assert all(s.x == days for s in c.series)
    cols = c.table.columns
    assert cols[0] == "Day" and cols[-1] == "Total" and sorted(cols[1:-1]) == values
    rows = {r[0]: dict(zip(cols[1:], r[1:], strict=True)) for r in c.table.rows}
    want_rows = {d: {**expected[d], "Total": sum(expected[d].values())} for d in days}
    want_rows["Total"] = {v: sum(expected[d][v] for d in days) for v in values}
    want_rows["Total"]["Total"] = sum(want_rows["Total"][v] for v in values)
    assert rows == want_rows
    assert [r[0] for r in c.table.rows] == [*days, "Total"]


def assert_rate(c: Chart, rows: list[dict], in_denominator, in_numerator) -> None:
    hits: Counter = Counter()
    totals: Counter = Counter()
    for r in rows:
        if in_denominator(r):
            totals[r["_day"]] += 1
            hits[r["_day"]] += bool(in_numerator(r))
    days = sorted(totals)
    assert days, "the rate has no denominator at all"
    assert len(c.series) == 1 and c.series[0].x == days
    for day, got in zip(days, c.series[0].y, strict=True):
        assert abs(got - 100 * hits[day] / totals[day]) <= RATE_SLACK, day
    table = c.table.rows
    assert [r[:3] for r in table[:-1]] == [[d, hits[d], totals[d]] for d in days]
    assert [r[3] for r in table[:-1]] == c.series[0].y
    all_hits, all_totals = sum(hits.values()), sum(totals.values())
    assert table[-1][:3] == ["All days", all_hits, all_totals]
    assert abs(table[-1][3] - 100 * all_hits / all_totals) <= RATE_SLACK


def assert_cost(c: Chart, rows: list[dict], noun: str) -> None:
    """−sum(price) per day and currency over rated rows; unrated rows counted per day."""
    cost: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    unrated: Counter = Counter()
    for r in rows:
        unrated[r["_day"]] += 0  # every dated day has a table row
        if r["price"] in (None, ""):
            unrated[r["_day"]] += 1
        else:
            cost[r["_day"]][r["price_unit"].upper()] -= Decimal(r["price"])
    currencies = sorted({cur for per in cost.values() for cur in per})
    rated_days = sorted(cost)
    all_days = sorted(unrated)
    assert len(currencies) >= 2 and sum(unrated.values()) > 0
    assert [s.name for s in c.series] == currencies
    for s in c.series:
        assert s.x == rated_days
        assert s.y == [float(cost[d].get(s.name, Decimal(0))) for d in rated_days], s.name
    assert c.table.columns == ["Day", *currencies, f"{noun.capitalize()} not yet rated"]
    want = [
        [d, *(float(cost[d].get(cur, Decimal(0))) if d in cost else None for cur in currencies),
         unrated[d]]
        for d in all_days
    ]
    totals = [float(sum((cost[d].get(cur, Decimal(0)) for d in rated_days), Decimal(0)))
              for cur in currencies]
    want.append(["Total", *totals, sum(unrated.values())])
    assert c.table.rows == want
    assert f"{sum(unrated.values()):,} {noun}" in c.definition


# Calls ------------------------------------------------------------------------------------


def test_it_pulls_exactly_the_true_rows_into_the_version(calls_table, true_calls,
                                                         messages_table, true_messages):
    assert sorted(calls_table.column("sid").to_pylist()) == sorted(r["sid"] for r in true_calls)
    assert sorted(messages_table.column("sid").to_pylist()) == sorted(
        r["sid"] for r in true_messages)


def test_it_counts_daily_calls_by_direction_and_status_on_parent_legs(calls_table, true_calls):
    charts = compute_metrics("calls", calls_table, TZ)
    parents = [r for r in true_calls if is_parent(r)]
    assert len(parents) < len(true_calls)  # child legs exist and must be left out
    assert_counts(chart(charts, "calls-by-direction"), expect_counts(parents, "direction"))
    assert_counts(chart(charts, "calls-by-status"), expect_counts(parents, "status"))


def test_it_computes_the_completion_rate_of_parent_calls(calls_table, true_calls):
    c = chart(compute_metrics("calls", calls_table, TZ), "calls-completion-rate")
    assert_rate(c, true_calls, lambda r: is_parent(r) and r["status"] in FINAL,
                lambda r: r["status"] == "completed")


def test_it_computes_mean_and_median_duration_of_completed_parent_calls(calls_table,
                                                                         true_calls):
    c = chart(compute_metrics("calls", calls_table, TZ), "calls-duration")
    seconds: dict[str, list[int]] = defaultdict(list)
    for r in true_calls:
        if is_parent(r) and r["status"] == "completed" and r["duration"] not in (None, ""):
            seconds[r["_day"]].append(int(r["duration"]))
    days = sorted(seconds)
    assert days and [s.name for s in c.series] == ["Mean", "Median"]
    assert all(s.x == days for s in c.series)
    everything = [v for d in days for v in seconds[d]]
    expected = [(d, seconds[d]) for d in days] + [("All days", everything)]
    assert [r[0] for r in c.table.rows] == [d for d, _ in expected]
    for row, (day, values) in zip(c.table.rows, expected, strict=True):
        mean = Decimal(sum(values)) / len(values)
        median = Decimal(statistics.median(values))
        assert row[1] == len(values), day
        assert abs(Decimal(str(row[2])) - mean) <= Decimal("0.005"), day
        assert abs(Decimal(str(row[3])) - median) <= Decimal("0.005"), day
    assert c.series[0].y == [r[2] for r in c.table.rows[:-1]]
    assert c.series[1].y == [r[3] for r in c.table.rows[:-1]]


def test_it_computes_call_cost_per_currency_with_child_legs_and_unrated_calls(calls_table,
                                                                             true_calls):
    c = chart(compute_metrics("calls", calls_table, TZ), "calls-cost")
    assert "child legs included" in c.definition  # the rule the expectation below follows
    assert_cost(c, true_calls, "calls")


def test_it_computes_the_abandon_rate_of_inbound_parent_calls(calls_table, true_calls):
    c = chart(compute_metrics("calls", calls_table, TZ), "calls-abandon-rate")
    assert_rate(c, true_calls, lambda r: is_parent(r) and r["direction"] == "inbound",
                lambda r: r["status"] in ("no-answer", "canceled"))


# SMS Messages -----------------------------------------------------------------------------


def test_it_counts_sms_traffic_by_direction_and_status(messages_table, true_messages):
    charts = compute_metrics("messages", messages_table, TZ)
    assert_counts(chart(charts, "messages-by-direction"), expect_counts(true_messages,
                                                                        "direction"))
    assert_counts(chart(charts, "messages-by-status"), expect_counts(true_messages, "status"))


def test_it_adds_up_sms_segments_per_day(messages_table, true_messages):
    c = chart(compute_metrics("messages", messages_table, TZ), "messages-segments")
    count: Counter = Counter()
    segments: Counter = Counter()
    for r in true_messages:
        count[r["_day"]] += 1
        segments[r["_day"]] += int(r["num_segments"])
    days = sorted(count)
    assert len(c.series) == 1 and c.series[0].x == days
    assert c.series[0].y == [segments[d] for d in days]
    assert c.table.rows == [[d, count[d], segments[d]] for d in days] + [
        ["Total", sum(count.values()), sum(segments.values())]]


def test_it_computes_sms_cost_per_currency_with_unrated_messages(messages_table,
                                                                 true_messages):
    c = chart(compute_metrics("messages", messages_table, TZ), "messages-cost")
    assert_cost(c, true_messages, "messages")


# Usage Records ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def true_usage(sandbox, usage_window) -> list[dict]:
    out = []
    for sid in ALL_SIDS:
        try:  # per account, so the main account's figures do not include its subaccounts'
            out += sandbox.world.usage_records(sid, "daily", start=usage_window[0],
                                               end=usage_window[1],
                                               include_subaccounts=False)
        except LookupError:  # a subaccount without usage
            continue
    return out


def test_it_draws_the_daily_totalprice_cost_trend_per_currency(usage_table, true_usage):
    c = chart(compute_metrics("usage-records", usage_table, TZ), "usage-cost-trend")
    cost: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in true_usage:
        if r["category"] == "totalprice":
            assert r["start_date"] == r["end_date"]
            cost[r["start_date"]][r["price_unit"].upper()] += Decimal(str(r["price"]))
    currencies = sorted({cur for per in cost.values() for cur in per})
    days = sorted(cost)
    assert len(currencies) >= 2 and len(days) == 7
    assert [s.name for s in c.series] == currencies
    assert c.table.columns == ["Day", *currencies, "Records not yet rated"]
    for s in c.series:
        assert s.x == days
        assert s.y == [float(cost[d].get(s.name, Decimal(0))) for d in days], s.name
    assert c.table.rows[:-1] == [
        [d, *(float(cost[d].get(cur, Decimal(0))) for cur in currencies), 0] for d in days]
    assert c.table.rows[-1] == [
        "Total", *(float(sum((cost[d].get(cur, Decimal(0)) for d in days), Decimal(0)))
                   for cur in currencies), 0]


def test_it_ranks_leaf_usage_categories_by_cost_per_currency(usage_table, true_usage):
    """Leaves are the sandbox's own leaf categories (not the metric's prefix rule), so roll-ups
    and totalprice counted twice would show; the leaves also add up to totalprice."""
    c = chart(compute_metrics("usage-records", usage_table, TZ), "usage-cost-by-category")
    cost: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    records: Counter = Counter()
    total: dict[str, Decimal] = defaultdict(Decimal)
    for r in true_usage:
        cur, amount = r["price_unit"].upper(), Decimal(str(r["price"]))
        if r["category"] in LEAVES:
            cost[cur][r["category"]] += amount
            records[cur, r["category"]] += 1
        elif r["category"] == "totalprice":
            total[cur] += amount
    assert {cur: sum(per.values()) for cur, per in cost.items()} == total
    currencies = sorted(cost)
    assert len(currencies) >= 2 and [s.name for s in c.series] == currencies
    want_rows = []
    for s in c.series:
        ranked = sorted((item for item in cost[s.name].items() if item[1]),
                        key=lambda item: (-item[1], item[0]))
        top, rest = ranked[:10], ranked[10:]
        assert len(rest) > 0  # more than ten priced leaves: the "others" row is exercised
        assert s.x == [name for name, _ in top]
        assert s.y == [float(amount) for _, amount in top]
        want_rows += [[name, s.name, float(amount), records[s.name, name]]
                      for name, amount in top]
        want_rows.append([f"{len(rest)} other categories", s.name,
                          float(sum(amount for _, amount in rest)),
                          sum(records[s.name, name] for name, _ in rest)])
    assert c.table.rows == want_rows
