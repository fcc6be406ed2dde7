"""scheduler.recurrence: compiling the Scheduling pane to RRULEs and evaluating them.

Pure tests (no database). DST dates used: Europe/Berlin springs forward 2026-03-29 02:00->03:00
and falls back 2026-10-25 03:00->02:00; America/New_York springs forward 2026-03-08 and falls
back 2026-11-01 (02:00->01:00).
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler.recurrence import (
    Rule,
    ScheduleSpec,
    SpecError,
    describe,
    next_runs,
    to_rule,
    validate,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 1, 1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rule_for(today: date = TODAY, **spec: object) -> Rule:
    rule = to_rule(spec, today=today)
    assert rule is not None
    return rule


def local_runs(rule: Rule, after: datetime, count: int) -> list[datetime]:
    zone = ZoneInfo(rule.tz)
    return [run.astimezone(zone) for run in next_runs(rule, after, count)]


def runs_between(rule: Rule, start: datetime, end: datetime) -> list[datetime]:
    runs: list[datetime] = []
    after = start
    while True:
        (run,) = next_runs(rule, after, 1)
        if run >= end:
            return runs
        runs.append(run)
        after = run


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


# --------------------------------------------------------------------------- intervals and windows


def test_it_excludes_the_end_of_the_active_hours() -> None:
    rule = rule_for(kind="hourly", every=1, window_from="09:00", window_to="17:00", tz="UTC")

    runs = next_runs(rule, utc(2026, 1, 5), 9)

    assert [r.hour for r in runs] == [9, 10, 11, 12, 13, 14, 15, 16, 9]


def test_it_excludes_the_end_of_the_active_hours_for_minutes() -> None:
    rule = rule_for(kind="minutes", every=30, window_from="09:00", window_to="10:30", tz="UTC")

    runs = next_runs(rule, utc(2026, 1, 5), 4)

    assert [r.strftime("%d %H:%M") for r in runs] == [
        "05 09:00",
        "05 09:30",
        "05 10:00",
        "06 09:00",
    ]


def test_it_wraps_active_hours_past_midnight() -> None:
    rule = rule_for(kind="hourly", every=2, window_from="22:00", window_to="03:00", tz="UTC")

    runs = next_runs(rule, utc(2026, 1, 5, 12), 4)

    assert [r.strftime("%d %H:%M") for r in runs] == [
        "05 22:00",
        "06 00:00",
        "06 02:00",
        "06 22:00",
    ]


def test_it_aligns_intervals_to_the_start_time_inside_the_window() -> None:
    spec = {
        "kind": "advanced",
        "repeat": "interval",
        "unit": "minutes",
        "every": 45,
        "at": "09:10",
        "window_from": "09:00",
        "window_to": "11:00",
        "tz": "UTC",
    }

    runs = next_runs(rule_for(**spec), utc(2026, 1, 5), 4)

    assert [r.strftime("%d %H:%M") for r in runs] == [
        "05 09:10",
        "05 09:55",
        "05 10:40",
        "06 09:10",
    ]


# --------------------------------------------------------------------------- delayed start


def test_it_waits_for_the_delayed_start() -> None:
    rule = rule_for(kind="daily", at="06:00", tz="Europe/Berlin", start_at="2026-05-01T09:00")

    runs = local_runs(rule, utc(2026, 1, 1), 2)

    assert [r.strftime("%Y-%m-%d %H:%M") for r in runs] == ["2026-05-02 06:00", "2026-05-03 06:00"]


def test_it_keeps_the_interval_phase_after_a_delayed_start() -> None:
    rule = rule_for(kind="hourly", every=5, at="09:30", tz="UTC", start_at="2026-05-01T12:00")

    runs = next_runs(rule, utc(2026, 1, 1), 3)

    assert runs == [utc(2026, 5, 1, 14, 30), utc(2026, 5, 1, 19, 30), utc(2026, 5, 2, 0, 30)]


def test_it_starts_an_every_n_days_cycle_at_the_first_run_after_a_delayed_start() -> None:
    rule = rule_for(kind="daily", every=3, at="06:00", tz="UTC", start_at="2026-05-01T09:00")

    assert next_runs(rule, utc(2026, 1, 1), 2) == [utc(2026, 5, 2, 6), utc(2026, 5, 5, 6)]


# --------------------------------------------------------------------------- next_runs contract


def test_it_returns_runs_strictly_after_the_given_instant() -> None:
    rule = rule_for(kind="daily", at="06:00", tz="UTC")

    assert next_runs(rule, utc(2026, 2, 1, 6), 1) == [utc(2026, 2, 2, 6)]
    assert next_runs(rule, utc(2026, 2, 1, 5, 59, 59), 1) == [utc(2026, 2, 1, 6)]


def test_it_refuses_a_naive_after() -> None:
    rule = rule_for(kind="daily", at="06:00", tz="UTC")

    with pytest.raises(ValueError, match="aware"):
        next_runs(rule, datetime(2026, 1, 1), 1)


def test_it_accepts_after_in_any_zone_and_answers_in_utc() -> None:
    rule = rule_for(kind="daily", at="06:00", tz="Europe/Berlin")

    (run,) = next_runs(rule, datetime(2026, 2, 1, 7, tzinfo=BERLIN), 1)

    assert run == utc(2026, 2, 2, 5)
    assert run.tzinfo is UTC


def test_it_compiles_manual_to_no_rule() -> None:
    assert to_rule({"kind": "manual", "tz": "UTC"}) is None


def test_it_round_trips_rules_and_specs_through_json_dicts() -> None:
    spec = ScheduleSpec.from_dict({"kind": "weekly", "weekdays": ["MO"], "at": "06:00"})
    rule = to_rule(spec, today=TODAY)
    assert rule is not None

    assert ScheduleSpec.from_dict(spec.to_dict()) == spec
    assert Rule.from_dict(rule.to_dict()) == rule
    assert rule.to_dict() == {
        "rrule": "RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=6;BYMINUTE=0;BYSECOND=0",
        "tz": "UTC",
        "dtstart": "2026-01-01T06:00:00",
    }


def test_it_answers_quickly_for_old_rules() -> None:
    rules = [
        rule_for(kind="minutes", every=15, tz="America/New_York", today=date(2020, 1, 1)),
        rule_for(kind="daily", at="06:00", tz="Europe/Berlin", today=date(2020, 1, 1)),
        rule_for(kind="hourly", every=5, at="09:30", tz="UTC", today=date(2020, 1, 1)),
        rule_for(kind="advanced", nth_weekdays=["2SU"], times=["10:00"], tz="UTC"),
    ]
    after = utc(2030, 6, 15, 13, 7)
    calls = 400
    started = clock.perf_counter()
    for i in range(calls):
        next_runs(rules[i % len(rules)], after + timedelta(minutes=i), 1)
    per_call = (clock.perf_counter() - started) / calls

    # The dispatcher's budget is 0.2 ms; allow slack for slow CI machines.
    assert per_call < 0.001


@pytest.mark.parametrize(
    "text",
    [
        "RRULE:FREQ=MONTHLY;INTERVAL=2",  # day and time come from dtstart
        "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,SA",
        "RRULE:FREQ=DAILY;COUNT=40",
        "RRULE:FREQ=MINUTELY;INTERVAL=25;BYHOUR=1,2,3",
        "DTSTART:20250102T023000\nRRULE:FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU",
    ],
)
def test_it_evaluates_hand_written_rules_as_walking_them_would(text: str) -> None:
    rule = Rule(rrule=text, tz="Europe/Berlin", dtstart=datetime(2025, 1, 2, 2, 30))

    for after in (utc(2024, 1, 1), utc(2025, 2, 3, 4, 5), utc(2025, 3, 30, 0, 10)):
        assert next_runs(rule, after, 5) == reference_runs(rule, after, 5)


# --------------------------------------------------------------------------- validation


def test_it_refuses_runs_less_than_15_minutes_apart() -> None:
    assert validate({"kind": "minutes", "every": 10}) == {
        "every": "Runs must be at least 15 minutes apart"
    }
    assert validate({"kind": "advanced", "times": ["08:00", "08:10"]}) == {
        "times": "Runs must be at least 15 minutes apart"
    }
    wrap = validate({"kind": "advanced", "times": ["23:55", "00:05"]})
    assert wrap["times"].startswith("Runs must be at least 15 minutes apart: the last run")
    assert "every" in validate(
        {"kind": "advanced", "repeat": "interval", "unit": "minutes", "every": 35}
    )
    assert validate({"kind": "minutes", "every": 15}) == {}
    with pytest.raises(SpecError) as raised:
        to_rule({"kind": "minutes", "every": 5})
    assert raised.value.errors == {"every": "Runs must be at least 15 minutes apart"}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"kind": "daily", "at": "06:00", "tz": "Mars/Olympus"}, "tz"),
        ({"kind": "daily", "at": "06:00", "tz": "../../etc/passwd"}, "tz"),
        ({"kind": "daily", "at": "6 am"}, "at"),
        ({"kind": "daily"}, "at"),
        ({"kind": "daily", "at": "06:00", "every": 0}, "every"),
        ({"kind": "hourly", "every": "two"}, "every"),
        ({"kind": "hourly", "window_from": "09:00"}, "window_to"),
        ({"kind": "hourly", "window_from": "09:00", "window_to": "09:00"}, "window_to"),
        ({"kind": "hourly", "at": "08:00", "window_from": "09:00", "window_to": "17:00"}, "at"),
        ({"kind": "weekly", "at": "06:00"}, "weekdays"),
        ({"kind": "weekly", "at": "06:00", "weekdays": ["Monday"]}, "weekdays"),
        ({"kind": "monthly", "at": "06:00", "day_of_month": 32}, "day_of_month"),
        ({"kind": "advanced", "times": ["06:00"], "nth_weekdays": ["5SU"]}, "nth_weekdays"),
        ({"kind": "advanced", "times": ["06:00"], "months": [13]}, "months"),
        ({"kind": "advanced", "times": ["06:00", "06:00"]}, "times"),
        (
            {"kind": "advanced", "times": ["06:00"], "weekdays": ["MO"], "month_days": [1]},
            "weekdays",
        ),
        ({"kind": "daily", "at": "06:00", "start_at": "next Tuesday"}, "start_at"),
        ({"kind": "daily", "at": "06:00", "start_at": "2026-05-01T09:00+02:00"}, "start_at"),
        ({"kind": "sometimes"}, "kind"),
        ({"kind": "daily", "at": "06:00", "colour": "blue"}, "colour"),
    ],
)
def test_it_explains_what_is_wrong_with_a_spec(spec: dict[str, object], field: str) -> None:
    errors = validate(spec)

    assert field in errors
    assert errors[field][0].isupper()


def test_it_accepts_every_basic_choice() -> None:
    for spec in (
        {"kind": "manual"},
        {"kind": "hourly", "every": 3, "at": "01:00"},
        {"kind": "minutes", "every": 20, "window_from": "08:00", "window_to": "18:00"},
        {"kind": "daily", "every": 2, "at": "06:00", "tz": "Europe/Berlin"},
        {"kind": "weekdays", "at": "08:30"},
        {"kind": "weekly", "weekdays": ["MO", "TH"], "at": "08:30"},
        {"kind": "monthly", "day_of_month": 31, "at": "08:30"},
    ):
        assert validate(spec) == {}, spec


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"kind": "manual"}, "Manually"),
        (
            {"kind": "daily", "at": "06:00", "tz": "Europe/Berlin"},
            "Every day at 06:00 Europe/Berlin",
        ),
        ({"kind": "daily", "every": 3, "at": "6:05"}, "Every 3 days at 06:05 UTC"),
        (
            {"kind": "weekdays", "at": "08:30", "tz": "America/New_York"},
            "Every weekday at 08:30 America/New_York",
        ),
        (
            {"kind": "weekly", "weekdays": ["FR", "MO", "WE"], "at": "07:00"},
            "Every week on Monday, Wednesday and Friday at 07:00 UTC",
        ),
        (
            {"kind": "hourly", "every": 2, "window_from": "09:00", "window_to": "17:00"},
            "Every 2 hours from 09:00 to 17:00 UTC",
        ),
        ({"kind": "hourly", "every": 1}, "Every hour starting at 00:00 UTC"),
        ({"kind": "minutes", "every": 15, "at": "00:05"}, "Every 15 minutes starting at 00:05 UTC"),
        (
            {"kind": "monthly", "day_of_month": 1, "at": "06:00"},
            "Every month on the 1st at 06:00 UTC",
        ),
        (
            {"kind": "monthly", "day_of_month": 31, "at": "06:00"},
            "Every month on the last day at 06:00 UTC",
        ),
        (
            {"kind": "monthly", "day_of_month": 30, "at": "06:00"},
            "Every month on the 30th (or the last day of shorter months) at 06:00 UTC",
        ),
        (
            {
                "kind": "advanced",
                "nth_weekdays": ["4SU", "2SU"],
                "times": ["10:00"],
                "tz": "Europe/London",
            },
            "Monthly on the 2nd and 4th Sunday at 10:00 Europe/London",
        ),
        (
            {
                "kind": "advanced",
                "nth_weekdays": ["1MO", "-1FR"],
                "months": [9, 3],
                "times": ["10:00"],
            },
            "On the 1st Monday and the last Friday of March and September at 10:00 UTC",
        ),
        (
            {"kind": "advanced", "month_days": [15, -1, 1], "times": ["18:30", "06:00"]},
            "Monthly on the 1st, 15th and last day at 06:00 and 18:30 UTC",
        ),
        (
            {
                "kind": "advanced",
                "weekdays": ["MO", "TU", "WE", "TH", "FR"],
                "repeat": "interval",
                "unit": "minutes",
                "every": 30,
                "window_from": "09:00",
                "window_to": "17:00",
            },
            "Every weekday, every 30 minutes from 09:00 to 17:00 UTC",
        ),
        (
            {"kind": "advanced", "months": [12], "times": ["12:00"]},
            "Every day in December at 12:00 UTC",
        ),
        (
            {"kind": "daily", "at": "06:00", "start_at": "2026-05-01T09:00"},
            "Every day at 06:00 UTC, starting 2026-05-01 09:00",
        ),
    ],
)
def test_it_describes_schedules_in_words(spec: dict[str, object], words: str) -> None:
    assert describe(spec) == words


# --------------------------------------------------------------------------- properties

ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",
]
# Instants near DST changes, so random `after`s land on the interesting days.
TRANSITIONS = [
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2026, 4, 4, 15),
    utc(2026, 10, 3, 16),
    utc(2026, 4, 4, 15, 0),
    utc(2026, 10, 3, 15, 30),
]

hhmm = st.integers(0, 24 * 60 - 1).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
codes = st.lists(
    st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), min_size=1, max_size=7, unique=True
)


@st.composite
def windows(draw: st.DrawFn) -> dict[str, str]:
    if not draw(st.booleans()):
        return {}
    start, length = draw(st.integers(0, 1439)), draw(st.integers(1, 1439))
    offset = draw(st.integers(0, length - 1))
    fmt = lambda m: f"{m % 1440 // 60:02d}:{m % 60:02d}"  # noqa: E731
    return {"window_from": fmt(start), "window_to": fmt(start + length), "at": fmt(start + offset)}


@st.composite
def specs(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(
        st.sampled_from(["hourly", "minutes", "daily", "weekdays", "weekly", "monthly", "advanced"])
    )
    spec: dict[str, object] = {"kind": kind, "tz": draw(st.sampled_from(ZONES))}
    if kind == "hourly":
        spec |= {"every": draw(st.integers(1, 30))} | draw(windows())
    elif kind == "minutes":
        spec |= {"every": draw(st.integers(15, 200))} | draw(windows())
    elif kind == "daily":
        spec |= {"every": draw(st.integers(1, 10)), "at": draw(hhmm)}
    elif kind == "weekdays":
        spec |= {"at": draw(hhmm)}
    elif kind == "weekly":
        spec |= {"at": draw(hhmm), "weekdays": draw(codes)}
    elif kind == "monthly":
        spec |= {"at": draw(hhmm), "day_of_month": draw(st.integers(1, 31))}
    else:
        spec["months"] = draw(st.lists(st.integers(1, 12), max_size=3, unique=True))
        days = draw(st.sampled_from(["none", "month_days", "weekdays", "nth_weekdays"]))
        if days == "month_days":
            spec["month_days"] = draw(
                st.lists(st.sampled_from([*range(1, 32), -1]), min_size=1, max_size=3, unique=True)
            )
        elif days == "weekdays":
            spec["weekdays"] = draw(codes)
        elif days == "nth_weekdays":
            nth = st.tuples(
                st.sampled_from(["1", "2", "3", "4", "-1"]), st.sampled_from(["MO", "SU"])
            )
            spec["nth_weekdays"] = [
                "".join(p) for p in draw(st.lists(nth, min_size=1, max_size=3, unique=True))
            ]
        if draw(st.booleans()):
            spec["times"] = draw(st.lists(hhmm, min_size=1, max_size=3, unique=True))
        else:
            unit = draw(st.sampled_from(["hours", "minutes"]))
            every = draw(st.integers(1, 12) if unit == "hours" else st.integers(15, 240))
            spec |= {"repeat": "interval", "unit": unit, "every": every} | draw(windows())
    if draw(st.integers(0, 4)) == 0:
        start = draw(st.datetimes(datetime(2025, 6, 1), datetime(2027, 6, 1)))
        spec["start_at"] = start.replace(second=0, microsecond=0).isoformat()
    assume(validate(spec) == {})
    return spec


afters = st.one_of(
    st.datetimes(datetime(2024, 1, 1), datetime(2032, 1, 1), timezones=st.just(UTC)),
    st.builds(
        lambda base, delta: base + delta,
        st.sampled_from(TRANSITIONS),
        st.timedeltas(timedelta(days=-2), timedelta(days=2)),
    ),
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    spec=specs(),
    after=afters,
    count=st.integers(1, 12),
    today=st.dates(date(2020, 1, 1), date(2031, 1, 1)),
)
def test_it_returns_strictly_increasing_distinct_utc_runs_after_the_instant(
    spec: dict[str, object], after: datetime, count: int, today: date
) -> None:
    rule = rule_for(today=today, **spec)

    runs = next_runs(rule, after, count)

    assert len(runs) == count
    assert all(run.tzinfo is UTC for run in runs)
    assert runs[0] > after
    assert all(a < b for a, b in zip(runs, runs[1:], strict=False))
    # Asking again from each run gives the next one: batches and single steps agree.
    assert [next_runs(rule, run, 1)[0] for run in runs[:-1]] == runs[1:]


def reference_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """First instant whose wall clock reads `local` or later, found the slow obvious way."""
    readings = [local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    exact = [u for u in readings if u.astimezone(zone).replace(tzinfo=None) == local]
    if exact:
        return min(exact)
    instant = min(readings)
    while instant.astimezone(zone).replace(tzinfo=None) < local:
        instant += timedelta(minutes=1)
    return instant


def reference_runs(rule: Rule, after: datetime, count: int) -> list[datetime]:
    """Walk every occurrence from dtstart (no re-anchoring); keep the first per instant."""
    zone = ZoneInfo(rule.tz)
    occurrences = rrulestr(rule.rrule, dtstart=rule.dtstart, forceset=True)
    runs: list[datetime] = []
    last = after
    for local in occurrences:
        instant = reference_instant(local, zone)
        if instant > last:
            runs.append(instant)
            last = instant
            if len(runs) == count:
                break
    return runs


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=specs(),
    lead=st.timedeltas(timedelta(0), timedelta(days=50)),
    count=st.integers(1, 6),
    near=st.sampled_from(TRANSITIONS),
)
def test_it_agrees_with_walking_the_rule_from_its_start(
    spec: dict[str, object], lead: timedelta, count: int, near: datetime
) -> None:
    spec = {k: v for k, v in spec.items() if k != "start_at"}
    today = (near - lead).date()
    rule = rule_for(today=today, **spec)
    after = near - timedelta(hours=3)

    assert next_runs(rule, after, count) == reference_runs(rule, after, count)


@settings(max_examples=100, deadline=None)
@given(spec=specs())
def test_it_round_trips_specs_and_describes_every_valid_one(spec: dict[str, object]) -> None:
    parsed = ScheduleSpec.from_dict(spec)

    assert ScheduleSpec.from_dict(parsed.to_dict()) == parsed
    words = describe(parsed)
    assert f" {spec['tz']}" in words
    assert ("starting 20" in words) == ("start_at" in spec)
