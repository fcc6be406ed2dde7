"""The schedule in words, as the DataSet pages and the Scheduling pane show it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler.recurrence.spec import (
    MONTH_NAMES,
    WEEKDAY_CODES,
    WEEKDAY_NAMES,
    ScheduleSpec,
    SpecError,
    _fmt,
    _interval_start,
    _parse_hhmm,
    _parse_nth,
    _parse_start,
)
from scheduler.recurrence.validation import validate

# --------------------------------------------------------------------------- describing


def describe(spec: ScheduleSpec | Mapping[str, Any]) -> str:
    """The schedule in words, as the DataSet page shows it ("Every day at 06:00 UTC")."""
    if not isinstance(spec, ScheduleSpec):
        spec = ScheduleSpec.from_dict(spec)
    errors = validate(spec)
    if errors:
        raise SpecError(errors)
    text = _describe(spec)
    if spec.kind != "manual" and spec.start_at:
        start = _parse_start(spec.start_at)
        assert start is not None  # validated
        text += f", starting {start:%Y-%m-%d %H:%M}"
    return text


def _describe(spec: ScheduleSpec) -> str:
    tz = spec.tz
    if spec.kind == "manual":
        return "Manually"
    if spec.kind in ("hourly", "minutes"):
        unit = "hours" if spec.kind == "hourly" else "minutes"
        return f"{_every(spec.every, unit)} {_interval_words(spec)} {tz}"
    at = f"at {_fmt(_parse_hhmm(spec.at or '') or 0)} {tz}"
    if spec.kind == "daily":
        return f"{_every(spec.every, 'days')} {at}"
    if spec.kind == "weekdays":
        return f"Every weekday {at}"
    if spec.kind == "weekly":
        return f"Every week on {_join(_weekday_names(spec.weekdays))} {at}"
    if spec.kind == "monthly":
        assert spec.day_of_month is not None  # validated
        return f"Every month on the {_month_days_words((spec.day_of_month,))} {at}"

    # Advanced: days, then times.
    months = _join([MONTH_NAMES[m - 1] for m in sorted(set(spec.months))])
    if spec.nth_weekdays:
        days = _nth_words(spec.nth_weekdays)
        head = f"On {days} of {months}" if months else f"Monthly on {days}"
    elif spec.month_days:
        days = f"the {_month_days_words(spec.month_days)}"
        head = f"On {days} of {months}" if months else f"Monthly on {days}"
    else:
        head = _weekday_head(spec.weekdays) + (f" in {months}" if months else "")
    if spec.repeat == "times":
        times = sorted(m for m in map(_parse_hhmm, spec.times) if m is not None)
        return f"{head} at {_join([_fmt(m) for m in times])} {tz}"
    every = _every(spec.every, spec.unit).lower()
    return f"{head}, {every} {_interval_words(spec)} {tz}"


def _every(n: int, unit: str) -> str:
    return f"Every {unit[:-1]}" if n == 1 else f"Every {n} {unit}"


def _interval_words(spec: ScheduleSpec) -> str:
    start = _fmt(_interval_start(spec))
    if spec.window_to is not None:
        return f"from {start} to {_fmt(_parse_hhmm(spec.window_to) or 0)}"
    return f"starting at {start}"


def _weekday_head(codes: tuple[str, ...]) -> str:
    chosen = {WEEKDAY_CODES.index(c) for c in codes}
    if not chosen or chosen == set(range(7)):
        return "Every day"
    if chosen == set(range(5)):
        return "Every weekday"
    return f"Every {_join(_weekday_names(codes))}"


def _weekday_names(codes: tuple[str, ...]) -> list[str]:
    return [WEEKDAY_NAMES[i] for i in sorted({WEEKDAY_CODES.index(c) for c in codes})]


def _nth_words(codes: tuple[str, ...]) -> str:
    # "the 2nd and 4th Sunday", "the 1st Monday and the last Friday"
    by_day: dict[int, list[int]] = {}
    for n, day in sorted({_parse_nth(c) for c in codes}, key=lambda p: (p[1], p[0] % 6)):
        by_day.setdefault(day, []).append(n)
    groups = [
        f"the {_join(['last' if n == -1 else _ordinal(n) for n in ns])} {WEEKDAY_NAMES[day]}"
        for day, ns in by_day.items()
    ]
    return _join(groups)


def _month_days_words(days: tuple[int, ...]) -> str:
    ordered = sorted(set(days), key=lambda d: 32 if d in (-1, 31) else d)
    words: list[str] = []
    for d in ordered:
        word = "last day" if d in (-1, 31) else _ordinal(d)
        if word not in words:
            words.append(word)
    text = _join(words)
    if any(d in (29, 30) for d in days):
        text += " (or the last day of shorter months)"
    return text


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
