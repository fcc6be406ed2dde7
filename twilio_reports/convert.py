"""Twilio JSON -> typed Arrow record batches, column at a time.

`page_to_batch` parses a page's bytes straight into Arrow (`pyarrow.json`, which releases the
GIL), so fetch threads convert in parallel and no Python dict per row is ever built. Pages
it cannot read (a JSON number where a string is expected, nested values) go through
`rows_to_batch` instead: `json.loads`, one list comprehension per column, then the same
Arrow compute kernels (strptime, casts). Cells the kernels cannot parse (odd formats) fall
back to a slower path for that column only.
"""

from __future__ import annotations

import email.utils
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from dateutil import parser as dateutil_parser

from twilio_reports import arrow_values as av
from twilio_reports.client import next_link, parse_object
from twilio_reports.definitions import REPORTS, Column, ReportDef

RFC2822 = "%a, %d %b %Y %H:%M:%S %z"
TIMESTAMP = pa.timestamp("us", tz="UTC")
DECIMAL = pa.decimal128(18, 6)


# Row fields Twilio sends as JSON numbers (its OpenAPI: integer / number); all others are
# strings. The page schema must say so: pyarrow.json refuses a number in a string field.
JSON_NUMBERS: dict[str, frozenset[str]] = {
    "messages": frozenset({"error_code"}),
    "usage-records": frozenset({"price"}),
}


@dataclass(frozen=True)
class TypedPage:
    batch: pa.RecordBatch  # exactly the report's arrow_schema()
    next_link: str | None


def page_to_batch(content: pa.Buffer, rdef: ReportDef) -> TypedPage:
    """A list page's rows as a typed batch, and its next link.

    Raises client.BrokenBody (which the client retries) when `content` is not a JSON object,
    e.g. a body cut short: pyarrow.json refuses every truncated page, and the fallback's
    json.loads does too.
    """
    try:
        table = pa_json.read_json(
            pa.BufferReader(content),
            # One block for the whole body: a JSON object may not straddle two blocks.
            read_options=pa_json.ReadOptions(block_size=content.size + 1, use_threads=False),
            parse_options=_page_options(rdef.slug),
        )
    except pa.ArrowInvalid:
        table = None
    if table is None or table.num_rows != 1:  # not one object of the expected shape
        body = parse_object(content)
        return TypedPage(rows_to_batch(body.get(rdef.list_key) or [], rdef), next_link(body))
    rows = table.column(rdef.list_key).combine_chunks().flatten()  # null list -> no rows
    arrays = type_columns([rows.field(c.name) for c in rdef.columns], rdef.columns)
    batch = pa.RecordBatch.from_arrays(arrays, schema=rdef.arrow_schema())
    meta = table.column("meta")[0]
    link = meta["next_page_url"].as_py() if meta.is_valid else None
    link = link or table.column("next_page_uri")[0].as_py()
    return TypedPage(batch, link or None)


@functools.cache
def _page_options(slug: str) -> pa_json.ParseOptions:
    """Only the report's columns are read (auth_token and nested maps are skipped unparsed),
    plus both envelopes' next links: 2010 API `next_page_uri`, monitor `meta.next_page_url`."""
    rdef = REPORTS[slug]
    numbers = JSON_NUMBERS.get(slug, frozenset())
    row = pa.struct([(c.name, pa.float64() if c.name in numbers else pa.string())
                     for c in rdef.columns])
    schema = pa.schema([
        (rdef.list_key, pa.list_(row)),
        ("next_page_uri", pa.string()),
        ("meta", pa.struct([("next_page_url", pa.string())])),
    ])
    return pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")


def rows_to_batch(rows: Sequence[dict[str, Any]], rdef: ReportDef) -> pa.RecordBatch:
    """Typed batch with exactly `rdef.arrow_schema()`; unknown keys and nested maps are dropped."""
    schema = rdef.arrow_schema()
    cells = [[r.get(c.name) for r in rows] for c in rdef.columns]
    arrays = type_columns([_to_arrow(v) for v in cells], rdef.columns, cells)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# Kinds typed as one array for all of a page's columns of that kind.
