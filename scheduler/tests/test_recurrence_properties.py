"""scheduler.recurrence's properties over generated schedules: increasing distinct UTC runs, and
the same runs as walking the rule from its start."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler.recurrence import (
    ScheduleSpec,
    describe,
    next_runs,
    validate,
)
from scheduler.tests.recurrence_support import (
    reference_runs,
    rule_for,
    utc,
)

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
