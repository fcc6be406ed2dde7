"""Calls report: volume, completion rate, durations, cost and abandon rate (PRODUCT.md §4)."""

from __future__ import annotations

import contextlib
import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import daily
from .charts import Chart, ChartTable, Headline, Series
from .columns import (
    NO_DAY,
    TableLike,
    Unavailable,
    column,
    day_number,
    integers,
    iso_day,
    labels,
    local_days,
    matches,
    select,
)

COLUMNS = (
    "start_time", "parent_call_sid", "direction", "status", "duration", "price", "price_unit",
)
DIRECTIONS = ("inbound", "outbound-api", "outbound-dial")
STATUSES = ("completed", "busy", "failed", "no-answer", "canceled", "in-progress", "ringing",
            "queued")
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
ABANDONED_STATUSES = ("no-answer", "canceled")

PARENT_RULE = (
    "parent legs only (`parent_call_sid` empty), so a dialled child leg is not counted twice"
)


class CallData:
    """One version's calls, each column read lazily and at most once."""

    def __init__(self, table: TableLike, days: daily.Days) -> None:
        self.table: pa.Table = select(table, COLUMNS)
        self.days_ctx = days

    @property
    def when(self) -> str:
        return f"day of `start_time`, {self.days_ctx.phrase()}."

    @cached_property
    def days(self) -> np.ndarray:
        return local_days(self.table, "start_time", self.days_ctx.tz)

    @cached_property
    def parent(self) -> np.ndarray:
        # All-null is normal (no dialled legs at all); only a missing column is a problem.
        col = column(self.table, "parent_call_sid", allow_all_null=True)
        # Byte length 0 or null: cheaper than trimming a million distinct SIDs.
        length = pc.binary_length(col.cast(pa.string())).fill_null(0)
        return length.to_numpy() == 0

    @cached_property
    def status(self) -> tuple[np.ndarray, list[str]]:
        return labels(self.table, "status")

    @cached_property
    def direction(self) -> tuple[np.ndarray, list[str]]:
        return labels(self.table, "direction")

    def status_in(self, wanted: tuple[str, ...]) -> np.ndarray:
        return matches(*self.status, wanted)

    def direction_is(self, wanted: str) -> np.ndarray:
        return matches(*self.direction, (wanted,))

    def require_rows(self) -> None:
        if self.table.num_rows == 0:
            raise Unavailable("This version has no rows.")


def charts(data: CallData) -> list[Chart]:
    return [
        _volume(data, "direction", DIRECTIONS),
        _volume(data, "status", STATUSES),
        _completion(data),
        _duration(data),
        _cost(data),
        _abandon(data),
    ]


def _volume(data: CallData, key: str, known: tuple[str, ...]) -> Chart:
    chart_id, title = f"calls-by-{key}", f"Daily call volume by {key}"
    definition = f"Calls per day by `{key}`; {PARENT_RULE}; {data.when}"

    def build() -> Chart:
        data.require_rows()
        codes, names = data.direction if key == "direction" else data.status
        parent = data.parent
        note = daily.undated_note(data.days[parent], "parent calls", "start_time")
        return daily.stacked_counts(
            chart_id=chart_id, title=title, definition=definition + note,
            days=data.days[parent], codes=codes[parent], names=names, known=known,
            y_label="calls", noun="calls",
        )

    return daily.guard(chart_id, title, definition, "stacked-bar", "Day", "calls", build)


def _completion(data: CallData) -> Chart:
    chart_id, title = "calls-completion-rate", "Call completion rate"
    definition = (
        "Completed calls ÷ calls that reached a final status (completed, busy, failed, "
        f"no-answer, canceled), in %; calls still queued, ringing or in progress are left out; "
        f"{PARENT_RULE}; {data.when} The table's last row is the rate over all days."
    )

    def build() -> Chart:
        data.require_rows()
        final = data.parent & data.status_in(FINAL_STATUSES)
        return daily.rate(
            chart_id=chart_id, title=title,
            definition=definition + daily.undated_note(data.days[final], "calls", "start_time"),
            days=data.days, numerator=final & data.status_in(("completed",)), denominator=final,
            numerator_label="Completed", denominator_label="Calls with a final status",
            series_name="Completion rate",
        )

    return daily.guard(chart_id, title, definition, "line", "Day", "%", build)


