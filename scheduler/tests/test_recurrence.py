"""scheduler.recurrence: intervals and active hours, delayed starts, the next_runs contract,
validation and the schedule in words. Pure tests (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler.recurrence import (
    Rule,
    ScheduleSpec,
    SpecError,
    describe,
    next_runs,
    to_rule,
    validate,
)
from scheduler.tests.recurrence_support import (
    BERLIN,
    TODAY,
    local_runs,
    reference_runs,
    rule_for,
    utc,
)

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
