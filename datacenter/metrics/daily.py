"""Per-day aggregation (numpy, vectorised) and the three chart shapes every report uses.

Rows arrive as parallel numpy arrays: a day number per row (see columns.local_days), an integer
code per row for the series key (direction, status, currency...), and optional values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .charts import Chart, ChartKind, ChartTable, Headline, Series
from .columns import EMPTY_LABEL, MICRO, NO_DAY, Unavailable, iso_day, labels, micro_units

# A day range wider than this (a stray 1970 timestamp...) is grouped by sorting instead of by
# offset, so one bad row cannot allocate a huge array.
_MAX_OFFSET_SPAN = 200_000
NO_CURRENCY = "(no currency)"


@dataclass(frozen=True)
class Days:
    """How days are cut, and the words saying so in every definition."""

    tz: str
    tz_warning: str | None = None

    def phrase(self) -> str:
        text = f"days in {self.tz}"
        return f"{text} ({self.tz_warning})" if self.tz_warning else text


def day_positions(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct day numbers, index of each row's day in that list)."""
    lo, hi = int(days.min()), int(days.max())
    if hi - lo < _MAX_OFFSET_SPAN:
        offset = days - lo
        present = np.bincount(offset, minlength=hi - lo + 1) > 0
        remap = np.cumsum(present) - 1
        return np.flatnonzero(present) + lo, remap[offset]
    distinct, inverse = np.unique(days, return_inverse=True)
    return distinct, inverse.reshape(-1)


def count_matrix(days: np.ndarray, codes: np.ndarray, ncodes: int) -> tuple[np.ndarray, np.ndarray]:
    """(days, counts[day, code]) over rows with a day; days are only those with rows."""
    distinct, pos = day_positions(days)
    counts = np.bincount(pos * ncodes + codes, minlength=len(distinct) * ncodes)
    return distinct, counts.reshape(len(distinct), ncodes)


