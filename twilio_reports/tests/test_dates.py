from datetime import UTC, date, datetime, timedelta

import pytest

from twilio_reports.dates import (
    DateBlock,
    day_bounds_utc,
    resolve_window,
    split_days,
    today_in,
    utc_days,
)

TODAY = date(2026, 3, 31)


def test_it_resolves_a_specific_report_date():
    block = DateBlock(duration="specific", report_date_mode="specific",
                      report_date=date(2026, 2, 28))
    assert resolve_window(block, "UTC", TODAY) == (date(2026, 2, 28), date(2026, 2, 28))


def test_it_resolves_days_back_for_one_day():
    block = DateBlock(duration="specific", report_date_mode="relative", days_back=31)
    assert resolve_window(block, "Europe/Berlin", TODAY) == (date(2026, 2, 28),) * 2


def test_it_reads_start_10_end_5_as_ten_through_five_days_ago():
    block = DateBlock(duration="range", start_mode="relative", start_days_back=10,
                      end_mode="relative", end_days_back=5)
    assert resolve_window(block, "UTC", TODAY) == (date(2026, 3, 21), date(2026, 3, 26))


def test_it_mixes_specific_start_and_relative_end():
    block = DateBlock(duration="range", start_mode="specific", start_date=date(2026, 1, 31),
                      end_mode="relative", end_days_back=0)
    assert resolve_window(block, "UTC", TODAY) == (date(2026, 1, 31), TODAY)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (DateBlock(duration="range", start_mode="relative", start_days_back=5,
                   end_mode="relative", end_days_back=10), "is after the end date"),
        (DateBlock(duration="specific", report_date_mode="specific"), "Choose the report date"),
        (DateBlock(duration="specific", report_date_mode="relative", days_back=-1),
         "cannot be negative"),
        (DateBlock(duration="range", start_mode="relative", end_mode="relative",
                   end_days_back=1), "how many days back the start date"),
        (DateBlock(duration="weekly"), "Unknown duration"),  # type: ignore[arg-type]
    ],
)
def test_it_explains_bad_blocks(block, message):
    with pytest.raises(ValueError, match=message):
        resolve_window(block, "UTC", TODAY)


def test_it_rejects_unknown_time_zones():
    with pytest.raises(ValueError, match="Unknown time zone"):
        resolve_window(DateBlock(days_back=1), "Mars/Olympus", TODAY)


def test_it_gives_a_23_hour_day_at_berlin_spring_forward():
    start, end = day_bounds_utc(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
    assert start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 22, tzinfo=UTC)
    assert end - start == timedelta(hours=23)


def test_it_gives_a_25_hour_day_at_berlin_fall_back():
    start, end = day_bounds_utc(date(2026, 10, 25), date(2026, 10, 25), "Europe/Berlin")
    assert end - start == timedelta(hours=25)


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25)])
def test_it_honours_new_york_dst(day, hours):
    start, end = day_bounds_utc(day, day, "America/New_York")
    assert end - start == timedelta(hours=hours)
    assert start.hour in (4, 5)


def test_it_covers_month_ends_with_utc_days():
    start, end = day_bounds_utc(date(2026, 1, 31), date(2026, 2, 28), "America/New_York")
    assert start == datetime(2026, 1, 31, 5, tzinfo=UTC)
    assert end == datetime(2026, 3, 1, 5, tzinfo=UTC)
    # The UTC days to ask Twilio for spill into March 1st.
    assert utc_days(start, end) == (date(2026, 1, 31), date(2026, 3, 1))


def test_it_needs_only_the_window_days_in_utc():
    start, end = day_bounds_utc(date(2024, 2, 28), date(2024, 2, 29), "UTC")
    assert utc_days(start, end) == (date(2024, 2, 28), date(2024, 2, 29))


def test_it_finds_berlin_utc_days_one_earlier():
    start, end = day_bounds_utc(date(2026, 3, 1), date(2026, 3, 1), "Europe/Berlin")
    assert utc_days(start, end) == (date(2026, 2, 28), date(2026, 3, 1))


def test_it_splits_days_into_disjoint_ranges():
    parts = split_days(date(2026, 2, 27), date(2026, 3, 3), 2)
    assert parts == [(date(2026, 2, 27), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 2)),
                     (date(2026, 3, 3), date(2026, 3, 3))]


def test_it_knows_today_in_a_zone():
    now = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert today_in("Europe/Berlin", now) == date(2026, 4, 1)
    assert today_in("America/New_York", now) == date(2026, 3, 31)
