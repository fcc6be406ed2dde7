"""Timestamp formats of the two APIs and parsing of the date filter values.

All times are integer UTC epoch seconds inside the sandbox; formatting is hand-rolled
because strftime is a measurable share of rendering a million calls.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

DAY = 86_400
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_rfc_day_cache: dict[int, str] = {}
_iso_day_cache: dict[int, str] = {}


def day_start(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def to_date(ts: int) -> date:
    return date(1970, 1, 1) + timedelta(days=ts // DAY)


def rfc2822(ts: int | None) -> str | None:
    """`Tue, 31 Aug 2010 20:36:28 +0000`, as the 2010 API sends every timestamp."""
    if ts is None:
        return None
    day, sec = divmod(ts, DAY)
    prefix = _rfc_day_cache.get(day)
    if prefix is None:
        d = to_date(ts)
        prefix = f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year} "
        _rfc_day_cache[day] = prefix
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"{prefix}{h:02d}:{m:02d}:{s:02d} +0000"


def iso8601(ts: int | None) -> str | None:
    """`2026-11-20T10:00:00Z`, as the monitor API sends timestamps."""
    if ts is None:
        return None
    day, sec = divmod(ts, DAY)
    prefix = _iso_day_cache.get(day)
    if prefix is None:
        prefix = to_date(ts).isoformat() + "T"
        _iso_day_cache[day] = prefix
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"{prefix}{h:02d}:{m:02d}:{s:02d}Z"


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_bound(value: str, *, upper: bool, date_upper: str = "before") -> int:
    """A filter value -> inclusive epoch-second bound.

    A bare `YYYY-MM-DD` lower bound means the day's first second. A bare upper bound is
    read as `date_upper` says (see config.DATE_UPPER_READINGS): "before" the day (Twilio's
    documented reading: the last second of the previous day), "midnight" (the day's first
    second included) or "whole-day" (its last second). A full ISO datetime is exact (naive
    values are UTC). Raises ValueError on anything else.
    """
    value = value.strip()
    if _DATE_ONLY.match(value):
        start = day_start(date.fromisoformat(value))
        if not upper:
            return start
        return {"before": start - 1, "midnight": start}.get(date_upper, start + DAY - 1)
    # An unencoded "+00:00" offset arrives as " 00:00" after query-string decoding.
    parsed = datetime.fromisoformat(value.replace(" ", "+").replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def parse_day(value: str, today: date) -> date:
    """A usage StartDate/EndDate: `YYYY-MM-DD` or Twilio's offset form `-30days`."""
    value = value.strip()
    offset = re.fullmatch(r"([+-]?)(\d+)days", value)
    if offset:
        n = int(offset.group(2))
        return today - timedelta(days=n) if offset.group(1) == "-" else today + timedelta(days=n)
    return date.fromisoformat(value)