def _duration(data: CallData) -> Chart:
    chart_id, title = "calls-duration", "Average call duration"
    definition = (
        f"Mean and median of `duration` (seconds) over completed calls; {PARENT_RULE}; "
        f"{data.when} The table's last row covers all days."
    )

    def build() -> Chart:
        data.require_rows()
        completed = data.parent & data.status_in(("completed",)) & (data.days != NO_DAY)
        seconds, known = integers(data.table, "duration")
        note = ""
        if missing := int(np.count_nonzero(completed & ~known)):
            note = " " + daily.many(missing, "completed calls",
                                    "with an empty `duration` are left out.")
        keep = completed & known
        if not keep.any():
            raise Unavailable("No completed calls with a duration in this version.")
        frame = pd.DataFrame({"day": data.days[keep], "s": seconds[keep]})
        per_day = frame.groupby("day")["s"].agg(["size", "mean", "median"]).sort_index()
        x = [iso_day(d) for d in per_day.index]
        mean = [round(float(v), 2) for v in per_day["mean"]]
        median = [round(float(v), 2) for v in per_day["median"]]
        rows: list[list] = [
            [x[i], int(per_day["size"].iat[i]), mean[i], median[i]] for i in range(len(x))
        ]
        rows.append(["All days", int(keep.sum()), round(float(frame["s"].mean()), 2),
                     round(float(frame["s"].median()), 2)])
        table = ChartTable(["Day", "Completed calls", "Mean (s)", "Median (s)"], rows)
        series = [Series("Mean", x, list(mean)), Series("Median", x, list(median))]
        return Chart(chart_id, title, definition + note, "line", "Day", "seconds", series, table)

    return daily.guard(chart_id, title, definition, "line", "Day", "seconds", build)


def _cost(data: CallData) -> Chart:
    chart_id, title = "calls-cost", "Call cost"
    definition = (
        "−sum(`price`) per day and currency (`price_unit`): Twilio reports charges as negative "
        "prices, so the sign is flipped to show cost. Every leg counts, child legs included, "
        "because each leg is billed on its own. Currencies are never added together; "
        f"{data.when}"
    )

    return daily.cost_chart(
        data, chart_id=chart_id, title=title, definition=definition, noun="calls",
        ts_column="start_time",
    )


def _abandon(data: CallData) -> Chart:
    chart_id, title = "calls-abandon-rate", "Abandon rate"
    definition = (
        "Twilio has no abandon-rate field outside Flex; this is our definition: inbound parent "
        "calls (`direction` inbound, `parent_call_sid` empty) that ended no-answer or canceled "
        f"(the caller hung up before an answer) ÷ all inbound parent calls, in %; {data.when} "
        "The table's last row is the rate over all days."
    )

    def build() -> Chart:
        data.require_rows()
        inbound = data.parent & data.direction_is("inbound")
        return daily.rate(
            chart_id=chart_id, title=title,
            definition=definition + daily.undated_note(data.days[inbound], "inbound calls",
                                                       "start_time"),
            days=data.days, numerator=inbound & data.status_in(ABANDONED_STATUSES),
            denominator=inbound, numerator_label="Abandoned (no-answer, canceled)",
            denominator_label="Inbound calls", series_name="Abandon rate",
        )

    return daily.guard(chart_id, title, definition, "line", "Day", "%", build)


def headline(data: CallData, first: dt.date, last: dt.date) -> list[Headline]:
    """Figures over [first, last]: parent calls, completion rate, cost per currency.

    Each figure is guarded on its own: a missing `status` still leaves the call count.
    """
    try:
        window = (data.days >= day_number(first)) & (data.days <= day_number(last))
    except Unavailable:
        return [Headline("Calls", None, "calls"), Headline("Completion rate", None, "%"),
                Headline("Call cost", None, "")]
    parent: np.ndarray | None
    try:
        parent = window & data.parent
    except Unavailable:
        parent = None
    calls = Headline("Calls", None if parent is None else int(parent.sum()), "calls")
    rate = Headline("Completion rate", None, "%")
    if parent is not None:
        with contextlib.suppress(Unavailable):  # no `status` column: the rate stays unknown
            final = parent & data.status_in(FINAL_STATUSES)
            completed = final & data.status_in(("completed",))
            rate = Headline("Completion rate", daily.percent(completed.sum(), final.sum()), "%")
    return [calls, rate, *daily.cost_headlines("Call cost", data.table, window, sign=-1)]
