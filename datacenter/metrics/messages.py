"""SMS Messages report: traffic by direction and status, segments and cost (PRODUCT.md §4)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pyarrow as pa

from . import daily
from .charts import Chart, ChartTable, Headline, Series
from .columns import (
    NO_DAY,
    TableLike,
    Unavailable,
    day_number,
    integers,
    iso_day,
    labels,
    local_days,
    select,
)

COLUMNS = ("date_sent", "direction", "status", "num_segments", "price", "price_unit")
DIRECTIONS = ("inbound", "outbound-api", "outbound-call", "outbound-reply")
STATUSES = ("delivered", "sent", "received", "read", "undelivered", "failed", "partially_delivered",
            "accepted", "scheduled", "queued", "sending", "receiving", "canceled")


class MessageData:
    def __init__(self, table: TableLike, days: daily.Days) -> None:
        self.table: pa.Table = select(table, COLUMNS)
        self.days_ctx = days

    @property
    def when(self) -> str:
        return f"day of `date_sent`, {self.days_ctx.phrase()}."

    @cached_property
    def days(self) -> np.ndarray:
        return local_days(self.table, "date_sent", self.days_ctx.tz)

    def require_rows(self) -> None:
        if self.table.num_rows == 0:
            raise Unavailable("This version has no rows.")


def charts(data: MessageData) -> list[Chart]:
    return [
        _traffic(data, "direction", DIRECTIONS),
        _traffic(data, "status", STATUSES),
        _segments(data),
        _cost(data),
    ]


def _traffic(data: MessageData, key: str, known: tuple[str, ...]) -> Chart:
    chart_id, title = f"messages-by-{key}", f"SMS traffic by {key}"
    definition = f"Messages per day by `{key}`; {data.when}"

    def build() -> Chart:
        data.require_rows()
        codes, names = labels(data.table, key)
        return daily.stacked_counts(
            chart_id=chart_id, title=title,
            definition=definition + daily.undated_note(data.days, "messages", "date_sent"),
            days=data.days, codes=codes, names=names, known=known, y_label="messages",
            noun="messages",
        )

    return daily.guard(chart_id, title, definition, "stacked-bar", "Day", "messages", build)


def _segments(data: MessageData) -> Chart:
    chart_id, title = "messages-segments", "SMS segments"
    definition = (
        "sum(`num_segments`) per day: a long message is billed as several segments; "
        f"{data.when} Messages sent through a Messaging Service report 0 until a sender is set."
    )

    def build() -> Chart:
        data.require_rows()
        segments, known = integers(data.table, "num_segments")
        dated = data.days != NO_DAY
        note = daily.undated_note(data.days, "messages", "date_sent")
        if missing := int(np.count_nonzero(dated & ~known)):
            note += " " + daily.many(missing, "messages",
                                     "with an empty `num_segments` are left out.")
        keep = dated & known
        if not keep.any():
            raise Unavailable("No dated messages with `num_segments` in this version.")
        zeros = np.zeros(int(keep.sum()), dtype=np.int64)
        distinct, sums = daily.sum_matrix(data.days[keep], zeros, 1, segments[keep])
        _, counts = daily.count_matrix(data.days[keep], zeros, 1)
        x = [iso_day(d) for d in distinct]
        y = sums[:, 0].tolist()
        rows: list[list] = [[x[i], int(counts[i, 0]), y[i]] for i in range(len(x))]
        rows.append(["Total", int(counts.sum()), int(sums.sum())])
        table = ChartTable(["Day", "Messages", "Segments"], rows)
        return Chart(chart_id, title, definition + note, "bar", "Day", "segments",
                     [Series("Segments", x, y)], table)

    return daily.guard(chart_id, title, definition, "bar", "Day", "segments", build)


def _cost(data: MessageData) -> Chart:
    chart_id, title = "messages-cost", "SMS cost"
    definition = (
        "−sum(`price`) per day and currency (`price_unit`, upper-cased: Twilio writes usd on "
        "messages): charges are negative prices, so the sign is flipped to show cost. "
        f"Currencies are never added together; {data.when}"
    )

    return daily.cost_chart(
        data, chart_id=chart_id, title=title, definition=definition, noun="messages",
        ts_column="date_sent",
    )


def headline(data: MessageData, first: dt.date, last: dt.date) -> list[Headline]:
    try:
        window = (data.days >= day_number(first)) & (data.days <= day_number(last))
    except Unavailable:
        return [Headline("Messages", None, "messages"), Headline("Segments", None, "segments")]
    out = [Headline("Messages", int(window.sum()), "messages")]
    try:
        segments, known = integers(data.table, "num_segments")
        out.append(Headline("Segments", int(segments[window & known].sum()), "segments"))
    except Unavailable:
        out.append(Headline("Segments", None, "segments"))
    out.extend(daily.cost_headlines("SMS cost", data.table, window, sign=-1))
    return out
