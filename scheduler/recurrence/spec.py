"""What a schedule is: the Scheduling pane's choices as a `ScheduleSpec`, the shared
constants, and the small parsers of times, weekdays and zones every other module uses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from twilio_reports.dates import zone

MIN_GAP_MINUTES = 15
MINUTES_PER_DAY = 24 * 60
KINDS = ("manual", "hourly", "minutes", "daily", "weekdays", "weekly", "monthly", "advanced")
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Nth weekday choices offered by the form: every month has at least four of each weekday, so
# a rule built from these can never go years without a run (a "5th Sunday" could).
NTH_CHOICES = (1, 2, 3, 4, -1)
MAX_EVERY = {"hourly": 168, "minutes": MINUTES_PER_DAY, "daily": 366}
MAX_ADVANCED_EVERY = {"hours": 24, "minutes": MINUTES_PER_DAY}

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_NTH = re.compile(r"^([+-]?\d)(MO|TU|WE|TH|FR|SA|SU)$")
_GAP_MESSAGE = "Runs must be at least 15 minutes apart"


class SpecError(ValueError):
    """A schedule the form must not save; ``errors`` maps field names to plain words."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in self.errors.items()))


# --------------------------------------------------------------------------- the form's spec


@dataclass(frozen=True)
class ScheduleSpec:
    """The Scheduling pane's choices, as stored next to the compiled `Rule`.

    Times are "HH:MM" wall-clock in ``tz``; weekdays are RFC 5545 codes ("MO".."SU").
    Which fields matter depends on ``kind``; the others are ignored (the form may keep values
    of a tab the user left).
    """

    kind: str = "manual"
    tz: str = "UTC"
    # Run time (daily, weekdays, weekly, monthly); first run of the day for interval kinds
    # (defaults to the start of the active hours, else 00:00).
    at: str | None = None
    # N for "every N hours" (hourly), "every N minutes" (minutes), "every N days" (daily),
    # and the advanced interval in ``unit``.
    every: int = 1
    # Active hours [window_from, window_to) for interval schedules; the end is exclusive.
    window_from: str | None = None
    window_to: str | None = None
    weekdays: tuple[str, ...] = ()  # weekly; advanced "days of week"
    day_of_month: int | None = None  # monthly: 1..31, shorter months run on their last day
    # Advanced tab. Days are chosen by at most one of month_days / weekdays / nth_weekdays.
    months: tuple[int, ...] = ()  # 1..12, empty = every month
    month_days: tuple[int, ...] = ()  # 1..31, -1 = last day
    nth_weekdays: tuple[str, ...] = ()  # "2SU" = 2nd Sunday, "-1FR" = last Friday
    repeat: str = "times"  # advanced: "times" (at ``times``) or "interval" (every ``every`` unit)
    unit: str = "hours"  # advanced interval unit: "hours" or "minutes"
    times: tuple[str, ...] = ()  # advanced specific times
    # "Start schedule: Later": local "YYYY-MM-DDTHH:MM"; no run before it.
    start_at: str | None = None

    _TUPLE_FIELDS: ClassVar[dict[str, type]] = {
        "weekdays": str,
        "months": int,
        "month_days": int,
        "nth_weekdays": str,
        "times": str,
    }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleSpec:
        """Build from the form's JSON; raises `SpecError` on unknown keys or wrong types.

        Only the shape is checked here; `validate` checks the values.
        """
        spec, errors = _from_dict(data)
        if errors:
            raise SpecError(errors)
        return spec

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (tuples as lists) that `from_dict` reads back unchanged."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def _from_dict(data: Mapping[str, Any]) -> tuple[ScheduleSpec, dict[str, str]]:
    """The spec built from the well-formed keys, and a message for each malformed one."""
    known = {f.name for f in fields(ScheduleSpec)}
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in known:
            errors[key] = "Unknown setting"
            continue
        try:
            values[key] = _coerce(key, raw)
        except ValueError as exc:
            errors[key] = str(exc)
    return ScheduleSpec(**values), errors


