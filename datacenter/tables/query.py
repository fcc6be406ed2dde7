"""The Data tab's view of one version: filtered by column values, sorted by several columns,
searched, and by default newest first by the report's time column.

The default order costs (almost) nothing at read time: the permutation "newest first" is
computed once per version (right after the run, by the version's precompute task) and saved
beside the table as `_order/v<N>-<column>.npy`; a first page then loads it (8 MB for 1M rows,
a few ms) and reads only the row groups of its 50 rows. Rows without a time come last.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from ._store import Version, cached, open_version, type_str
from .read import Page, _columns, _search_mask, take_rows

FILTERABLE = ("string", "int", "float", "decimal", "bool", "date")


class FilterError(ValueError):
    """A filter value that cannot be compared with its column; the message is for the user."""


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False


def _order_path(v: Version, column: str) -> str:
    name = f"_order/v{v.version:010d}-{column}.npy"
    return f"{v.root}/{name}" if v.root else name


def _load_order(v: Version, column: str) -> pa.Array | None:
    try:
        with v.fs.open_input_stream(_order_path(v, column)) as f:
            data = np.load(io.BytesIO(f.read()), allow_pickle=False)
    except (OSError, ValueError):
        return None
    return pa.array(data) if len(data) == v.total_rows else None


def _save_order(v: Version, column: str, order: pa.Array) -> None:
    path = _order_path(v, column)
    buf = io.BytesIO()
    np.save(buf, order.to_numpy(zero_copy_only=False).astype(np.int64), allow_pickle=False)
    with contextlib.suppress(OSError):  # a cache: failing to save only costs a recompute
        if isinstance(v.fs, pafs.LocalFileSystem):
            v.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with v.fs.open_output_stream(path) as f:
            f.write(buf.getvalue())


def _newest_first(v: Version, column: str) -> pa.Array:
    def build() -> pa.Array:
        found = _load_order(v, column)
        if found is not None:
            return found
        values = _columns(v, [column])
        order = pc.sort_indices(values, sort_keys=[(column, "descending", "at_end")])
        _save_order(v, column, order)
        return order

    return cached((v.uri, v.version, "newest", column), build)


def order_prepare(uri: str, delta_version: int, column: str | None) -> None:
    """Compute and save the default order of a new version (its precompute task)."""
    v = open_version(uri, delta_version)
    if column and column in v.schema.names and v.total_rows:
        _newest_first(v, column)


def _sort_order(v: Version, keys: Sequence[SortKey]) -> pa.Array:
    names = [k.column for k in keys]

    def build() -> pa.Array:
        table = _columns(v, list(dict.fromkeys(names)))
        # Stable: ties keep write order, so pages never overlap.
        return pc.sort_indices(
            table, sort_keys=[(k.column, "descending" if k.descending else "ascending", "at_end")
                              for k in keys])

    return cached((v.uri, v.version, "sort", tuple(keys)), build)


def _typed(value: str, t: pa.DataType) -> pa.Scalar:
    kind = type_str(t)
    text = value.strip()
    try:
        if kind == "string":
            return pa.scalar(value, t)
        if kind == "int":
            return pa.scalar(int(text), t)
        if kind == "float":
            return pa.scalar(float(text), t)
        if kind == "decimal":
            return pa.scalar(Decimal(text), t)
        if kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError
            return pa.scalar(text.lower() == "true", t)
        if kind == "date":
            return pa.scalar(date.fromisoformat(text), t)
    except (ValueError, InvalidOperation, ArithmeticError, pa.ArrowInvalid) as exc:
        article = "an" if kind[:1] in "aeiou" else "a"
        raise FilterError(f"“{value[:40]}” is not {article} {kind} value.") from exc
    raise FilterError(f"Columns of type {kind} cannot be filtered by value.")


def _filter_mask(v: Version, filters: Sequence[tuple[str, str]]) -> pa.ChunkedArray:
    key = tuple(sorted(filters))

    def build() -> pa.ChunkedArray:
        mask = None
        for column, value in key:
            col = _columns(v, [column]).column(0)
            hit = pc.fill_null(pc.equal(col, _typed(value, v.schema.field(column).type)), False)
            mask = hit if mask is None else pc.and_(mask, hit)
        return mask

    return cached((v.uri, v.version, "filter", key), build)


def read_view(
    uri: str,
    delta_version: int,
    *,
    offset: int = 0,
    limit: int = 50,
    sort: Sequence[SortKey] = (),
    filters: Sequence[tuple[str, str]] = (),
    search: str | None = None,
    newest_by: str | None = None,
) -> Page:
    """One page of the version. Without a sort, rows come newest first by `newest_by`
    (when the version has that column), else in write order."""
    v = open_version(uri, delta_version)
    for name in [k.column for k in sort] + [c for c, _ in filters]:
        if name not in v.schema.names:
            raise ValueError(f"unknown column {name!r}")
    offset, limit = max(0, int(offset)), max(0, int(limit))
    order: pa.Array | None = None
    if sort:
        order = _sort_order(v, sort)
    elif newest_by and newest_by in v.schema.names and v.total_rows:
        order = _newest_first(v, newest_by)
    masks = []
    if filters:
        masks.append(_filter_mask(v, filters))
    needle = (search or "").strip()
    if needle:
        masks.append(_search_mask(v, needle))
    if masks:
        mask = masks[0] if len(masks) == 1 else pc.and_(*masks)
        order = pc.indices_nonzero(mask) if order is None else order.filter(pc.take(mask, order))
    if order is None:
        total = v.total_rows
        index = np.arange(min(offset, total), min(offset + limit, total))
    else:
        total = len(order)
        index = order.slice(offset, limit).to_numpy()
    table = take_rows(v, index)
    rows = (list(zip(*(c.to_pylist() for c in table.columns), strict=True))
            if table.num_columns else [])
    return Page(v.fields(), rows, total)
