"""Shared by the recurrence tests: the zones and days they use, and small helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from scheduler.recurrence import (
    Rule,
    next_runs,
    to_rule,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 1, 1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rule_for(today: date = TODAY, **spec: object) -> Rule:
    rule = to_rule(spec, today=today)
    assert rule is not None
    return rule


def local_runs(rule: Rule, after: datetime, count: int) -> list[datetime]:
    zone = ZoneInfo(rule.tz)
    return [run.astimezone(zone) for run in next_runs(rule, after, count)]


def runs_between(rule: Rule, start: datetime, end: datetime) -> list[datetime]:
    runs: list[datetime] = []
    after = start
    while True:
        (run,) = next_runs(rule, after, 1)
        if run >= end:
            return runs
        runs.append(run)
        after = run


def reference_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """First instant whose wall clock reads `local` or later, found the slow obvious way."""
    readings = [local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    exact = [u for u in readings if u.astimezone(zone).replace(tzinfo=None) == local]
    if exact:
        return min(exact)
    instant = min(readings)
    while instant.astimezone(zone).replace(tzinfo=None) < local:
        instant += timedelta(minutes=1)
    return instant


def reference_runs(rule: Rule, after: datetime, count: int) -> list[datetime]:
    """Walk every occurrence from dtstart (no re-anchoring); keep the first per instant."""
    zone = ZoneInfo(rule.tz)
    occurrences = rrulestr(rule.rrule, dtstart=rule.dtstart, forceset=True)
    runs: list[datetime] = []
    last = after
    for local in occurrences:
        instant = reference_instant(local, zone)
        if instant > last:
            runs.append(instant)
            last = instant
            if len(runs) == count:
                break
    return runs
