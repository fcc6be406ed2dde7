"""scheduler.recurrence across clock changes and calendars: DST gaps and overlaps, month ends,
weekdays. DST dates used: Europe/Berlin springs forward 2026-03-29 02:00->03:00 and falls back
2026-10-25 03:00->02:00; America/New_York springs forward 2026-03-08 and falls back 2026-11-01."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from scheduler.recurrence import (
    next_runs,
)
from scheduler.tests.recurrence_support import (
    local_runs,
    rule_for,
    runs_between,
    utc,
)

# --------------------------------------------------------------------------- DST


def test_it_runs_a_daily_0230_berlin_job_at_0300_on_spring_forward_day() -> None:
    rule = rule_for(kind="daily", at="02:30", tz="Europe/Berlin")

    runs = local_runs(rule, utc(2026, 3, 27, 12), 4)

    assert [r.strftime("%m-%d %H:%M %z") for r in runs] == [
        "03-28 02:30 +0100",
        "03-29 03:00 +0200",  # 02:30 does not exist that day: first instant after the gap
        "03-30 02:30 +0200",
        "03-31 02:30 +0200",
    ]


def test_it_runs_a_daily_0230_new_york_job_once_on_spring_forward_day() -> None:
    rule = rule_for(kind="daily", at="02:30", tz="America/New_York")

    runs = next_runs(rule, utc(2026, 3, 7, 12), 3)

    assert runs == [utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30), utc(2026, 3, 10, 6, 30)]


def test_it_runs_a_daily_0130_new_york_job_once_on_fall_back_day() -> None:
    rule = rule_for(kind="daily", at="01:30", tz="America/New_York")

    runs = next_runs(rule, utc(2026, 10, 31, 12), 3)

    # 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST): only the first runs.
    assert runs == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30), utc(2026, 11, 3, 6, 30)]


def test_it_does_not_run_the_repeated_hour_again_when_asked_during_it() -> None:
    rule = rule_for(kind="daily", at="01:30", tz="America/New_York")

    # 01:10 EST, the second pass of the repeated hour; the 01:30 run already happened.
    runs = next_runs(rule, utc(2026, 11, 1, 6, 10), 1)

    assert runs == [utc(2026, 11, 2, 6, 30)]


def test_it_runs_a_daily_0230_berlin_job_once_on_fall_back_day() -> None:
    rule = rule_for(kind="daily", at="02:30", tz="Europe/Berlin")

    runs = next_runs(rule, utc(2026, 10, 24, 12), 2)

    assert runs == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_it_never_skips_or_doubles_a_day_for_gap_and_overlap_times_over_a_year() -> None:
    for tz, at in (("Europe/Berlin", "02:30"), ("America/New_York", "01:30")):
        zone = ZoneInfo(tz)
        rule = rule_for(kind="daily", at=at, tz=tz)

        runs = runs_between(rule, utc(2026, 1, 1), utc(2027, 1, 1))

        days = [run.astimezone(zone).date() for run in runs]
        assert len(days) == len(set(days)) == 365


def test_it_keeps_hourly_runs_distinct_across_berlin_spring_forward() -> None:
    rule = rule_for(kind="hourly", every=1, tz="Europe/Berlin")

    runs = next_runs(rule, utc(2026, 3, 28, 23, 30), 4)

    # Local 01:00, then 02:00 (in the gap) and 03:00 are the same instant: one run.
    assert runs == [
        utc(2026, 3, 29, 0),
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 2),
        utc(2026, 3, 29, 3),
    ]


def test_it_runs_the_repeated_hour_once_for_hourly_runs_on_new_york_fall_back() -> None:
    rule = rule_for(kind="hourly", every=1, tz="America/New_York")

    runs = local_runs(rule, utc(2026, 11, 1, 3, 30), 4)

    assert [r.strftime("%H:%M %z") for r in runs] == [
        "00:00 -0400",
        "01:00 -0400",
        "02:00 -0500",
        "03:00 -0500",
    ]


def test_it_counts_every_15_minute_run_of_the_dst_days_once() -> None:
    rule = rule_for(kind="minutes", every=15, tz="Europe/Berlin")
    second = timedelta(seconds=1)  # runs_between is exclusive of its start
    spring = runs_between(rule, utc(2026, 3, 28, 23) - second, utc(2026, 3, 29, 22))
    autumn = runs_between(rule, utc(2026, 10, 24, 22) - second, utc(2026, 10, 25, 23))

    # 02:00-02:45 collapse onto 03:00, which is itself a run: 96 - 4 runs.
    assert len(spring) == len(set(spring)) == 92
    assert utc(2026, 3, 29, 1) in spring
    # The repeated 02:00-02:59 runs once: 96 runs, one gap of 75 minutes.
    assert len(autumn) == len(set(autumn)) == 96
    gaps = {b - a for a, b in zip(autumn, autumn[1:], strict=False)}
    assert gaps == {timedelta(minutes=15), timedelta(minutes=75)}


def test_it_keeps_the_wall_clock_phase_of_a_5_hour_series_across_the_gap() -> None:
    rule = rule_for(kind="hourly", every=5, at="21:30", tz="Europe/Berlin", today=date(2026, 3, 28))

    runs = local_runs(rule, utc(2026, 3, 28, 20), 3)

    assert [r.strftime("%d %H:%M %z") for r in runs] == [
        "28 21:30 +0100",
        "29 03:00 +0200",  # wall-clock 02:30 is in the gap
        "29 07:30 +0200",  # the grid stays on the wall clock: 02:30 + 5h
    ]


# --------------------------------------------------------------------------- calendars


def test_it_runs_on_the_last_day_of_months_without_a_31st() -> None:
    rule = rule_for(kind="monthly", day_of_month=31, at="06:00", tz="UTC")

    runs = next_runs(rule, utc(2028, 1, 1), 5)

    assert "BYMONTHDAY=-1" in rule.rrule
    assert [r.date() for r in runs] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
        date(2028, 5, 31),
    ]


def test_it_runs_the_30th_on_the_last_day_of_february_only() -> None:
    rule = rule_for(kind="monthly", day_of_month=30, at="06:00", tz="UTC")

    runs = next_runs(rule, utc(2027, 1, 1), 4)

    assert [r.date() for r in runs] == [
        date(2027, 1, 30),
        date(2027, 2, 28),
        date(2027, 3, 30),
        date(2027, 4, 30),
    ]


def test_it_runs_an_impossible_looking_february_30th_every_february() -> None:
    rule = rule_for(kind="advanced", months=[2], month_days=[30], times=["06:00"], tz="UTC")

    runs = next_runs(rule, utc(2026, 1, 1), 3)

    assert [r.date() for r in runs] == [date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_it_compiles_last_day_of_month_to_bymonthday_minus_one() -> None:
    rule = rule_for(kind="advanced", month_days=[-1, 15], times=["23:00"], tz="UTC")

    assert rule.rrule == "RRULE:FREQ=MONTHLY;BYMONTHDAY=15,-1;BYHOUR=23;BYMINUTE=0;BYSECOND=0"
    assert [r.day for r in next_runs(rule, utc(2026, 4, 1), 3)] == [15, 30, 15]


def test_it_runs_on_the_2nd_and_4th_sunday() -> None:
    rule = rule_for(
        kind="advanced", nth_weekdays=["2SU", "4SU"], times=["10:00"], tz="Europe/London"
    )

    runs = local_runs(rule, utc(2026, 1, 1), 5)

    assert "BYDAY=+2SU,+4SU" in rule.rrule
    assert [r.date() for r in runs] == [
        date(2026, 1, 11),
        date(2026, 1, 25),
        date(2026, 2, 8),
        date(2026, 2, 22),
        date(2026, 3, 8),
    ]
    assert {r.strftime("%H:%M") for r in runs} == {"10:00"}


def test_it_runs_on_the_last_friday_of_chosen_months() -> None:
    rule = rule_for(
        kind="advanced", nth_weekdays=["-1FR"], months=[3, 6], times=["07:00"], tz="UTC"
    )

    runs = next_runs(rule, utc(2026, 1, 1), 3)

    assert [r.date() for r in runs] == [date(2026, 3, 27), date(2026, 6, 26), date(2027, 3, 26)]


def test_it_runs_weekdays_only_monday_to_friday() -> None:
    rule = rule_for(kind="weekdays", at="08:30", tz="America/New_York")

    runs = local_runs(rule, utc(2026, 1, 2, 15), 6)  # a Friday, after its run

    assert [r.strftime("%a %H:%M") for r in runs] == [
        "Mon 08:30",
        "Tue 08:30",
        "Wed 08:30",
        "Thu 08:30",
        "Fri 08:30",
        "Mon 08:30",
    ]


def test_it_runs_weekly_on_the_chosen_days() -> None:
    rule = rule_for(kind="weekly", weekdays=["FR", "MO"], at="07:15", tz="Asia/Tokyo")

    runs = local_runs(rule, utc(2026, 1, 1), 4)

    assert [r.strftime("%a %d %H:%M") for r in runs] == [
        "Fri 02 07:15",
        "Mon 05 07:15",
        "Fri 09 07:15",
        "Mon 12 07:15",
    ]


def test_it_runs_several_specific_times_that_share_no_minute() -> None:
    rule = rule_for(kind="advanced", weekdays=["SA"], times=["18:30", "06:00"], tz="UTC")

    runs = next_runs(rule, utc(2026, 1, 1), 4)

    assert rule.rrule.count("RRULE:") == 2  # 06:00 and 18:30 are not one BYHOURxBYMINUTE
    assert runs == [
        utc(2026, 1, 3, 6),
        utc(2026, 1, 3, 18, 30),
        utc(2026, 1, 10, 6),
        utc(2026, 1, 10, 18, 30),
    ]


def test_it_keeps_the_every_n_days_cycle_years_later() -> None:
    rule = rule_for(kind="daily", every=3, at="06:00", tz="UTC", today=date(2026, 1, 1))

    runs = next_runs(rule, utc(2031, 1, 1), 2)

    offsets = {(r.date() - date(2026, 1, 1)).days % 3 for r in runs}
    assert offsets == {0}
    assert runs[1] - runs[0] == timedelta(days=3)
