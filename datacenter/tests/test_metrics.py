"""datacenter.metrics for SMS, Usage Records, Conferences, Alerts and Notifications, the
sparkline's daily counts, JSON round trips and properties over generated calls."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacenter.metrics import (
    Headline,
    charts_from_json,
    charts_to_json,
    charts_to_jsonable,
    compute_metrics,
    daily_counts,
    headline,
)
from datacenter.metrics.columns import NO_DAY, iso_day, local_days, local_days_pandas
from datacenter.metrics.usage import rollups
from datacenter.tests.metrics_support import (
    PRICE,
    TS,
    at,
    by_id,
    call,
    calls_table,
    series,
)

# --- SMS Messages --------------------------------------------------------------------------

MESSAGE_SCHEMA = pa.schema([
    ("direction", pa.string()), ("status", pa.string()), ("date_sent", TS),
    ("num_segments", pa.int64()), ("price", PRICE), ("price_unit", pa.string()),
])


def message(direction: str, status: str, sent: str | None, segments: int | None,
            price: str | None, unit: str) -> dict:
    return {"direction": direction, "status": status, "date_sent": at(sent) if sent else None,
            "num_segments": segments, "price": Decimal(price) if price else None,
            "price_unit": unit}


# America/New_York is UTC-5 in January: 04:30Z on the 10th is 23:30 on the 9th.
MESSAGES = pa.Table.from_pylist([
    message("outbound-api", "delivered", "2026-01-10T04:30:00", 2, "-0.0079", "usd"),
    message("inbound", "received", "2026-01-10T05:30:00", 1, "-0.0079", "USD"),
    message("outbound-reply", "failed", "2026-01-10T15:00:00", 3, None, "usd"),
    message("outbound-api", "undelivered", "2026-01-10T16:00:00", None, "-0.05", "eur"),
    message("outbound-api", "scheduled", None, 1, None, "usd"),
], schema=MESSAGE_SCHEMA)


def test_it_counts_sms_traffic_by_direction_and_status():
    charts = by_id(compute_metrics("messages", MESSAGES, "America/New_York"))
    assert series(charts["messages-by-direction"]) == {
        "inbound": {"2026-01-09": 0, "2026-01-10": 1},
        "outbound-api": {"2026-01-09": 1, "2026-01-10": 1},
        "outbound-reply": {"2026-01-09": 0, "2026-01-10": 1},
    }
    assert series(charts["messages-by-status"]) == {
        "delivered": {"2026-01-09": 1, "2026-01-10": 0},
        "received": {"2026-01-09": 0, "2026-01-10": 1},
        "undelivered": {"2026-01-09": 0, "2026-01-10": 1},
        "failed": {"2026-01-09": 0, "2026-01-10": 1},
    }
    assert "1 message with an empty `date_sent`" in charts["messages-by-status"].definition


def test_it_sums_segments_per_day():
    chart = by_id(compute_metrics("messages", MESSAGES, "America/New_York"))["messages-segments"]
    assert series(chart) == {"Segments": {"2026-01-09": 2, "2026-01-10": 4}}
    assert chart.table.rows == [["2026-01-09", 1, 2], ["2026-01-10", 2, 4], ["Total", 3, 6]]
    assert "1 message with an empty `num_segments` is left out" in chart.definition


def test_it_merges_usd_and_lowercase_usd_in_sms_cost():
    chart = by_id(compute_metrics("messages", MESSAGES, "America/New_York"))["messages-cost"]
    assert series(chart) == {
        "EUR": {"2026-01-09": 0.0, "2026-01-10": 0.05},
        "USD": {"2026-01-09": 0.0079, "2026-01-10": 0.0079},
    }
    assert chart.table.rows[-1] == ["Total", 0.05, 0.0158, 1]
    assert "1 message not yet rated" in chart.definition


def test_it_cleans_currency_labels_and_keeps_a_missing_currency_apart():
    table = pa.Table.from_pylist([
        message("outbound-api", "sent", "2026-01-10T12:00:00", 1, "-0.01", " usd "),
        message("outbound-api", "sent", "2026-01-10T12:00:00", 1, "-0.02", "USD"),
        message("outbound-api", "sent", "2026-01-10T12:00:00", 1, "-0.04", ""),
        message("outbound-api", "sent", "2026-01-10T12:00:00", 1, "-0.08", None),
    ], schema=MESSAGE_SCHEMA)
    chart = by_id(compute_metrics("messages", table, "UTC"))["messages-cost"]
    assert series(chart) == {"USD": {"2026-01-10": 0.03}, "(no currency)": {"2026-01-10": 0.12}}


def test_it_gives_message_headlines():
    figures = headline("messages", MESSAGES, "America/New_York", dt.date(2026, 1, 10))
    assert figures == [
        Headline("Messages (last 7 days)", 4, "messages"),
        Headline("Segments (last 7 days)", 6, "segments"),
        Headline("SMS cost (last 7 days)", 0.05, "EUR"),
        Headline("SMS cost (last 7 days)", 0.0158, "USD"),
    ]


# --- Usage Records -------------------------------------------------------------------------

USAGE_SCHEMA = pa.schema([
    ("category", pa.string()), ("start_date", pa.date32()), ("end_date", pa.date32()),
    ("price", PRICE), ("price_unit", pa.string()),
])


def usage(category: str, start: str, end: str | None, price: str | None,
          unit: str = "usd") -> dict:
    return {"category": category, "start_date": dt.date.fromisoformat(start),
            "end_date": dt.date.fromisoformat(end or start),
            "price": Decimal(price) if price is not None else None, "price_unit": unit}


USAGE = pa.Table.from_pylist([
    usage("totalprice", "2026-01-01", None, "1.50"),
    usage("totalprice", "2026-01-02", None, "2.25"),
    usage("totalprice", "2026-01-02", None, "3.00", "eur"),
    usage("totalprice", "2026-01-01", "2026-01-31", "99"),  # a month: not a daily point
    usage("calls", "2026-01-01", None, "1.00"),
    usage("calls-inbound", "2026-01-01", None, "0.60"),
    usage("calls-inbound-local", "2026-01-01", None, "0.60"),
    usage("calls-outbound", "2026-01-01", None, "0.40"),
    usage("sms", "2026-01-02", None, "1.25"),
    usage("sms-outbound", "2026-01-02", None, "1.25"),
    usage("recordings", "2026-01-02", None, "0"),
    usage("recordingstorage", "2026-01-02", None, None),
    usage("mms", "2026-01-02", None, "3.00", "eur"),
], schema=USAGE_SCHEMA)


def test_it_draws_the_cost_trend_from_daily_totalprice_with_positive_prices():
    chart = by_id(compute_metrics("usage-records", USAGE, "Asia/Tokyo"))["usage-cost-trend"]
    assert chart.kind == "line"
    # Usage dates are not shifted by the DataSet's zone; the monthly row is left out.
    assert series(chart) == {
        "EUR": {"2026-01-01": 0.0, "2026-01-02": 3.0},
        "USD": {"2026-01-01": 1.5, "2026-01-02": 2.25},
    }
    assert "positive amounts" in chart.definition and "totalprice" in chart.definition


def test_it_falls_back_to_record_periods_when_there_are_no_daily_records():
    monthly = pa.Table.from_pylist([
        usage("totalprice", "2026-01-01", "2026-01-31", "10.5"),
        usage("totalprice", "2026-02-01", "2026-02-28", "7.25"),
    ], schema=USAGE_SCHEMA)
    chart = by_id(compute_metrics("usage-records", monthly, "UTC"))["usage-cost-trend"]
    assert series(chart) == {"USD": {"2026-01-01": 10.5, "2026-02-01": 7.25}}
    assert "longer than a day" in chart.definition


def test_it_ranks_leaf_categories_per_currency_without_rollups():
    chart = by_id(compute_metrics("usage-records", USAGE, "UTC"))["usage-cost-by-category"]
    assert [(s.name, s.x, s.y) for s in chart.series] == [
        ("EUR", ["mms"], [3.0]),
        ("USD", ["sms-outbound", "calls-inbound-local", "calls-outbound"], [1.25, 0.6, 0.4]),
    ]
    assert chart.x_label == "Category"
    assert chart.table.rows[0] == ["mms", "EUR", 3.0, 1]


def test_it_finds_rollup_categories_by_prefix():
    names = ["calls", "calls-inbound", "calls-inbound-local", "recordings", "recordingstorage",
             "sms", "totalprice"]
    assert rollups(names) == {"calls", "calls-inbound", "totalprice"}
    # A DataSet filtered to one rollup alone still shows it: nothing to double count.
    assert rollups(["calls"]) == {"totalprice"}


def test_it_keeps_the_top_ten_categories_and_adds_up_the_rest():
    rows = [usage(f"cat-{i:02d}", "2026-01-01", None, str(i + 1)) for i in range(12)]
    chart = by_id(compute_metrics("usage-records", pa.Table.from_pylist(rows, schema=USAGE_SCHEMA),
                                  "UTC"))["usage-cost-by-category"]
    assert chart.series[0].x == [f"cat-{i:02d}" for i in range(11, 1, -1)]
    assert chart.table.rows[-1] == ["2 other categories", "USD", 3.0, 2]


def test_it_gives_usage_headlines_and_reports_a_missing_totalprice():
    assert headline("usage-records", USAGE, "UTC", dt.date(2026, 1, 2)) == [
        Headline("Cost (last 7 days)", 3.0, "EUR"),
        Headline("Cost (last 7 days)", 3.75, "USD"),
    ]
    only_calls = USAGE.filter(pa.compute.equal(USAGE["category"], "calls"))
    chart = by_id(compute_metrics("usage-records", only_calls, "UTC"))["usage-cost-trend"]
    assert "No `totalprice` usage records" in chart.empty_reason


# --- Conferences, Alerts, Notifications, sparkline ----------------------------------------


def test_it_counts_conferences_per_day_by_status():
    table = pa.table({
        "date_created": pa.array([at("2026-03-01T23:30:00"), at("2026-03-02T10:00:00"),
                                  at("2026-03-02T11:00:00")], TS),
        "status": ["completed", "completed", "in-progress"],
    })
    chart = compute_metrics("conferences", table, "Europe/Berlin")[0]
    # 23:30Z on 1 March is 00:30 on 2 March in Berlin.
    assert series(chart) == {"in-progress": {"2026-03-02": 1}, "completed": {"2026-03-02": 2}}
    assert chart.table.columns == ["Day", "in-progress", "completed", "Total"]
    assert chart.table.rows[-1] == ["Total", 1, 2, 3]


def test_it_counts_alerts_per_day_by_level():
    table = pa.table({
        "date_created": pa.array([at("2026-03-01T10:00:00"), at("2026-03-01T11:00:00"),
                                  at("2026-03-02T10:00:00"), None], TS),
        "log_level": ["warning", "error", "error", "error"],
    })
    chart = compute_metrics("alerts", table, "UTC")[0]
    assert series(chart) == {
        "error": {"2026-03-01": 1, "2026-03-02": 1},
        "warning": {"2026-03-01": 1, "2026-03-02": 0},
    }
    assert headline("alerts", table, "UTC", dt.date(2026, 3, 2)) == [
        Headline("Alerts (last 7 days)", 3, "alerts"),
        Headline("Errors (last 7 days)", 2, "alerts"),
    ]


@pytest.mark.parametrize("log", [pa.array([0, 1, 0], pa.int64()), pa.array(["0", "1", "0"])])
def test_it_names_notification_log_levels_from_int_or_string(log):
    table = pa.table({
        "message_date": pa.array([at("2026-03-01T10:00:00")] * 3, TS),
        "log": log,
    })
    chart = compute_metrics("notifications", table, "UTC")[0]
    assert series(chart) == {"error": {"2026-03-01": 2}, "warning": {"2026-03-01": 1}}


def test_it_cuts_days_the_same_without_arrows_zone_database():
    stamps = pa.chunked_array([pa.array([at("2026-03-29T00:30:00"), at("2026-03-29T22:30:00"),
                                         None, at("2026-10-25T22:59:59")], TS)])
    table = pa.table({"ts": stamps})
    arrow = local_days(table, "ts", "Europe/Berlin")
    fallback = local_days_pandas(stamps, "Europe/Berlin").cast(pa.int32()).to_pylist()
    assert [None if d == NO_DAY else d for d in arrow.tolist()] == fallback
    # The spring-forward day: 22:30Z is already 00:30 on 30 March (UTC+2).
    assert [iso_day(d) for d in arrow if d != NO_DAY] == ["2026-03-29", "2026-03-30", "2026-10-25"]


def test_it_gives_daily_counts_with_gaps_filled_for_the_sparkline():
    table = pa.table({"start_time": pa.array([
        at("2026-01-01T10:00:00"), at("2026-01-01T23:30:00"), at("2026-01-03T10:00:00"), None,
    ], TS)})
    assert daily_counts(table, "start_time", "UTC") == [
        (dt.date(2026, 1, 1), 2), (dt.date(2026, 1, 2), 0), (dt.date(2026, 1, 3), 1),
    ]
    assert daily_counts(table, "start_time", "Europe/Berlin") == [
        (dt.date(2026, 1, 1), 1), (dt.date(2026, 1, 2), 1), (dt.date(2026, 1, 3), 1),
    ]
    assert daily_counts(table, "date_sent", "UTC") == []
    assert daily_counts(table.slice(0, 0), "start_time", "UTC") == []


# --- JSON and template ---------------------------------------------------------------------


def test_it_round_trips_charts_through_json():
    charts = compute_metrics("calls", calls_table(), "Europe/Berlin")
    text = charts_to_json(charts)
    assert "NaN" not in text
    assert charts_from_json(text) == charts
    assert json.loads(text) == charts_to_jsonable(charts)


# --- Properties ----------------------------------------------------------------------------

leg = st.fixed_dictionaries({
    "parent": st.booleans(),
    "direction": st.sampled_from(["inbound", "outbound-api"]),
    "status": st.sampled_from(["completed", "busy", "failed", "no-answer", "canceled",
                               "queued"]),
    "minute": st.integers(0, 3 * 24 * 60),
    "micro": st.none() | st.integers(-5_000_000, 0),
    "unit": st.sampled_from(["USD", "eur"]),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(leg, min_size=1, max_size=40))
def test_it_keeps_totals_consistent_and_cost_exact(legs):
    rows = [
        call(f"S{i}", x["direction"], x["status"],
             (dt.datetime(2026, 1, 1) + dt.timedelta(minutes=x["minute"])).isoformat(), 10,
             None if x["micro"] is None else str(Decimal(x["micro"]).scaleb(-6)),
             unit=x["unit"], parent=None if x["parent"] else "P0")
        for i, x in enumerate(legs)
    ]
    charts = by_id(compute_metrics("calls", calls_table(rows), "Europe/Berlin"))
    parents = [x for x in legs if x["parent"]]
    volume = charts["calls-by-direction"]
    if parents:
        assert volume.table.rows[-1][-1] == len(parents)
    else:
        assert volume.empty_reason
    cost = charts["calls-cost"]
    for unit in ("USD", "EUR"):
        expected = -sum(Decimal(x["micro"]).scaleb(-6) for x in legs
                        if x["micro"] is not None and x["unit"].upper() == unit)
        got = series(cost).get(unit, {})
        assert Decimal(str(sum(Decimal(str(v)) for v in got.values()))) == expected
