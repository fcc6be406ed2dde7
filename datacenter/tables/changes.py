"""What an incremental merge did: rows new, changed (values differ) and removed.

Kept apart from write.py so the writer stays about files and commits. Used only for merges
with a Window, whose source (the lookback and the new days) is small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

# Past this many re-fetched rows "changed" is not counted (None): comparing holds both sides.
COMPARE_LIMIT = 500_000


@dataclass(frozen=True)
class Window:
    """An incremental merge: which old rows survive besides those the source replaces.

    Old rows are kept only when `column` is in [lo, hi) (epoch µs for timestamps, days since
    1970 for dates): the configured window's start up to where the fetch began. Rows that
    fell out of the window, and rows of the re-fetched range that Twilio no longer lists,
    go, so the version equals what a full pull of the window gives.
    """

    column: str
    lo: int
    hi: int
    # Where `lo` is checked when not on `column` (usage: a period kept while it ends on or
    # after the window's start and begins before the fetch's).
    lo_column: str | None = None


@dataclass
class MergeCounts:
    source_rows: int = 0
    updated: int = 0  # target keys the source replaced
    removed: int = 0  # target rows dropped by the window (not replaced)
    changed: int | None = None  # replaced rows whose values differ


def _numbers(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    if pa.types.is_date(col.type):
        return pc.cast(pc.cast(col, pa.date32()), pa.int32())
    return pc.cast(pc.cast(col, pa.timestamp("us", tz="UTC")), pa.int64())


def inside(table: pa.Table, window: Window) -> pa.Array:
    """Rows the window keeps (lo <= lo_column, column < hi); a null is never kept."""
    values = _numbers(table.column(window.column))
    starts = _numbers(table.column(window.lo_column)) if window.lo_column else values
    mask = pc.and_(pc.greater_equal(starts, window.lo), pc.less(values, window.hi))
    mask = pc.fill_null(mask, False)
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


class ChangeCounter:
    """Collects the old rows a merge replaces, then counts those the source changed."""

    def __init__(self, merge_key: tuple[str, ...], key: Callable[[pa.Table], pa.Array]) -> None:
        self.merge_key = merge_key
        self.key = key
        self.old: list[pa.Table] = []
        self.rows = 0

    def add_old(self, rows: pa.Table) -> None:
        self.rows += rows.num_rows
        if self.rows <= COMPARE_LIMIT:
            self.old.append(rows)

    def count(self, read_source: Callable[[], pa.Table], source_rows: int) -> int | None:
        if self.rows > COMPARE_LIMIT or source_rows > COMPARE_LIMIT:
            return None
        if not self.old:
            return 0
        old = pa.concat_tables(self.old)
        new = read_source()
        by_key = {k: i for i, k in enumerate(self.key(new).to_pylist())}
        new_rows = new.to_pylist()
        changed = 0
        for key, row in zip(self.key(old).to_pylist(), old.to_pylist(), strict=True):
            i = by_key.get(key)
            if i is not None and new_rows[i] != row:
                changed += 1
        return changed