_TOGETHER = ("string", "timestamp")


def type_columns(raws: Sequence[pa.Array], columns: Sequence[Column],
                 cells: Sequence[list[Any]] | None = None) -> list[pa.Array]:
    """`type_column` for each column, the text and date columns of a page typed together.

    Each kernel call costs ~20-40 us whatever its length, and a Calls page has 18 text and 4
    date columns at 4-12 calls each: on the 90-row pages of 1,000 quiet subaccounts the calls
    cost far more than the rows (half a 1,004-account pull's CPU). Typing each kind's columns
    as one concatenated array makes it a handful of calls per page; the columns are zero-copy
    slices of the result.
    """
    out: list[pa.Array | None] = [None] * len(columns)
    together: dict[str, list[int]] = {kind: [] for kind in _TOGETHER}
    for i, (raw, column) in enumerate(zip(raws, columns, strict=True)):
        if column.type in together and raw.null_count != len(raw):
            together[column.type].append(i)
        else:
            out[i] = type_column(raw, column, cells[i] if cells is not None else None)
    for kind, members in together.items():
        if not members:
            continue
        texts = [_as_strings(raws[i], cells[i] if cells is not None else None) for i in members]
        whole = _blank_to_null(texts[0] if len(texts) == 1 else pa.concat_arrays(texts))
        typed = whole if kind == "string" else _parse_timestamps(whole)
        offset = 0
        for i, text in zip(members, texts, strict=True):
            out[i] = typed.slice(offset, len(text))
            offset += len(text)
    return out  # type: ignore[return-value]  # every slot is filled above


def type_column(raw: pa.Array, column: Column, values: list[Any] | None = None) -> pa.Array:
    """`raw` (strings, JSON numbers or nulls) as the column's type.

    `values` are the cells as Python objects when the caller has them; without them,
    non-string cells are read through an Arrow cast to string.
    """
    target = column.arrow_type
    if raw.null_count == len(raw):
        return pa.nulls(len(raw), target)
    kind = column.type
    if kind == "string":
        return _blank_to_null(_as_strings(raw, values))
    if kind == "timestamp":
        return _timestamps(raw, values)
    if kind == "date":
        text = _blank_to_null(_as_strings(raw, values))
        return pc.cast(pc.utf8_slice_codeunits(text, 0, 10), pa.date32())
    if kind in ("int", "float"):
        return _numbers(raw, values, target)
    if kind == "decimal":
        return _decimals(raw, values)
    if kind == "bool":
        return _bools(raw.to_pylist() if values is None else values)
    raise ValueError(f"Unknown column type {kind!r}")


def _to_arrow(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed JSON types in one column (e.g. "12" and 12): compare them as text.
        return pa.array([None if v is None else _text(v) for v in values], pa.string())


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return ""  # nested maps have no place in a flat column
    return str(v)


def _as_strings(raw: pa.Array, values: list[Any] | None) -> pa.Array:
    if pa.types.is_string(raw.type):
        return raw
    if pa.types.is_large_string(raw.type):
        return raw.cast(pa.string())
    if pa.types.is_null(raw.type):
        return pa.nulls(len(raw), pa.string())
    if values is None:
        return raw.cast(pa.string())
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


def _blank_to_null(arr: pa.Array) -> pa.Array:
    # Empty or whitespace only; unlike trimming first, this copies no string data.
    blank = pc.or_(pc.equal(arr, av.EMPTY_STRING), pc.utf8_is_space(arr))
    if not pc.any(blank).as_py():
        return arr
    return pc.if_else(blank, av.null(arr.type), arr)


def _timestamps(raw: pa.Array, values: list[Any] | None) -> pa.Array:
    return _parse_timestamps(_blank_to_null(_as_strings(raw, values)))


def _parse_timestamps(text: pa.Array) -> pa.Array:
    """Text (blanks already null) as UTC timestamps."""
    fast = _twilio_dates(text)
    if fast is not None:
        return fast
    parsed = pc.strptime(text, format=RFC2822, unit="us", error_is_null=True)
    missed = pc.and_(pc.is_null(parsed), pc.is_valid(text))
    if pc.any(missed).as_py():
        # ISO 8601 (monitor API) or something odd: parse just those cells another way.
        fixed = av.int64s(
            [_epoch_us(_parse_instant(s)) if m else None
             for s, m in zip(text.to_pylist(), missed.to_pylist(), strict=True)]
        ).cast(TIMESTAMP)
        parsed = pc.if_else(missed, fixed, parsed.cast(TIMESTAMP))
    return parsed.cast(TIMESTAMP)


# Twilio's 2010 API writes every date one way: "Tue, 31 Aug 2010 20:36:28 +0000". Arrow's
# strptime with %a/%b/%z goes through the C library at ~1.5-1.9 ms per 1,000 cells (a Calls
# page has four such columns); cutting the fixed-width pieces into ISO text and casting it is
# faster. Any cell of another shape (another offset, ISO 8601) sends the column to strptime.
_TWILIO_DATE = r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$"
_MONTHS = av.strings(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                      "Nov", "Dec"])
_MONTH_NUMBERS = av.strings([f"{m:02d}" for m in range(1, 13)])
_DASH, _SPACE = av.string("-"), av.string(" ")


