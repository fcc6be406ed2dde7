"""Reading one DataSet version defensively: only the needed columns, typed as numpy arrays.

Every reader raises `Unavailable` (whose message is shown to the user in place of the chart)
instead of crashing when a column is missing, empty or of an unexpected type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from twilio_reports.dates import zone

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
        # Built from an empty-column table so the row count survives when no column matches.
        out = pa.table({"_": pa.nulls(len(table))}).select([])
        for n in present:
            out = out.append_column(n, _from_pandas(table[n]))
        return out
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    present = [n for n in names if n in table.column_names]
    return table.select(present)


def _from_pandas(values: pd.Series) -> pa.Array:
    """One pandas column as Arrow. Decimal objects (what Arrow decimals become in pandas) are
    converted with an explicit type: inferring one is five times slower on a million rows."""
    if values.dtype == object:
        first = values.first_valid_index()
        if first is not None and isinstance(values[first], Decimal):
            try:
                return pa.array(values, type=pa.decimal128(38, 6), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass  # more than 6 decimals, or mixed objects: let Arrow infer
    return pa.array(values, from_pandas=True)


def resolve_tz(tz: str | None) -> tuple[str, str | None]:
    """(usable zone, warning). An unknown zone falls back to UTC rather than failing the page."""
    if not tz:
        return "UTC", None
    try:
        zone(tz)
    except ValueError:
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
        try:
            # Re-labelling the zone is metadata only; local_timestamp gives the wall clock there.
            days = pc.local_timestamp(col.cast(pa.timestamp(kind.unit, tz=tz))).cast(pa.date32())
        except pa.ArrowException:
            # Arrow reads the system zone database; without one, pandas uses the tzdata package.
            days = local_days_pandas(col, tz)
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


def local_days_pandas(col: pa.ChunkedArray, tz: str) -> pa.Array:
    """Same as the Arrow path of local_days (UTC timestamps -> date32 in `tz`), via pandas."""
    stamps = pd.Series(col.to_pandas(), copy=False).dt.tz_convert(tz).dt.tz_localize(None)
    return pa.array(stamps.to_numpy("datetime64[D]"), pa.date32(), from_pandas=True)


def labels(table: pa.Table, name: str, *, upper: bool = False) -> tuple[np.ndarray, list[str]]:
    """Integer code per row plus the label of each code; null or blank -> "(empty)".

    Labels are cleaned on the dictionary (a handful of distinct values), not row by row.
    """
    col = column(table, name, allow_all_null=True)
    if pa.types.is_dictionary(col.type) or not (
        pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
    ):
        col = col.cast(pa.string())
    encoded = pc.dictionary_encode(col.combine_chunks())
    cleaned = [str(v).strip() for v in encoded.dictionary.to_pylist()]
    if upper:  # Twilio spells currencies USD on calls but usd on messages: one currency
        cleaned = [v.upper() for v in cleaned]
    names = list(dict.fromkeys(v for v in cleaned if v))
    if encoded.null_count or "" in cleaned:
        names.append(EMPTY_LABEL)  # last, so "(empty)" is drawn after the real values
    code_of = {n: i for i, n in enumerate(names)}
    # One extra slot for null rows (indices filled with len(cleaned)).
    target = np.array([code_of[v or EMPTY_LABEL] for v in cleaned]
                      + [code_of.get(EMPTY_LABEL, 0)], dtype=np.int64)
    return target[encoded.indices.fill_null(len(cleaned)).to_numpy(zero_copy_only=False)], names


def matches(codes: np.ndarray, names: list[str], wanted: tuple[str, ...]) -> np.ndarray:
    """Rows whose label is one of `wanted` (a lookup per code: cheaper than np.isin)."""
    hit = np.array([n in wanted for n in names] + [False], dtype=bool)
    return hit[codes]


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
    except pa.ArrowException as exc:
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
            return _decimal_micro(col, name)
        if pa.types.is_floating(kind) or pa.types.is_integer(kind):
            arr = pc.round(pc.multiply(col.cast(pa.float64()), float(MICRO))).cast(pa.int64())
        elif pa.types.is_null(kind):
            arr = col.cast(pa.int64())
        else:  # strings straight from the API: "-0.00850"
            text = _blank_to_null(col)
            arr = pa.array(
                [None if v is None else int(Decimal(v).scaleb(6).to_integral_value())
                 for v in text.to_pylist()],
                pa.int64(),
            )
    except (pa.ArrowException, ArithmeticError, ValueError) as exc:
        raise Unavailable(f"`{name}` holds values that are not numbers.") from exc
    return arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64), _valid(arr)


def _decimal_micro(col: pa.ChunkedArray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A decimal at scale 6 *is* an integer count of millionths: read its 128-bit words.

    No arithmetic at all, so it is exact and nearly free on a million rows. Values too large
    for int64 millionths (over 9 trillion) are refused rather than wrapped.
    """
    kind = col.type
    if kind.scale != 6 or not isinstance(kind, pa.Decimal128Type):
        if kind.scale > 6:
            col = pc.round(col, 6)  # half-to-even, like Decimal.quantize
        col = col.cast(pa.decimal128(38, 6))
    values, valid = [], []
    for chunk in col.chunks:
        if not len(chunk):
            continue
        words = np.frombuffer(chunk.buffers()[1], dtype="<i8")
        words = words[2 * chunk.offset : 2 * (chunk.offset + len(chunk))]
        ok = _valid(chunk)
        low = np.where(ok, words[0::2], 0)
        high = np.where(ok, words[1::2], 0)
        if np.any(high != (low >> 63)):  # the high word must only repeat the sign
            raise Unavailable(f"`{name}` holds amounts too large to add up exactly.")
        values.append(low)
        valid.append(ok)
    if not values:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    return np.concatenate(values), np.concatenate(valid)


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
