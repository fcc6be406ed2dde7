"""datacenter.metrics on small versions whose every expected number is known exactly."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacenter.metrics import (
    Chart,
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

UTC = dt.UTC
TS = pa.timestamp("us", tz="UTC")
PRICE = pa.decimal128(18, 6)

CALL_SCHEMA = pa.schema([
    ("sid", pa.string()), ("parent_call_sid", pa.string()), ("direction", pa.string()),
    ("status", pa.string()), ("start_time", TS), ("duration", pa.int64()),
    ("price", PRICE), ("price_unit", pa.string()),
])


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def call(sid: str, direction: str, status: str, start: str | None, duration: int | None,
         price: str | None, unit: str = "USD", parent: str | None = None) -> dict:
    return {
        "sid": sid, "parent_call_sid": parent, "direction": direction, "status": status,
        "start_time": at(start) if start else None, "duration": duration,
        "price": Decimal(price) if price is not None else None, "price_unit": unit,
    }


# Europe/Berlin is UTC+1 in January: 22:59Z is still the 5th there, 23:30Z is already the 6th.
CALLS = [
    call("P1", "inbound", "completed", "2026-01-05T10:00:00", 60, "-0.1"),
    call("C1", "outbound-dial", "completed", "2026-01-05T10:00:05", 55, "-0.2", parent="P1"),
    call("P2", "outbound-api", "completed", "2026-01-05T22:59:00", 120, "-0.0001"),
    call("P9", "outbound-api", "completed", "2026-01-05T12:00:00", 15, "-0.015"),
    call("P3", "inbound", "no-answer", "2026-01-05T23:30:00", 0, None),
    call("P4", "inbound", "canceled", "2026-01-06T08:00:00", None, "0", unit="EUR"),
    call("P5", "inbound", "completed", "2026-01-06T09:00:00", 30, "-0.5", unit="EUR"),
    call("P6", "outbound-api", "busy", "2026-01-06T10:00:00", 0, None),
    call("P7", "outbound-api", "in-progress", "2026-01-06T11:00:00", None, None),
    call("C2", "outbound-dial", "no-answer", "2026-01-06T09:00:10", None, None, parent="P5"),
    call("P8", "inbound", "failed", None, None, "-0.04"),  # never dialled: no start_time
]


def calls_table(rows: list[dict] = CALLS) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=CALL_SCHEMA)


def by_id(charts: list[Chart]) -> dict[str, Chart]:
    return {c.id: c for c in charts}


def series(chart: Chart) -> dict[str, dict[str, object]]:
    return {s.name: dict(zip(s.x, s.y, strict=True)) for s in chart.series}


@pytest.fixture
def call_charts() -> dict[str, Chart]:
    return by_id(compute_metrics("calls", calls_table(), "Europe/Berlin"))


def test_it_returns_the_six_call_charts_in_order(call_charts):
    assert list(call_charts) == [
        "calls-by-direction", "calls-by-status", "calls-completion-rate", "calls-duration",
        "calls-cost", "calls-abandon-rate",
    ]
    assert all(c.empty_reason is None for c in call_charts.values())


def test_it_counts_parent_legs_only_by_direction_in_the_datasets_time_zone(call_charts):
    chart = call_charts["calls-by-direction"]
    assert chart.kind == "stacked-bar"
    assert chart.y_label == "calls"
    # C1 and C2 are child legs (outbound-dial): no outbound-dial series at all.
    assert series(chart) == {
        "inbound": {"2026-01-05": 1, "2026-01-06": 3},
        "outbound-api": {"2026-01-05": 2, "2026-01-06": 2},
    }
    assert chart.table.columns == ["Day", "inbound", "outbound-api", "Total"]
    assert chart.table.rows == [
        ["2026-01-05", 1, 2, 3], ["2026-01-06", 3, 2, 5], ["Total", 4, 4, 8],
    ]
    assert "parent_call_sid" in chart.definition and "Europe/Berlin" in chart.definition
    assert "1 parent call with an empty `start_time` is not shown" in chart.definition


def test_it_moves_a_call_across_midnight_with_the_time_zone():
    berlin = series(by_id(compute_metrics("calls", calls_table(), "Europe/Berlin"))
                    ["calls-by-direction"])
    utc = series(by_id(compute_metrics("calls", calls_table(), "UTC"))["calls-by-direction"])
    # P3 (inbound, 23:30Z on the 5th) is on the 6th in Berlin but on the 5th in UTC.
    assert berlin["inbound"] == {"2026-01-05": 1, "2026-01-06": 3}
    assert utc["inbound"] == {"2026-01-05": 2, "2026-01-06": 2}


def test_it_counts_parent_calls_by_status(call_charts):
    assert series(call_charts["calls-by-status"]) == {
        "completed": {"2026-01-05": 3, "2026-01-06": 1},
        "busy": {"2026-01-05": 0, "2026-01-06": 1},
        "no-answer": {"2026-01-05": 0, "2026-01-06": 1},
        "canceled": {"2026-01-05": 0, "2026-01-06": 1},
        "in-progress": {"2026-01-05": 0, "2026-01-06": 1},
    }


def test_it_computes_completion_rate_over_final_statuses_per_day_and_overall(call_charts):
    chart = call_charts["calls-completion-rate"]
    assert chart.kind == "line" and chart.y_label == "%"
    # 5th: P1, P2, P9 completed. 6th: P5 completed of P3, P4, P5, P6 (P7 in progress is not final).
    assert series(chart) == {"Completion rate": {"2026-01-05": 100.0, "2026-01-06": 25.0}}
    assert chart.table.rows == [
        ["2026-01-05", 3, 3, 100.0], ["2026-01-06", 1, 4, 25.0], ["All days", 4, 7, 57.14],
    ]


def test_it_gives_mean_and_median_duration_of_completed_parent_calls(call_charts):
    chart = call_charts["calls-duration"]
    assert chart.y_label == "seconds"
    # 5th: 60, 120, 15 (child C1's 55 s does not count); 6th: 30. All: 60, 120, 15, 30.
    assert series(chart) == {
        "Mean": {"2026-01-05": 65.0, "2026-01-06": 30.0},
        "Median": {"2026-01-05": 60.0, "2026-01-06": 30.0},
    }
    assert chart.table.rows[-1] == ["All days", 4, 56.25, 45.0]


def test_it_sums_call_cost_exactly_per_currency_with_child_legs_and_counts_unrated(call_charts):
    chart = call_charts["calls-cost"]
    assert chart.kind == "bar"
    # USD on the 5th: 0.1 + 0.2 (child leg, billed too) + 0.0001 + 0.015, with no float drift.
    assert series(chart) == {
        "EUR": {"2026-01-05": 0.0, "2026-01-06": 0.5},
        "USD": {"2026-01-05": 0.3151, "2026-01-06": 0.0},
    }
    assert chart.table.columns == ["Day", "EUR", "USD", "Calls not yet rated"]
    assert chart.table.rows == [
        ["2026-01-05", 0.0, 0.3151, 0], ["2026-01-06", 0.5, 0.0, 4], ["Total", 0.5, 0.3151, 4],
    ]
    assert "4 calls not yet rated" in chart.definition
    assert "never added together" in chart.definition
    assert chart.y_label == "amount (per currency)"


def test_it_labels_the_axis_with_the_currency_when_there_is_only_one():
    rows = [r for r in CALLS if r["price_unit"] == "USD"]
    chart = by_id(compute_metrics("calls", calls_table(rows), "UTC"))["calls-cost"]
    assert chart.y_label == "USD"


def test_it_computes_abandon_rate_on_inbound_parent_calls_and_says_it_is_our_definition(
    call_charts,
):
    chart = call_charts["calls-abandon-rate"]
    # Inbound parents: 5th P1 (completed); 6th P3 (no-answer), P4 (canceled), P5 (completed).
    assert series(chart) == {"Abandon rate": {"2026-01-05": 0.0, "2026-01-06": 66.67}}
    assert chart.table.rows[-1] == ["All days", 2, 4, 50.0]
    assert "no abandon-rate field outside Flex" in chart.definition
    assert "our definition" in chart.definition


def test_it_gives_call_headlines_for_the_last_seven_days():
    figures = headline("calls", calls_table(), "Europe/Berlin", dt.date(2026, 1, 6))
    assert figures == [
        Headline("Calls (last 7 days)", 8, "calls"),
        Headline("Completion rate (last 7 days)", 57.14, "%"),
        Headline("Call cost (last 7 days)", 0.5, "EUR"),
        Headline("Call cost (last 7 days)", 0.3151, "USD"),
    ]
    earlier = headline("calls", calls_table(), "Europe/Berlin", dt.date(2026, 1, 5))
    assert earlier[0] == Headline("Calls (last 7 days)", 3, "calls")
    assert earlier[2:] == [Headline("Call cost (last 7 days)", 0.3151, "USD")]


def test_it_keeps_the_headlines_it_can_compute_when_a_column_is_missing():
    figures = headline("calls", calls_table().drop_columns(["status"]), "UTC", dt.date(2026, 1, 6))
    assert [(f.label, f.value) for f in figures] == [
        ("Calls (last 7 days)", 8), ("Completion rate (last 7 days)", None),
        ("Call cost (last 7 days)", 0.5), ("Call cost (last 7 days)", 0.3151),
    ]


def test_it_reports_a_missing_column_as_unavailable_instead_of_crashing():
    table = calls_table().drop_columns(["parent_call_sid", "price"])
    charts = by_id(compute_metrics("calls", table, "UTC"))
    assert "`parent_call_sid`" in charts["calls-by-direction"].empty_reason
    assert "`price`" in charts["calls-cost"].empty_reason
    assert charts["calls-cost"].series == []
    # The definition is still there, so the card explains the metric it cannot show.
    assert "−sum(`price`)" in charts["calls-cost"].definition


def test_it_reports_all_null_timestamps_and_unrated_prices_as_unavailable():
    rows = [{**r, "start_time": None} for r in CALLS]
    charts = compute_metrics("calls", calls_table(rows), "UTC")
    assert all("`start_time` is empty in every row" in c.empty_reason for c in charts)
    unrated = [{**r, "price": None} for r in CALLS]
    cost = by_id(compute_metrics("calls", calls_table(unrated), "UTC"))["calls-cost"]
    assert cost.empty_reason.startswith("None of the 10 calls has a price yet")


def test_it_handles_an_empty_version_and_reports_without_charts():
    charts = compute_metrics("calls", calls_table([]), "UTC")
    assert len(charts) == 6
    assert {c.empty_reason for c in charts} == {"This version has no rows."}
    assert compute_metrics("accounts", calls_table(), "UTC") == []
    assert headline("accounts", calls_table(), "UTC", dt.date(2026, 1, 6)) == []
    no_columns = pa.table({"sid": ["CA1"]})
    assert headline("calls", no_columns, "UTC", dt.date(2026, 1, 6))[0].value is None


def test_it_notes_completed_calls_without_duration():
    rows = [*CALLS, call("P10", "inbound", "completed", "2026-01-06T12:00:00", None, "-1")]
    chart = by_id(compute_metrics("calls", calls_table(rows), "UTC"))["calls-duration"]
    assert "1 completed call with an empty `duration` is left out" in chart.definition


def test_it_falls_back_to_utc_for_an_unknown_time_zone_and_says_so():
    chart = compute_metrics("calls", calls_table(), "Mars/Olympus")[0]
    assert "days in UTC (unknown time zone 'Mars/Olympus', UTC used)" in chart.definition


def test_it_names_the_missing_column_for_a_dataframe_with_none_of_the_columns():
    import pandas as pd

    charts = compute_metrics("calls", pd.DataFrame({"sid": ["CA1", "CA2"]}), "UTC")
    assert charts[0].empty_reason == "This version has no `direction` column."


def test_it_gives_the_same_charts_for_a_pandas_dataframe():
    table = calls_table()
    from_arrow = charts_to_json(compute_metrics("calls", table, "Europe/Berlin"))
    from_pandas = charts_to_json(compute_metrics("calls", table.to_pandas(), "Europe/Berlin"))
    assert from_pandas == from_arrow


def test_it_reads_raw_api_strings():
    raw = pa.table({
        "start_time": ["Mon, 05 Jan 2026 23:30:00 +0000", "Mon, 05 Jan 2026 10:00:00 +0000"],
        "parent_call_sid": ["", None],
        "direction": ["inbound", "inbound"],
        "status": ["completed", "completed"],
        "duration": ["30", "90"],
        "price": ["-0.10", ""],
        "price_unit": ["USD", "USD"],
    })
    charts = by_id(compute_metrics("calls", raw, "Europe/Berlin"))
    assert series(charts["calls-duration"])["Mean"] == {"2026-01-05": 90.0, "2026-01-06": 30.0}
    assert series(charts["calls-cost"])["USD"] == {"2026-01-06": 0.1}
    assert "1 call not yet rated" in charts["calls-cost"].definition


def test_it_reads_prices_exactly_whatever_the_decimal_scale_or_chunking():
    table = calls_table()
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=3)).slice(0)
    wide = table.set_column(table.schema.get_field_index("price"), "price",
                            table["price"].cast(pa.decimal128(38, 10)))
    expected = series(by_id(compute_metrics("calls", table, "UTC"))["calls-cost"])
    for variant in (chunked, wide):
        assert series(by_id(compute_metrics("calls", variant, "UTC"))["calls-cost"]) == expected


def test_it_refuses_amounts_too_large_to_add_exactly():
    # decimal128(18, 6) always fits int64 millionths; a wider decimal might not.
    table = calls_table(CALLS[:1]).drop_columns(["price"]).append_column(
        "price", pa.array([Decimal("-1e13")], pa.decimal128(38, 6)))
    chart = by_id(compute_metrics("calls", table, "UTC"))["calls-cost"]
    assert chart.empty_reason == "`price` holds amounts too large to add up exactly."


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


def test_it_renders_cards_and_a_json_block_without_inline_script():
    from django.template.loader import render_to_string

    charts = compute_metrics("calls", calls_table().drop_columns(["price"]), "UTC")
    html = render_to_string("web/_charts.html",
                            {"charts": charts, "charts_json": charts_to_jsonable(charts)})
    assert 'data-chart-id="calls-by-direction"' in html
    assert 'data-chart-id="calls-cost"' not in html  # unavailable: the reason is shown instead
    assert "This version has no `price` column." in html
    assert '<script id="chart-data" type="application/json">' in html
    assert html.count("<script") == 3  # the JSON block and two external files
    assert "vendor/plotly.min.js" in html and "js/charts.js" in html


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
