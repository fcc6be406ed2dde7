"""Evaluating a Rule: the next runs as UTC instants, with daylight-saving gaps and overlaps
handled (a skipped wall time runs at the end of the gap, a repeated one once)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

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

from scheduler.recurrence.rules import Rule
from scheduler.recurrence.spec import zone_or_none

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