def sum_matrix(
    days: np.ndarray, codes: np.ndarray, ncodes: int, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(days, exact int64 sums[day, code]); pandas sums int64 without going through floats."""
    distinct, pos = day_positions(days)
    key = pos * ncodes + codes
    sums = pd.Series(values, copy=False).groupby(key).sum()
    out = np.zeros(len(distinct) * ncodes, dtype=np.int64)
    out[sums.index.to_numpy()] = sums.to_numpy()
    return distinct, out.reshape(len(distinct), ncodes)


def many(count: int, noun: str, rest: str = "are") -> str:
    """"1 call … is", "3 calls … are": `noun` is plural; the first "are" in `rest` agrees."""
    if count == 1:
        noun = noun[:-1] if noun.endswith("s") else noun
        rest = rest.replace("are", "is", 1)
    return f"{count:,} {noun} {rest}"


def undated_note(days: np.ndarray, noun: str, column: str) -> str:
    missing = int(np.count_nonzero(days == NO_DAY))
    if not missing:
        return ""
    return " " + many(missing, noun, f"with an empty `{column}` are not shown.")


def ordered(names: Sequence[str], known: Sequence[str]) -> list[int]:
    """Codes in display order: Twilio's documented values first, then others, "(empty)" last."""
    rank = {name: i for i, name in enumerate(known)}

    def key(code: int) -> tuple[int, int, str]:
        name = names[code]
        return (name == EMPTY_LABEL, rank.get(name, len(rank)), name)

    return sorted(range(len(names)), key=key)


def empty(chart_id: str, title: str, definition: str, kind: ChartKind, x_label: str,
          y_label: str, reason: str) -> Chart:
    return Chart(chart_id, title, definition, kind, x_label, y_label, empty_reason=reason)


def stacked_counts(
    *,
    chart_id: str,
    title: str,
    definition: str,
    days: np.ndarray,
    codes: np.ndarray,
    names: Sequence[str],
    known: Sequence[str],
    y_label: str,
    noun: str,
) -> Chart:
    """Rows per day, one stacked series per key value; table: one row per day plus totals."""
    keep = days != NO_DAY
    days, codes = days[keep], codes[keep]
    if not len(days):
        return empty(chart_id, title, definition, "stacked-bar", "Day", y_label,
                     f"No {noun} with a date in this version.")
    distinct, counts = count_matrix(days, codes, len(names))
    x = [iso_day(d) for d in distinct]
    used = [c for c in ordered(names, known) if counts[:, c].sum() > 0]
    series = [Series(names[c], x, counts[:, c].tolist()) for c in used]
    rows: list[list] = [
        [x[i], *(int(counts[i, c]) for c in used), int(counts[i].sum())] for i in range(len(x))
    ]
    rows.append(["Total", *(int(counts[:, c].sum()) for c in used), int(counts.sum())])
    table = ChartTable(["Day", *(names[c] for c in used), "Total"], rows)
    return Chart(chart_id, title, definition, "stacked-bar", "Day", y_label, series, table)


def rate(
    *,
    chart_id: str,
    title: str,
    definition: str,
    days: np.ndarray,
    numerator: np.ndarray,
    denominator: np.ndarray,
    numerator_label: str,
    denominator_label: str,
    series_name: str,
) -> Chart:
    """numerator ÷ denominator per day in %, plus the overall rate as the table's last row.

    `numerator` must be a subset of `denominator` (both boolean masks over the rows).
    Days with an empty denominator get no point rather than a fake 0 %.
    """
    keep = denominator & (days != NO_DAY)
    if not keep.any():
        return empty(chart_id, title, definition, "line", "Day", "%",
                     f"No {denominator_label.lower()} with a date in this version.")
    distinct, counts = count_matrix(days[keep], numerator[keep].astype(np.int64), 2)
    hits, totals = counts[:, 1], counts.sum(axis=1)
    x = [iso_day(d) for d in distinct]
    y = [percent(int(h), int(t)) for h, t in zip(hits, totals, strict=True)]
    rows: list[list] = [[x[i], int(hits[i]), int(totals[i]), y[i]] for i in range(len(x))]
    rows.append(["All days", int(hits.sum()), int(totals.sum()),
                 percent(int(hits.sum()), int(totals.sum()))])
    table = ChartTable(["Day", numerator_label, denominator_label, "Rate (%)"], rows)
    return Chart(chart_id, title, definition, "line", "Day", "%",
                 [Series(series_name, x, y)], table)


def percent(part: int, whole: int) -> float | None:
    """part ÷ whole in %, 2 decimals; None when there is nothing to divide by."""
    part, whole = int(part), int(whole)
    return round(100.0 * part / whole, 2) if whole else None


def money(
    *,
    chart_id: str,
    title: str,
    definition: str,
    days: np.ndarray,
    currency_codes: np.ndarray,
    currencies: Sequence[str],
    micro: np.ndarray,
    rated: np.ndarray,
    sign: int,
    noun: str,
) -> Chart:
    """sign × sum(price) per day, one series per currency (never added across currencies).

    Unrated rows (null price) are left out of the sums but counted per day in the table and in
    the definition, so a total that is still growing is visibly incomplete.
    """
    dated = days != NO_DAY
    unrated_total = int(np.count_nonzero(dated & ~rated))
    if unrated_total:
        definition += " " + many(unrated_total, noun, "not yet rated (empty price) are left out.")
    elif dated.any():
        definition += f" Every {noun.rstrip('s')} in this version is rated."
    keep = dated & rated
    if not keep.any():
        reason = (f"None of the {unrated_total:,} {noun} has a price yet: Twilio fills `price` "
                  "after rating." if unrated_total else f"No {noun} with a date in this version.")
        return empty(chart_id, title, definition, "bar", "Day", "amount", reason)
    order = ordered(currencies, ())
    names = [NO_CURRENCY if c == EMPTY_LABEL else c for c in currencies]
    all_days, unrated_counts = count_matrix(days[dated], (~rated[dated]).astype(np.int64), 2)
    distinct, sums = sum_matrix(days[keep], currency_codes[keep], len(names), micro[keep])
    # Put both on the same day axis (a day may have only unrated rows).
    row_of = {int(d): i for i, d in enumerate(distinct)}
    present = np.bincount(currency_codes[keep], minlength=len(names)) > 0
    used = [c for c in order if present[c]]
    amounts = (sign * sums) / MICRO + 0.0  # + 0.0 turns -0.0 into 0.0
    x_all = [iso_day(d) for d in all_days]
    series = [
        Series(names[c], [iso_day(d) for d in distinct], [float(v) for v in amounts[:, c]])
        for c in used
    ]
    rows: list[list] = []
    for j, d in enumerate(all_days):
        i = row_of.get(int(d))
        cells = [float(amounts[i, c]) if i is not None else None for c in used]
        rows.append([x_all[j], *cells, int(unrated_counts[j, 1])])
    totals = (sign * sums.sum(axis=0)) / MICRO + 0.0
    rows.append(["Total", *(float(totals[c]) for c in used), unrated_total])
    table = ChartTable(["Day", *(names[c] for c in used), f"{noun.capitalize()} not yet rated"],
                       rows)
    y_label = names[used[0]] if len(used) == 1 else "amount (per currency)"
    return Chart(chart_id, title, definition, "bar", "Day", y_label, series, table)


def cost_chart(data, *, chart_id: str, title: str, definition: str, noun: str,
               ts_column: str) -> Chart:
    """−sum(price) per day and currency, for calls and messages alike (both are negative
    charges, with `price_unit` per row). `data` is a CallData or MessageData."""

    def build() -> Chart:
        data.require_rows()
        micro, rated = micro_units(data.table, "price")
        codes, currencies = labels(data.table, "price_unit", upper=True)
        return money(
            chart_id=chart_id, title=title,
            definition=definition + undated_note(data.days, noun, ts_column),
            days=data.days, currency_codes=codes, currencies=currencies, micro=micro,
            rated=rated, sign=-1, noun=noun,
        )

    return guard(chart_id, title, definition, "bar", "Day", "amount", build)


def guard(chart_id: str, title: str, definition: str, kind: ChartKind, x_label: str,
          y_label: str, build: Callable[[], Chart]) -> Chart:
    """Run one chart's computation; a missing or unusable column becomes the chart's reason."""
    try:
        return build()
    except Unavailable as exc:
        return empty(chart_id, title, definition, kind, x_label, y_label, str(exc))


def cost_headlines(label: str, table: pa.Table, window: np.ndarray, *, sign: int) -> list[Headline]:
    """sign × sum(price) of the rated rows in `window`, one Headline per currency."""
    try:
        micro, rated = micro_units(table, "price")
        codes, currencies = labels(table, "price_unit", upper=True)
    except Unavailable:
        return [Headline(label, None, "")]
    keep = window & rated
    if not keep.any():
        return [Headline(label, None, "")]
    sums = pd.Series(micro[keep], copy=False).groupby(codes[keep]).sum()
    found = {currencies[int(c)]: int(v) for c, v in sums.items()}
    return [
        Headline(label, sign * found[name] / MICRO + 0.0,
                 NO_CURRENCY if name == EMPTY_LABEL else name)
        for name in sorted(found, key=lambda n: (n == EMPTY_LABEL, n))
    ]