def _twilio_dates(text: pa.Array) -> pa.Array | None:
    """`text` (nulls allowed) as UTC timestamps, or None when a cell is not Twilio's format."""
    if not pc.all(pc.match_substring_regex(text, _TWILIO_DATE)).as_py():
        return None  # pc.all skips nulls; an all-null column never comes here

    def cut(start: int, stop: int) -> pa.Array:
        return pc.utf8_slice_codeunits(text, start, stop)

    month = pc.index_in(cut(8, 11), value_set=_MONTHS)
    if month.null_count != text.null_count:
        return None  # "Foo" for a month
    day = pc.binary_join_element_wise(cut(12, 16), pc.take(_MONTH_NUMBERS, month), cut(5, 7),
                                      _DASH)
    try:
        naive = pc.cast(pc.binary_join_element_wise(day, cut(17, 25), _SPACE), pa.timestamp("us"))
    except pa.ArrowInvalid:
        return None  # 31 Feb, 25:00, ...
    return naive.cast(TIMESTAMP)  # the cells said +0000


def _epoch_us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _parse_instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            try:
                moment = dateutil_parser.parse(text)
            except (ValueError, OverflowError):
                return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # Twilio's timestamps without offset are UTC
    return moment.astimezone(UTC)


def _numbers(raw: pa.Array, values: list[Any] | None, target: pa.DataType) -> pa.Array:
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        numeric = raw
    else:
        text = _blank_to_null(_as_strings(raw, values))
        try:
            numeric = pc.cast(text, target)
        except pa.ArrowInvalid:
            # "12.0" for an integer column, or stray text: go through float, junk -> null.
            numeric = pa.array([_float_or_none(s) for s in text.to_pylist()], pa.float64())
    if pa.types.is_integer(target) and pa.types.is_floating(numeric.type):
        numeric = pc.round(numeric)
    return numeric.cast(target, safe=False)


def _float_or_none(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _decimals(raw: pa.Array, values: list[Any] | None) -> pa.Array:
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        # JSON numbers (usage price): round to the column's 6 places first.
        return pc.round(raw.cast(pa.float64()), 6).cast(DECIMAL, safe=False)
    text = _blank_to_null(_as_strings(raw, values))
    try:
        return pc.cast(text, DECIMAL)
    except pa.ArrowInvalid:
        pass
    try:
        # More than 6 decimal places: parse wide, then round to the column's scale.
        wide = pc.cast(text, pa.decimal128(38, 18))
        return pc.round(wide, 6).cast(DECIMAL, safe=False)
    except pa.ArrowInvalid:
        floats = pa.array([_float_or_none(s) for s in text.to_pylist()], pa.float64())
        return pc.round(floats, 6).cast(DECIMAL, safe=False)


def _bools(values: list[Any]) -> pa.Array:
    def one(v: Any) -> bool | None:
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            return v
        return str(v).strip().lower() in ("true", "1", "yes")

    return pa.array([one(v) for v in values], pa.bool_())
