"""Reading one DataSet version defensively: only the needed columns, typed as numpy arrays.

Every reader raises `Unavailable` (whose message is shown to the user in place of the chart)
instead of crashing when a column is missing, empty or of an unexpected type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TableLike = pa.Table | pa.RecordBatch | pd.DataFrame

EPOCH = dt.date(1970, 1, 1)
NO_DAY = np.iinfo(np.int64).min  # day number of a row whose timestamp is null
EMPTY_LABEL = "(empty)"
MICRO = 1_000_000  # prices are handled as integer micro-units: decimal128(18, 6) exactly


class Unavailable(Exception):
    """The metric cannot be computed from this version; str(self) says why, in plain words."""


def select(table: TableLike, names: Sequence[str]) -> pa.Table:
    """The columns among `names` that exist, as an Arrow table (nothing else is converted)."""
    if isinstance(table, pd.DataFrame):
        present = [n for n in names if n in table.columns]
        return pa.Table.from_pandas(table[present], preserve_index=False)
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    present = [n for n in names if n in table.column_names]
    return table.select(present)


def resolve_tz(tz: str | None) -> tuple[str, str | None]:
    """(usable zone, warning). An unknown zone falls back to UTC rather than failing the page."""
    if not tz:
        return "UTC", None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", f"unknown time zone {tz!r}, UTC used"
    return tz, None


def column(table: pa.Table, name: str, *, allow_all_null: bool = False) -> pa.ChunkedArray:
    """The column, or Unavailable when it is missing (or null in every row, unless allowed)."""
    if name not in table.column_names:
        raise Unavailable(f"This version has no `{name}` column.")
    col = table.column(name)
    if not allow_all_null and len(col) and col.null_count == len(col):
        raise Unavailable(f"`{name}` is empty in every row of this version.")
    return col


def local_days(table: pa.Table, name: str, tz: str) -> np.ndarray:
    """Day number (days since 1970-01-01) of each row in zone `tz`; NO_DAY where null.

    Twilio timestamps are UTC instants, so the calendar day depends on the DataSet's zone:
    23:30 UTC is already tomorrow in Berlin. Plain dates (usage start_date) are not shifted.
    """
    col = column(table, name)
    kind = col.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:  # naive values are UTC wall-clock (that is what Twilio sends)
            col = col.cast(pa.timestamp(kind.unit, tz="UTC"))
        # Re-labelling the zone is metadata only; local_timestamp gives the wall clock there.
        days = pc.local_timestamp(col.cast(pa.timestamp(kind.unit, tz=tz))).cast(pa.date32())
    elif pa.types.is_date(kind):
        days = col.cast(pa.date32())
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        parsed = pd.to_datetime(
            pd.Series(col.to_pylist(), dtype="object"), utc=True, errors="coerce", format="mixed"
        )
        local = parsed.dt.tz_convert(tz).dt.tz_localize(None).to_numpy("datetime64[D]")
        days = pa.array(local, pa.date32(), from_pandas=True)
    else:
        raise Unavailable(f"`{name}` is not a date or time column ({kind}).")
    out = days.cast(pa.int32()).fill_null(0).to_numpy().astype(np.int64)
    out[~_valid(days)] = NO_DAY
    return out


def labels(table: pa.Table, name: str, *, upper: bool = False) -> tuple[np.ndarray, list[str]]:
    """Integer code per row plus the label of each code; null or blank -> "(empty)"."""
    col = column(table, name, allow_all_null=True)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = col.cast(pa.string())
    if upper:  # Twilio spells currencies USD on calls but usd on messages: one currency
        col = pc.utf8_upper(col)
    col = _blank_to_null(col)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    encoded = pc.dictionary_encode(col)
    names = [str(v) for v in encoded.dictionary.to_pylist()]
    codes = encoded.indices.fill_null(len(names)).to_numpy(zero_copy_only=False).astype(np.int64)
    if encoded.null_count:
        names.append(EMPTY_LABEL)
    return codes, names


def integers(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, valid mask) for counts and seconds; Twilio sends them as strings."""
    col = column(table, name)
    kind = col.type
    try:
        if pa.types.is_integer(kind):
            arr = col.cast(pa.int64())
        elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            arr = pc.round(col).cast(pa.int64())
        else:
            arr = _blank_to_null(col).cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Unavailable(f"`{name}` holds values that are not whole numbers.") from exc
    return arr.fill_null(0).to_numpy().astype(np.int64), _valid(arr)


def micro_units(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(int64 amount in millionths, valid mask). Exact for decimal128(18, 6): sums stay exact.

    Null is kept apart from zero: a null price means "not yet rated", not "free".
    """
    col = column(table, name, allow_all_null=True)
    kind = col.type
    try:
        if pa.types.is_decimal(kind):
            if kind.scale > 6:
                col = pc.round(col, 6)
            arr = pc.multiply(col, pa.scalar(MICRO, pa.int64())).cast(pa.int64())
        elif pa.types.is_floating(kind) or pa.types.is_integer(kind):
            arr = pc.round(pc.multiply(col.cast(pa.float64()), float(MICRO))).cast(pa.int64())
        elif pa.types.is_null(kind):
            arr = col.cast(pa.int64())
        else:  # strings straight from the API: "-0.00850"
            text = _blank_to_null(col)
            arr = pa.array(
                [None if v is None else int(Decimal(v).scaleb(6)) for v in text.to_pylist()],
                pa.int64(),
            )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ArithmeticError, ValueError) as exc:
        raise Unavailable(f"`{name}` holds values that are not numbers.") from exc
    return arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64), _valid(arr)


def _blank_to_null(col: pa.ChunkedArray) -> pa.ChunkedArray:
    text = col.cast(pa.string())
    blank = pc.equal(pc.utf8_trim_whitespace(text), "")
    return pc.if_else(blank, pa.scalar(None, pa.string()), text)


def _valid(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.is_valid(arr).to_numpy(zero_copy_only=False).astype(bool)


def iso_day(day: int) -> str:
    return (EPOCH + dt.timedelta(days=int(day))).isoformat()


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days
