"""Entry points: every report's charts and headline figures for one DataSet version."""

from __future__ import annotations

import datetime as dt

from . import calls, counts, messages, usage
from .charts import Chart, Headline
from .columns import TableLike, resolve_tz
from .daily import Days

HEADLINE_DAYS = 7


def columns_for(report: str) -> tuple[str, ...] | None:
    """The columns compute_metrics and headline read for a report (None: it reads none), so
    callers load only those from a million-row version instead of every column."""
    if report == "calls":
        return calls.COLUMNS
    if report == "messages":
        return messages.COLUMNS
    if report == "usage-records":
        return usage.COLUMNS
    if report in counts.SPECS:
        spec = counts.SPECS[report]
        return (spec.ts_column, spec.key_column)
    return None


def compute_metrics(report: str, table: TableLike, tz: str) -> list[Chart]:
    """The report's primary metrics (PRODUCT.md §4); [] for reports without charts."""
    zone, warning = resolve_tz(tz)
    days = Days(zone, warning)
    if report == "calls":
        return calls.charts(calls.CallData(table, days))
    if report == "messages":
        return messages.charts(messages.MessageData(table, days))
    if report == "usage-records":
        return usage.charts(usage.UsageData(table, days))
    if report in counts.SPECS:
        return counts.charts(counts.SPECS[report], table, days)
    return []


def headline(report: str, table: TableLike, tz: str, today: dt.date) -> list[Headline]:
    """Figures over the last 7 days, today included (days in the DataSet's zone)."""
    zone, warning = resolve_tz(tz)
    days = Days(zone, warning)
    first = today - dt.timedelta(days=HEADLINE_DAYS - 1)
    if report == "calls":
        return _suffix(calls.headline(calls.CallData(table, days), first, today))
    if report == "messages":
        return _suffix(messages.headline(messages.MessageData(table, days), first, today))
    if report == "usage-records":
        return _suffix(usage.headline(usage.UsageData(table, days), first, today))
    if report in counts.SPECS:
        return _suffix(counts.headline(counts.SPECS[report], table, zone, first, today))
    return []


def _suffix(items: list[Headline]) -> list[Headline]:
    return [Headline(f"{h.label} (last {HEADLINE_DAYS} days)", h.value, h.unit) for h in items]
