"""datacenter.metrics for Calls on a small version whose every expected number is known exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from datacenter.metrics import (
    Chart,
    Headline,
    charts_to_json,
    compute_metrics,
    headline,
)
from datacenter.tests.metrics_support import (
    CALLS,
    by_id,
    call,
    calls_table,
    series,
)


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
