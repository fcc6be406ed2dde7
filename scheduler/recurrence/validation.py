"""Validation of a ScheduleSpec: every error keyed by the field it belongs to, in plain
words, including the 15-minute minimum gap between runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler.recurrence.spec import (
    _GAP_MESSAGE,
    _NTH,
    KINDS,
    MAX_ADVANCED_EVERY,
    MAX_EVERY,
    MIN_GAP_MINUTES,
    MINUTES_PER_DAY,
    NTH_CHOICES,
    WEEKDAY_CODES,
    ScheduleSpec,
    _day_slots,
    _fmt,
    _from_dict,
    _in_window,
    _parse_hhmm,
    _parse_start,
    zone_or_none,
)


def validate(spec: ScheduleSpec | Mapping[str, Any]) -> dict[str, str]:
    """Field name -> plain-words message for everything wrong with ``spec``; empty = valid."""
    shape_errors: dict[str, str] = {}
    if not isinstance(spec, ScheduleSpec):
        spec, shape_errors = _from_dict(spec)
    # A malformed field falls back to its default above; report the shape problem for it.
    return {**_check(spec), **shape_errors}


def _check(spec: ScheduleSpec) -> dict[str, str]:
    errors: dict[str, str] = {}
    if spec.kind not in KINDS:
        errors["kind"] = "Choose how often the DataSet updates"
        return errors
    if zone_or_none(spec.tz) is None:
        errors["tz"] = "Choose a time zone from the list, e.g. Europe/Berlin"
    if spec.start_at is not None and _parse_start(spec.start_at) is None:
        errors["start_at"] = "Enter the start as a date and time, e.g. 2026-05-01 09:00"
    if spec.kind == "manual":
        return errors

    if spec.kind in ("daily", "weekdays", "weekly", "monthly"):
        _check_time(spec.at, "at", errors, required=True)
    if spec.kind == "daily":
        _check_every(spec.every, 1, MAX_EVERY["daily"], "days", errors)
    elif spec.kind == "weekly":
        _check_weekdays(spec.weekdays, errors, required=True)
    elif spec.kind == "monthly":
        day = spec.day_of_month
        if day is None or not (day == -1 or 1 <= day <= 31):
            errors["day_of_month"] = "Choose a day of the month from 1 to 31, or the last day"
    elif spec.kind in ("hourly", "minutes"):
        if spec.kind == "hourly":
            _check_every(spec.every, 1, MAX_EVERY["hourly"], "hours", errors)
        else:
            _check_every(spec.every, MIN_GAP_MINUTES, MAX_EVERY["minutes"], "minutes", errors)
        _check_time(spec.at, "at", errors, required=False)
        _check_window(spec, errors)
    elif spec.kind == "advanced":
        _check_advanced(spec, errors)

    if not errors:
        slots = _day_slots(spec)
        field = "times" if spec.kind == "advanced" and spec.repeat == "times" else "every"
        if slots is not None and not _adjacent_gap_ok(slots):
            errors[field] = _GAP_MESSAGE
        elif slots is not None and _min_circular_gap(slots) < MIN_GAP_MINUTES:
            errors[field] = (
                f"{_GAP_MESSAGE}: the last run of the day ({_fmt(slots[-1])}) is too close "
                f"to the first run of the next day ({_fmt(slots[0])})"
            )
    return errors


def _check_time(value: str | None, field: str, errors: dict[str, str], *, required: bool) -> None:
    if value is None:
        if required:
            errors[field] = "Choose a time"
    elif _parse_hhmm(value) is None:
        errors[field] = "Enter a time as HH:MM (24-hour clock)"


def _check_every(every: int, low: int, high: int, unit: str, errors: dict[str, str]) -> None:
    if every < low:
        errors["every"] = _GAP_MESSAGE if unit == "minutes" else f"Enter at least 1 {unit[:-1]}"
    elif every > high:
        errors["every"] = f"Enter at most {high} {unit}"


def _check_weekdays(codes: tuple[str, ...], errors: dict[str, str], *, required: bool) -> None:
    if not codes:
        if required:
            errors["weekdays"] = "Choose at least one day of the week"
    elif any(code not in WEEKDAY_CODES for code in codes):
        errors["weekdays"] = "Days of the week must be MO, TU, WE, TH, FR, SA or SU"


def _check_window(spec: ScheduleSpec, errors: dict[str, str]) -> None:
    if spec.window_from is None and spec.window_to is None:
        return
    if spec.window_from is None or spec.window_to is None:
        errors["window_to" if spec.window_to is None else "window_from"] = (
            "Set both the start and the end of the active hours"
        )
        return
    _check_time(spec.window_from, "window_from", errors, required=True)
    _check_time(spec.window_to, "window_to", errors, required=True)
    if "window_from" in errors or "window_to" in errors:
        return
    start, end = _parse_hhmm(spec.window_from), _parse_hhmm(spec.window_to)
    if start == end:
        errors["window_to"] = "The active hours must end at a different time than they start"
        return
    at = _parse_hhmm(spec.at) if spec.at is not None else None
    if at is not None and start is not None and end is not None and not _in_window(at, start, end):
        errors["at"] = "The start time must be inside the active hours"


def _check_advanced(spec: ScheduleSpec, errors: dict[str, str]) -> None:
    if any(not 1 <= m <= 12 for m in spec.months):
        errors["months"] = "Months must be numbers from 1 (January) to 12 (December)"
    chosen = [name for name in ("month_days", "weekdays", "nth_weekdays") if getattr(spec, name)]
    if len(chosen) > 1:
        errors[chosen[1]] = (
            "Choose days of the month, days of the week or weekdays of the month, not several"
        )
    if any(not (1 <= d <= 31 or d == -1) for d in spec.month_days):
        errors["month_days"] = "Days of the month must be from 1 to 31, or the last day"
    _check_weekdays(spec.weekdays, errors, required=False)
    for code in spec.nth_weekdays:
        match = _NTH.match(code)
        if match is None or int(match.group(1)) not in NTH_CHOICES:
            errors["nth_weekdays"] = "Choose the 1st, 2nd, 3rd, 4th or last weekday of the month"
            break
    if spec.repeat == "times":
        if not spec.times:
            errors["times"] = "Choose at least one time"
        elif any(_parse_hhmm(t) is None for t in spec.times):
            errors["times"] = "Enter times as HH:MM (24-hour clock)"
        elif len(set(map(_parse_hhmm, spec.times))) != len(spec.times):
            errors["times"] = "Each time may appear only once"
    elif spec.repeat == "interval":
        if spec.unit not in MAX_ADVANCED_EVERY:
            errors["unit"] = "Choose hours or minutes"
            return
        low = MIN_GAP_MINUTES if spec.unit == "minutes" else 1
        _check_every(spec.every, low, MAX_ADVANCED_EVERY[spec.unit], spec.unit, errors)
        _check_time(spec.at, "at", errors, required=False)
        _check_window(spec, errors)
    else:
        errors["repeat"] = "Choose specific times or an interval"


def _adjacent_gap_ok(slots: list[int]) -> bool:
    return all(b - a >= MIN_GAP_MINUTES for a, b in zip(slots, slots[1:], strict=False))


def _min_circular_gap(slots: list[int]) -> int:
    if len(slots) < 2:
        return MINUTES_PER_DAY
    ordered = sorted(slots)
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False)]
    gaps.append(ordered[0] + MINUTES_PER_DAY - ordered[-1])
    return min(gaps)
