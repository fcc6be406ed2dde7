"""DataSet schedules as one stored form: an RFC 5545 recurrence rule in a time zone.

The Scheduling pane (Basic and Advanced tabs) produces a JSON-able `ScheduleSpec`. `to_rule`
compiles it to a `Rule`: the RRULE text as dateutil's ``str()`` writes it, without its DTSTART
line (usually one ``RRULE:`` line; several when the times of day are not one BYHOUR x BYMINUTE
product, see `_time_groups`, or for the February line of `_month_day_parts`), an IANA zone,
and a naive wall-clock ``dtstart`` in that zone. The database keeps the `Rule` (and the spec,
so the form can be shown again); the dispatcher only ever calls `next_runs`, the DataSet pages
call `describe`.

Time semantics (PRODUCT.md §1.1: "daylight-saving changes must not skip or double a run"):

* Rules are evaluated in local wall-clock time; each wall time is then mapped to the first
  instant at which the zone's clock reads that time or later:
  - a normal wall time -> its one instant;
  - a repeated wall time (fall back: 01:30 twice in America/New_York) -> the first pass
    (fold=0), so the run happens once;
  - a wall time that never exists (spring forward: 02:30 in Europe/Berlin) -> the end of the
    gap (03:00 local), so the run happens once instead of being skipped.
  Several wall times in one gap land on the same instant; they are merged into a single run.
* Sub-daily intervals ("every 2 hours", "every 15 minutes") are wall-clock intervals aligned
  to the start time: "every 2 hours from 09:00" runs at 09:00, 11:00, ... local time every
  day, whatever the offset. Across spring forward the runs inside the gap collapse into one
  run at the end of the gap; across fall back the repeated hour runs once (its first pass),
  so elapsed time between two runs can differ from the interval by the size of the clock
  change, but no local day is skipped and no two runs share an instant.
* Intervals that divide the day (every 15/20/30 minutes, every 1/2/3/4/6/8/12 hours) and any
  interval with active hours repeat the same times each day (``FREQ=DAILY`` with BYHOUR and
  BYMINUTE). Other intervals without active hours (every 5 hours, every 50 minutes) run as a
  continuous wall-clock series from the start (``FREQ=HOURLY``/``MINUTELY;INTERVAL=N``).
  The Advanced tab's interval is "within the day": it always restarts each day.
* Active hours [from, to) exclude their end; a window whose end is earlier than its start
  wraps past midnight (22:00 to 06:00). Runs restart at the start time each day.
* A day of month that a month lacks (31 in April, 30 in February) runs on that month's last
  day; 31 is stored as ``BYMONTHDAY=-1``.
* Runs must be at least 15 minutes apart, including from the last run of one day to the first
  run of the next (PRODUCT.md §1.1 "Minimum interval 15 minutes").
* The delayed start ("Start schedule: Later") is stored as ``dtstart``: dateutil never yields
  an occurrence before ``dtstart``. For interval schedules the first run is the first point of
  the start time's grid at or after it, so the phase the user chose is kept.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import (
    DAILY,
    HOURLY,
    MINUTELY,
    MONTHLY,
    SECONDLY,
    WEEKLY,
    YEARLY,
    rrule,
    rrulestr,
)
from dateutil.rrule import weekdays as rrule_weekdays

__all__ = [
    "KINDS",
    "MIN_GAP_MINUTES",
    "Rule",
    "ScheduleSpec",
    "SpecError",
    "describe",
    "next_runs",
    "to_rule",
    "validate",
]

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
        if day is None or not 1 <= day <= 31:
            errors["day_of_month"] = "Choose a day of the month from 1 to 31"
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


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_or_none(name: str) -> ZoneInfo | None:
    """The ZoneInfo for an IANA name the form may offer, else None (no file-path tricks)."""
    if name not in _known_zones():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --------------------------------------------------------------------------- compiling


@dataclass(frozen=True)
class Rule:
    """The stored schedule: RRULE line(s), IANA zone, naive local start (see module doc)."""

    rrule: str
    tz: str
    dtstart: datetime

    def __post_init__(self) -> None:
        if self.dtstart.tzinfo is not None:
            raise ValueError("Rule.dtstart is naive wall-clock time in Rule.tz")

    def to_dict(self) -> dict[str, str]:
        return {"rrule": self.rrule, "tz": self.tz, "dtstart": self.dtstart.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        return cls(
            rrule=str(data["rrule"]),
            tz=str(data["tz"]),
            dtstart=datetime.fromisoformat(str(data["dtstart"])),
        )


def to_rule(spec: ScheduleSpec | Mapping[str, Any], *, today: date | None = None) -> Rule | None:
    """Compile a valid spec; None for "Manually". Raises `SpecError` when invalid.

    ``today`` (default: today in the spec's zone) is the day cycles count from when there is
    no delayed start: "every 3 days" saved on a Monday runs Monday, Thursday, ...
    """
    if not isinstance(spec, ScheduleSpec):
        spec = ScheduleSpec.from_dict(spec)
    errors = validate(spec)
    if errors:
        raise SpecError(errors)
    if spec.kind == "manual":
        return None
    zone = ZoneInfo(spec.tz)
    start_at = _parse_start(spec.start_at) if spec.start_at else None
    anchor_day = start_at.date() if start_at else (today or datetime.now(zone).date())

    slots = _day_slots(spec)
    if slots is None:
        return _continuous_rule(spec, anchor_day, start_at)

    day_parts = _date_parts(spec)
    if start_at is None:
        interval = spec.kind in ("hourly", "minutes") or (
            spec.kind == "advanced" and spec.repeat == "interval"
        )
        first = _interval_start(spec) if interval else slots[0]
        dtstart = datetime.combine(anchor_day, _as_time(first))
    elif spec.kind == "daily" and spec.every > 1:
        # "Every 3 days" counts from the first run on or after the delayed start.
        dtstart = datetime.combine(anchor_day, _as_time(slots[0]))
        if dtstart < start_at:
            dtstart += timedelta(days=1)
    else:
        # Every BY* part is explicit, so the start only bounds the runs from below.
        dtstart = start_at
    lines: list[str] = []
    for day_kwargs in day_parts:
        for hours, minutes in _time_groups(slots):
            rule = rrule(
                dtstart=dtstart, byhour=hours, byminute=minutes, bysecond=(0,), **day_kwargs
            )
            lines.append(_rrule_line(rule))
    return Rule(rrule="\n".join(lines), tz=spec.tz, dtstart=dtstart)


def _continuous_rule(spec: ScheduleSpec, anchor_day: date, start_at: datetime | None) -> Rule:
    # Intervals that do not divide the day, without active hours: one wall-clock series
    # whose phase is the start time on the anchor day (see module doc).
    start = _parse_hhmm(spec.at) if spec.at else 0
    assert start is not None  # validated
    if spec.kind == "hourly":
        freq, step, kwargs = HOURLY, timedelta(hours=spec.every), {"byminute": (start % 60,)}
    else:
        freq, step, kwargs = MINUTELY, timedelta(minutes=spec.every), {}
    dtstart = datetime.combine(anchor_day, _as_time(start))
    if start_at is not None and dtstart < start_at:
        dtstart += step * -((dtstart - start_at) // step)
    rule = rrule(freq, dtstart=dtstart, interval=spec.every, bysecond=(0,), **kwargs)
    return Rule(rrule=_rrule_line(rule), tz=spec.tz, dtstart=dtstart)


def _rrule_line(rule: rrule) -> str:
    # dateutil writes "DTSTART:...\nRRULE:..."; the start lives in Rule.dtstart.
    return next(line for line in str(rule).splitlines() if line.startswith("RRULE:"))


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


def _time_groups(slots: list[int]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(hours, minutes) pairs whose products are exactly ``slots``.

    One RRULE's BYHOUR x BYMINUTE is a product; 06:00 and 18:30 are not one, so hours are
    grouped by their set of minutes and each group becomes its own RRULE line.
    """
    by_hour: dict[int, list[int]] = {}
    for slot in sorted(set(slots)):
        by_hour.setdefault(slot // 60, []).append(slot % 60)
    by_minutes: dict[tuple[int, ...], list[int]] = {}
    for hour, minutes in by_hour.items():
        by_minutes.setdefault(tuple(minutes), []).append(hour)
    return [(tuple(hours), minutes) for minutes, hours in by_minutes.items()]


def _date_parts(spec: ScheduleSpec) -> list[dict[str, Any]]:
    """rrule keyword sets (one per RRULE line) choosing the days the runs happen on."""
    if spec.kind in ("hourly", "minutes"):
        return [{"freq": DAILY}]
    if spec.kind == "daily":
        return [{"freq": DAILY, "interval": spec.every}]
    if spec.kind == "weekdays":
        return [{"freq": WEEKLY, "byweekday": rrule_weekdays[:5]}]
    if spec.kind == "weekly":
        return [{"freq": WEEKLY, "byweekday": _weekday_objs(spec.weekdays)}]
    if spec.kind == "monthly":
        assert spec.day_of_month is not None  # validated
        return _month_day_parts((spec.day_of_month,), ())
    months = tuple(sorted(set(spec.months)))
    by_month = {"bymonth": months} if months else {}
    if spec.month_days:
        return _month_day_parts(spec.month_days, months)
    if spec.weekdays:
        return [{"freq": WEEKLY, "byweekday": _weekday_objs(spec.weekdays), **by_month}]
    if spec.nth_weekdays:
        return [{"freq": MONTHLY, "byweekday": _nth_objs(spec.nth_weekdays), **by_month}]
    return [{"freq": DAILY, **by_month}]


def _month_day_parts(days: tuple[int, ...], months: tuple[int, ...]) -> list[dict[str, Any]]:
    # A day a month lacks runs on that month's last day. 31 (and "last") is BYMONTHDAY=-1
    # in every month; 29 and 30 only miss in February, which gets its own "last day" line.
    # Days no chosen month can have are dropped, or dateutil would search to year 9999.
    chosen = months or tuple(range(1, 13))
    longest = max(_days_in_month(m) for m in chosen)
    main = sorted({-1 if d in (-1, 31) else d for d in days if d == -1 or d <= longest})
    by_month = {"bymonth": months} if months else {}
    parts: list[dict[str, Any]] = []
    if main:
        parts.append({"freq": MONTHLY, "bymonthday": tuple(main), **by_month})
    if 2 in chosen and -1 not in main and any(d in (29, 30) for d in days):
        parts.append({"freq": MONTHLY, "bymonth": (2,), "bymonthday": (-1,)})
    return parts


def _days_in_month(month: int) -> int:
    return 29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31


def _weekday_objs(codes: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(rrule_weekdays[i] for i in sorted({WEEKDAY_CODES.index(c) for c in codes}))


def _nth_objs(codes: tuple[str, ...]) -> tuple[Any, ...]:
    pairs = sorted({_parse_nth(code) for code in codes}, key=lambda p: (p[1], p[0] % 6))
    return tuple(rrule_weekdays[day](n) for n, day in pairs)


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


# --------------------------------------------------------------------------- evaluating


@dataclass(frozen=True)
class _Part:
    """One RRULE line, parsed once, with what re-anchoring it needs."""

    base: rrule
    dtstart: datetime
    anywhere: bool  # INTERVAL=1 and every BY* explicit: any later dtstart gives the same runs
    step: timedelta | None  # else: dtstart may move by whole multiples of this


@dataclass(frozen=True)
class _Compiled:
    zone: ZoneInfo
    parts: tuple[_Part, ...]


_FREQS = {
    "YEARLY": YEARLY,
    "MONTHLY": MONTHLY,
    "WEEKLY": WEEKLY,
    "DAILY": DAILY,
    "HOURLY": HOURLY,
    "MINUTELY": MINUTELY,
    "SECONDLY": SECONDLY,
}
_FREQ_STEP = {
    WEEKLY: timedelta(weeks=1),
    DAILY: timedelta(days=1),
    HOURLY: timedelta(hours=1),
    MINUTELY: timedelta(minutes=1),
    SECONDLY: timedelta(seconds=1),
}


@lru_cache(maxsize=16384)
def _compile(text: str, tz: str, dtstart: datetime) -> _Compiled:
    # The dispatcher asks about the same few thousand rules every minute: parse each once.
    zone = zone_or_none(tz)
    if zone is None:
        raise ValueError(f"Unknown time zone {tz!r}")
    parts: list[_Part] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.upper().startswith("DTSTART"):
            continue  # Rule.dtstart is authoritative
        if not line.upper().startswith(("RRULE:", "FREQ=")):
            raise ValueError(f"Only RRULE lines are supported, got {line!r}")
        base = rrulestr(line, dtstart=dtstart)
        assert isinstance(base, rrule)
        params = {
            key.upper(): value
            for key, _, value in (p.partition("=") for p in line.split(":", 1)[-1].split(";"))
        }
        parts.append(_anchoring(base, dtstart, params))
    if not parts:
        raise ValueError("The rule has no RRULE line")
    return _Compiled(zone=zone, parts=tuple(parts))


def _anchoring(base: rrule, dtstart: datetime, params: dict[str, str]) -> _Part:
    # dateutil's after()/xafter() walk every occurrence from dtstart: for an old 15-minute
    # schedule that is tens of thousands of steps per call. Moving dtstart forward is exact
    # when nothing the rule derives from dtstart changes: with every BY* part given (the
    # rules to_rule writes) any later start works; otherwise only whole periods keep the
    # phase, the time of day and the weekday. COUNT counts from dtstart, so it never moves.
    freq = _FREQS[params["FREQ"].upper()]
    interval = int(params.get("INTERVAL", "1"))
    if "COUNT" in params or "BYEASTER" in params:
        return _Part(base, dtstart, anywhere=False, step=None)
    time_parts = {
        SECONDLY: (),
        MINUTELY: ("BYSECOND",),
        HOURLY: ("BYMINUTE", "BYSECOND"),
    }.get(freq, ("BYHOUR", "BYMINUTE", "BYSECOND"))
    date_explicit = freq not in (WEEKLY, MONTHLY, YEARLY) or any(
        key in params for key in ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")
    )
    anywhere = interval == 1 and date_explicit and all(key in params for key in time_parts)
    step = _FREQ_STEP[freq] * interval if freq in _FREQ_STEP else None
    return _Part(base, dtstart, anywhere=anywhere, step=step)


def _occurrences(part: _Part, start: datetime) -> Iterator[datetime]:
    """Naive local occurrences of one RRULE line at or after ``start``, in order."""
    if start <= part.dtstart:
        yield from part.base
        return
    if part.anywhere:
        yield from part.base.replace(dtstart=start)
        return
    if part.step is None:
        yield from part.base.xafter(start, inc=True)
        return
    anchor = part.dtstart + part.step * ((start - part.dtstart) // part.step)
    for occurrence in part.base.replace(dtstart=anchor):
        if occurrence >= start:
            yield occurrence


def next_runs(rule: Rule, after: datetime, count: int = 1) -> list[datetime]:
    """The next ``count`` run instants strictly after ``after``, aware UTC, increasing.

    Fewer are returned only if the rule ends (an UNTIL in a hand-written rule).
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if count < 1:
        return []
    compiled = _compile(rule.rrule, rule.tz, rule.dtstart)
    zone = compiled.zone
    after_utc = after.astimezone(UTC)
    # Mapping wall times to instants never goes backwards (module doc), and the wall time
    # of `after` maps to `after` or earlier, so nothing before it can be due.
    start = after_utc.astimezone(zone).replace(tzinfo=None)
    streams = [_occurrences(part, start) for part in compiled.parts]
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams)
    runs: list[datetime] = []
    last = after_utc
    for local in merged:
        instant = _to_utc(local, zone)
        # Skips wall times before `after` (its repeated hour) and merges the wall times
        # that one DST gap maps to a single instant.
        if instant <= last:
            continue
        runs.append(instant)
        last = instant
        if len(runs) == count:
            break
    return runs


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """First instant at which ``zone``'s clock reads ``local`` or later (module doc)."""
    instant = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    return _gap_end(local, zone)


@lru_cache(maxsize=4096)
def _gap_end(local: datetime, zone: ZoneInfo) -> datetime:
    # ``local`` is inside a gap: fold=1 reads it with the offset after the change (an
    # instant before the change), fold=0 with the offset before it (an instant after).
    # Binary-search the change itself, in whole seconds (tzdata changes on whole seconds).
    readings = [local.replace(tzinfo=zone, fold=fold).timestamp() for fold in (0, 1)]
    low, high = math.floor(min(readings)), math.ceil(max(readings))
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > local:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


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
