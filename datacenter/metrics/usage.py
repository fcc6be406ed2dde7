"""Usage Records report: cost trend and cost by category (PRODUCT.md §4).

Sign convention: a usage record's `price` is the positive amount spent (OpenAPI: "the total
price of the usage"), unlike call and message prices, which are negative charges. Usage sums
are therefore taken as they are, never negated.
"""

from __future__ import annotations

import bisect
import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa

from . import daily
from .charts import Chart, ChartTable, Headline, Series
from .columns import (
    EMPTY_LABEL,
    MICRO,
    NO_DAY,
    TableLike,
    Unavailable,
    day_number,
    labels,
    local_days,
    matches,
    micro_units,
    select,
)

COLUMNS = ("category", "start_date", "end_date", "price", "price_unit")
TOTAL_CATEGORY = "totalprice"
TOP_N = 10
SIGN_RULE = (
    "Usage prices are positive amounts (what was spent), unlike call and message prices, "
    "which are negative charges, so they are added as they are."
)


class UsageData:
    def __init__(self, table: TableLike, days: daily.Days) -> None:
        self.table: pa.Table = select(table, COLUMNS)
        self.days_ctx = days

    @cached_property
    def category(self) -> tuple[np.ndarray, list[str]]:
        return labels(self.table, "category")

    @cached_property
    def start(self) -> np.ndarray:
        # Usage dates are calendar dates in GMT already: never shifted to the DataSet's zone.
        return local_days(self.table, "start_date", "UTC")

    @cached_property
    def one_day(self) -> np.ndarray:
        """Records covering exactly one day (Daily granularity)."""
        end = local_days(self.table, "end_date", "UTC")
        return (self.start == end) & (self.start != NO_DAY)

    def is_total(self) -> np.ndarray:
        codes, names = self.category
        return matches(codes, names, (TOTAL_CATEGORY,))

    def require_rows(self) -> None:
        if self.table.num_rows == 0:
            raise Unavailable("This version has no rows.")


def charts(data: UsageData) -> list[Chart]:
    return [_trend(data), _by_category(data)]


def _trend(data: UsageData) -> Chart:
    chart_id, title = "usage-cost-trend", "Cost trend"
    definition = (
        f"sum(`price`) of the usage records of category `{TOTAL_CATEGORY}` (Twilio's total over "
        "all products) per day and currency (`price_unit`), added over accounts. "
        f"{SIGN_RULE} Days are the records' `start_date` as Twilio reports them (GMT dates), "
        "not shifted to the DataSet's time zone."
    )

    def build() -> Chart:
        data.require_rows()
        total = data.is_total()
        if not total.any():
            raise Unavailable(f"No `{TOTAL_CATEGORY}` usage records in this version "
                              "(the Category filter may leave it out).")
        rows = total & data.one_day
        text = definition + " Only one-day records (start_date = end_date) are used."
        if not rows.any():
            # Monthly/yearly DataSets: still a trend, one point per record period.
            rows = total & (data.start != NO_DAY)
            text = definition + (" This version holds records longer than a day (e.g. monthly), "
                                 "so each point is one record period, dated by its start_date.")
        micro, rated = micro_units(data.table, "price")
        codes, currencies = labels(data.table, "price_unit", upper=True)
        days = np.where(rows, data.start, NO_DAY)
        chart = daily.money(
            chart_id=chart_id, title=title, definition=text, days=days, currency_codes=codes,
            currencies=currencies, micro=micro, rated=rated, sign=1, noun="records",
        )
        chart.kind = "line"
        return chart

    return daily.guard(chart_id, title, definition, "line", "Day", "amount", build)


def rollups(names: list[str]) -> set[str]:
    """`totalprice` plus every category that another present category extends with "-name".

    `calls` covers `calls-inbound`, which covers `calls-inbound-local`: only leaves are kept,
    so no cost is counted twice. Judged on the categories present in this version, so a
    DataSet filtered to `calls` alone still shows it.
    """
    ordered = sorted(n for n in names if n != EMPTY_LABEL)
    found = {TOTAL_CATEGORY}
    for name in ordered:
        prefix = name + "-"
        i = bisect.bisect_left(ordered, prefix)
        if i < len(ordered) and ordered[i].startswith(prefix):
            found.add(name)
    return found


def _by_category(data: UsageData) -> Chart:
    chart_id, title = "usage-cost-by-category", "Cost by category"
    definition = (
        f"sum(`price`) per `category` and currency over the whole version; the {TOP_N} largest "
        f"per currency, the rest added up in the table. `{TOTAL_CATEGORY}` and other rollups are "
        "left out so nothing is counted twice: a category is a rollup when another category in "
        "this version starts with its name and a dash (calls → calls-inbound → "
        f"calls-inbound-local). {SIGN_RULE}"
    )

    def build() -> Chart:
        data.require_rows()
        codes, names = data.category
        micro, rated = micro_units(data.table, "price")
        cur_codes, currencies = labels(data.table, "price_unit", upper=True)
        skip = rollups(names)
        leaf = matches(codes, names, tuple(n for n in names if n not in skip))
        keep = leaf & rated
        if not keep.any():
            raise Unavailable("No rated usage records outside the rollup categories.")
        frame = pd.DataFrame({"cat": codes[keep], "cur": cur_codes[keep], "m": micro[keep]})
        grouped = frame.groupby(["cur", "cat"])["m"].agg(["sum", "size"]).reset_index()
        series: list[Series] = []
        rows: list[list] = []
        for cur in sorted(grouped["cur"].unique(), key=lambda c: currencies[c]):
            part = grouped[(grouped["cur"] == cur) & (grouped["sum"] != 0)]
            # Largest first; equal amounts by name so the order never depends on row order.
            part = part.assign(name=[names[c] for c in part["cat"]])
            part = part.sort_values(["sum", "name"], ascending=[False, True])
            top, rest = part.iloc[:TOP_N], part.iloc[TOP_N:]
            unit = daily.NO_CURRENCY if currencies[cur] == EMPTY_LABEL else currencies[cur]
            labels_ = top["name"].tolist()
            amounts = [int(v) / MICRO + 0.0 for v in top["sum"]]
            series.append(Series(unit, labels_, amounts))
            rows.extend([lab, unit, amt, int(n)]
                        for lab, amt, n in zip(labels_, amounts, top["size"], strict=True))
            if len(rest):
                rows.append([f"{len(rest)} other categories", unit,
                             int(rest["sum"].sum()) / MICRO + 0.0, int(rest["size"].sum())])
        if not series or not any(s.x for s in series):
            raise Unavailable("Every usage category outside the rollups costs 0 in this version.")
        series = [s for s in series if s.x]
        y_label = series[0].name if len(series) == 1 else "amount (per currency)"
        table = ChartTable(["Category", "Currency", "Amount", "Records"], rows)
        return Chart(chart_id, title, definition, "bar", "Category", y_label, series, table)

    return daily.guard(chart_id, title, definition, "bar", "Category", "amount", build)


def headline(data: UsageData, first: dt.date, last: dt.date) -> list[Headline]:
    try:
        window = (
            data.is_total() & data.one_day
            & (data.start >= day_number(first)) & (data.start <= day_number(last))
        )
    except Unavailable:
        return [Headline("Cost", None, "")]
    return daily.cost_headlines("Cost", data.table, window, sign=1)
