"""The seed's date block as pure functions: which local days a run covers, and their UTC bounds.

A window is a closed range of calendar days in the DataSet's time zone. Twilio's 2010 API
filters by UTC day, so the pull asks for the UTC days covering the window and drops rows
whose timestamp falls outside [start_utc, end_utc).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

Mode = Literal["specific", "relative"]


@dataclass(frozen=True)
class DateBlock:
    duration: Literal["specific", "range"] = "specific"
    # Duration "specific": one day, given as a date or as days back from today.
    report_date_mode: Mode = "relative"
    report_date: date | None = None
    days_back: int | None = None
    # Duration "range": both ends, each a date or days back.
    start_mode: Mode = "relative"
    start_date: date | None = None
    start_days_back: int | None = None
    end_mode: Mode = "relative"
    end_date: date | None = None
    end_days_back: int | None = None


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(tz: str) -> ZoneInfo:
    """The one parser of time zone names (forms, cookies, schedules, pulls, metrics).

    Only a known IANA name reaches zoneinfo: names like "America" (a directory) or 300
    characters (too long for a file name) raise OSError from its file lookup.
    """
    name = tz or "UTC"
    if name not in _zone_names():
        raise ValueError(f"Unknown time zone {str(tz)[:64]!r}.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"Unknown time zone {str(tz)[:64]!r}.") from exc


def _one_end(mode: str, day: date | None, back: int | None, today: date, what: str) -> date:
    if mode == "specific":
        if day is None:
            raise ValueError(f"Choose the {what}.")
        return day
    if mode == "relative":
        if back is None:
            raise ValueError(f"Enter how many days back the {what} is.")
        if back < 0:
            raise ValueError(f"Days back for the {what} cannot be negative.")
        return today - timedelta(days=back)
    raise ValueError(f"Unknown mode {mode!r} for the {what}.")


def resolve_window(block: DateBlock, tz: str, today: date) -> tuple[date, date]:
    """(first_day, last_day), both included, as calendar days in `tz`.

    `today` is the time zone's today when the run starts (the caller computes it, so a
    scheduled relative window rolls). `tz` is validated here so a bad zone fails early.
    """
    zone(tz)
    if block.duration == "specific":
        day = _one_end(block.report_date_mode, block.report_date, block.days_back, today,
                       "report date")
        return day, day
    if block.duration != "range":
        raise ValueError(f"Unknown duration {block.duration!r}.")
    first = _one_end(block.start_mode, block.start_date, block.start_days_back, today,
                     "start date")
    last = _one_end(block.end_mode, block.end_date, block.end_days_back, today, "end date")
    if first > last:
        raise ValueError(
            f"The start date ({first.isoformat()}) is after the end date ({last.isoformat()})."
        )
    return first, last


def today_in(tz: str, now: datetime | None = None) -> date:
    """The calendar day it is in `tz` at `now` (default: the current instant)."""
    now = now or datetime.now(UTC)
    return now.astimezone(zone(tz)).date()


def day_bounds_utc(first_day: date, last_day: date, tz: str) -> tuple[datetime, datetime]:
    """UTC instants [start, end) covering local days first_day..last_day inclusive.

    Local midnights are converted through the zone, so a DST day is 23 or 25 hours long.
    """
    z = zone(tz)
    start = datetime.combine(first_day, time(0), tzinfo=z).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=z).astimezone(UTC)
    return start, end


def utc_days(start_utc: datetime, end_utc: datetime) -> tuple[date, date]:
    """The UTC calendar days (both included) that cover the instants [start_utc, end_utc)."""
    last_instant = end_utc - timedelta(microseconds=1)
    return start_utc.astimezone(UTC).date(), last_instant.astimezone(UTC).date()


def split_days(first: date, last: date, days_per_slice: int) -> list[tuple[date, date]]:
    """Cut first..last (inclusive) into consecutive, disjoint inclusive day ranges."""
    out = []
    cur = first
    while cur <= last:
        end = min(last, cur + timedelta(days=days_per_slice - 1))
        out.append((cur, end))
        cur = end + timedelta(days=1)
    return out


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
