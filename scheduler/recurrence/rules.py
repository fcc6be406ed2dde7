"""Compiling a ScheduleSpec into a `Rule`: RFC 5545 RRULE lines, a zone and a wall-clock
dtstart (see the package docstring for the time semantics)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.rrule import (
    DAILY,
    HOURLY,
    MINUTELY,
    MONTHLY,
    WEEKLY,
    rrule,
)
from dateutil.rrule import weekdays as rrule_weekdays

from scheduler.recurrence.spec import (
    WEEKDAY_CODES,
    ScheduleSpec,
    SpecError,
    _as_time,
    _day_slots,
    _interval_start,
    _parse_hhmm,
    _parse_nth,
    _parse_start,
)
from scheduler.recurrence.validation import validate
from twilio_reports.dates import zone as tz_zone

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
    zone = tz_zone(spec.tz)
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
