"""Row counts per day: Conferences, Alerts and Notifications charts, and the DataSets sparkline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from . import daily
from .charts import Chart, Headline
from .columns import (
    EPOCH,
    NO_DAY,
    TableLike,
    Unavailable,
    day_number,
    labels,
    local_days,
    matches,
    resolve_tz,
    select,
)

# A sparkline with more days than this is drawn from the days that have rows only.
_MAX_FILLED_DAYS = 3660


@dataclass(frozen=True)
class CountSpec:
    report: str
    title: str
    noun: str
    ts_column: str
    key_column: str
    known: tuple[str, ...]
    # Raw value -> label (Notifications send `log` as 0/1).
    rename: dict[str, str] = field(default_factory=dict)
    note: str = ""


SPECS: dict[str, CountSpec] = {
    s.report: s
    for s in (
        CountSpec("conferences", "Conferences per day", "conferences", "date_created", "status",
                  ("init", "in-progress", "completed")),
        CountSpec("alerts", "Alerts per day by level", "alerts", "date_created", "log_level",
                  ("error", "warning", "notice", "debug")),
        CountSpec("notifications", "Notifications per day by level", "notifications",
                  "message_date", "log", ("error", "warning"),
                  rename={"0": "error", "1": "warning"},
                  note=" `log` 0 is shown as error and 1 as warning, as Twilio documents."),
    )
}


def charts(spec: CountSpec, table: TableLike, days_ctx: daily.Days) -> list[Chart]:
    data = select(table, (spec.ts_column, spec.key_column))
    chart_id = f"{spec.report}-per-day"
    definition = (
        f"{spec.noun.capitalize()} per day by `{spec.key_column}`; day of `{spec.ts_column}`, "
        f"{days_ctx.phrase()}.{spec.note}"
    )

    def build() -> Chart:
        if data.num_rows == 0:
            raise Unavailable("This version has no rows.")
        days = local_days(data, spec.ts_column, days_ctx.tz)
        codes, names = _relabel(*labels(data, spec.key_column), spec.rename)
        return daily.stacked_counts(
            chart_id=chart_id, title=spec.title,
            definition=definition + daily.undated_note(days, spec.noun, spec.ts_column),
            days=days, codes=codes, names=names, known=spec.known, y_label=spec.noun,
            noun=spec.noun,
        )

    return [daily.guard(chart_id, spec.title, definition, "stacked-bar", "Day", spec.noun, build)]


def _relabel(codes: np.ndarray, names: list[str], rename: dict[str, str]
             ) -> tuple[np.ndarray, list[str]]:
    """Apply `rename` to the labels, merging codes that end up with the same label."""
    if not rename:
        return codes, names
    merged: list[str] = []
    target = np.empty(len(names), dtype=np.int64)
    for i, name in enumerate(names):
        label = rename.get(name, name)
        if label not in merged:
            merged.append(label)
        target[i] = merged.index(label)
    return (target[codes] if len(names) else codes), merged


def headline(spec: CountSpec, table: TableLike, tz: str, first: dt.date, last: dt.date
             ) -> list[Headline]:
    data = select(table, (spec.ts_column, spec.key_column))
    label = spec.noun.capitalize()
    try:
        days = local_days(data, spec.ts_column, tz)
    except Unavailable:
        return [Headline(label, None, spec.noun)]
    window = (days >= day_number(first)) & (days <= day_number(last))
    out = [Headline(label, int(window.sum()), spec.noun)]
    if "error" in spec.known:
        try:
            codes, names = _relabel(*labels(data, spec.key_column), spec.rename)
            errors = window & matches(codes, names, ("error",))
            out.append(Headline("Errors", int(errors.sum()), spec.noun))
        except Unavailable:
            out.append(Headline("Errors", None, spec.noun))
    return out


def daily_counts(table: TableLike, ts_column: str, tz: str) -> list[tuple[dt.date, int]]:
    """Rows per day of `ts_column` in `tz`, gaps filled with 0, for a sparkline; [] if unusable."""
    zone, _ = resolve_tz(tz)
    data = select(table, (ts_column,))
    try:
        days = local_days(data, ts_column, zone)
    except Unavailable:
        return []
    days = days[days != NO_DAY]
    if not len(days):
        return []
    lo, hi = int(days.min()), int(days.max())
    if hi - lo < _MAX_FILLED_DAYS:
        counts = np.bincount(days - lo, minlength=hi - lo + 1)
        return [(EPOCH + dt.timedelta(days=lo + i), int(n)) for i, n in enumerate(counts)]
    distinct, n = np.unique(days, return_counts=True)
    return [(EPOCH + dt.timedelta(days=int(d)), int(c)) for d, c in zip(distinct, n, strict=True)]