def _coerce(key: str, raw: Any) -> Any:
    if key in ScheduleSpec._TUPLE_FIELDS:
        item_type = ScheduleSpec._TUPLE_FIELDS[key]
        if raw is None:
            return ()
        if not isinstance(raw, list | tuple):
            raise ValueError("Expected a list")
        return tuple(_coerce_item(item, item_type) for item in raw)
    if key in ("every", "day_of_month"):
        if raw is None and key == "day_of_month":
            return None
        return _coerce_item(raw, int)
    if key in ("at", "window_from", "window_to", "start_at"):
        if raw is None or raw == "":
            return None
        return _coerce_item(raw, str)
    return _coerce_item(raw, str)


def _coerce_item(raw: Any, item_type: type) -> Any:
    if item_type is int:
        # Form posts may carry numbers as strings; booleans are ints to Python but never
        # a sensible count.
        if isinstance(raw, bool):
            raise ValueError("Enter a whole number")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+\s*", raw):
            return int(raw)
        raise ValueError("Enter a whole number")
    if not isinstance(raw, str):
        raise ValueError("Expected text")
    return raw.strip()


# --------------------------------------------------------------------------- validation


def zone_or_none(name: str) -> ZoneInfo | None:
    """The ZoneInfo for an IANA name (twilio_reports.dates.zone decides), else None."""
    try:
        return zone(name) if name else None
    except ValueError:
        return None


def _parse_nth(code: str) -> tuple[int, int]:
    match = _NTH.match(code)
    assert match is not None  # validated
    return int(match.group(1)), WEEKDAY_CODES.index(match.group(2))


def _parse_hhmm(value: str) -> int | None:
    match = _HHMM.match(value)
    return int(match.group(1)) * 60 + int(match.group(2)) if match else None


def _parse_start(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is None else None


def _in_window(minute: int, start: int, end: int) -> bool:
    return (minute - start) % MINUTES_PER_DAY < (end - start) % MINUTES_PER_DAY


def _as_time(minute: int) -> time:
    return time(minute // 60, minute % 60)


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _day_slots(spec: ScheduleSpec) -> list[int] | None:
    """Minutes after midnight of the runs of one day, or None for a continuous series."""
    if spec.kind in ("daily", "weekdays", "weekly", "monthly"):
        at = _parse_hhmm(spec.at or "")
        return None if at is None else [at]
    if spec.kind == "advanced" and spec.repeat == "times":
        return sorted(m for m in map(_parse_hhmm, spec.times) if m is not None)
    if spec.kind in ("hourly", "minutes"):
        step = spec.every * 60 if spec.kind == "hourly" else spec.every
    elif spec.kind == "advanced":
        step = spec.every * 60 if spec.unit == "hours" else spec.every
    else:
        return None
    start = _interval_start(spec)
    if spec.window_from is not None and spec.window_to is not None:
        win_start, win_end = _parse_hhmm(spec.window_from), _parse_hhmm(spec.window_to)
        assert win_start is not None and win_end is not None  # validated
        length = (win_end - win_start) % MINUTES_PER_DAY
        offset = (start - win_start) % MINUTES_PER_DAY
        return sorted({(start + k) % MINUTES_PER_DAY for k in range(0, length - offset, step)})
    if spec.kind == "advanced":
        # The advanced interval is "within the day": restart at the start time each day.
        return sorted({(start + k) % MINUTES_PER_DAY for k in range(0, MINUTES_PER_DAY, step)})
    if MINUTES_PER_DAY % step == 0:
        return sorted({(start + k) % MINUTES_PER_DAY for k in range(0, MINUTES_PER_DAY, step)})
    return None


def _interval_start(spec: ScheduleSpec) -> int:
    for value in (spec.at, spec.window_from):
        if value is not None and (parsed := _parse_hhmm(value)) is not None:
            return parsed
    return 0
