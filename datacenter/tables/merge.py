"""Merge: upsert the source on the report's key, file by file (and incremental windows).

Memory is bounded by the source's key column, not its rows: each target file is scanned on
its key columns and only files holding a row to drop are rewritten.
"""

from __future__ import annotations

import json
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.transaction import AddAction, RemoveAction

from ._store import open_version
from .changes import ChangeCounter, MergeCounts, Window
from .changes import inside as _inside
from .files import Files, key_of


def _last_occurrence(keys: pa.Array) -> pa.Array | None:
    """Mask keeping only the last row of each key (None when keys are already unique)."""
    if pc.count_distinct(keys, mode="only_valid").as_py() + keys.null_count == len(keys):
        return None
    idx = pa.table({"k": keys, "i": pa.array(range(len(keys)), pa.int64())})
    valid = idx.filter(pc.is_valid(idx["k"]))
    last = valid.group_by("k").aggregate([("i", "max")])["i_max"]
    keep = pc.is_in(idx["i"], value_set=last)
    return pc.or_(keep, pc.is_null(idx["k"])).combine_chunks()  # null keys never collide


def _rewrite_filtered(
    files: Files, source: pq.ParquetFile, keep: pa.Array, offset: int = 0
) -> int:
    """Copy `source` row group by row group keeping rows where `keep` is true."""
    kept = 0
    for g in range(source.num_row_groups):
        group = source.read_row_group(g)
        mask = keep.slice(offset, group.num_rows)
        offset += group.num_rows
        part = group.filter(mask)
        for batch in part.to_batches():
            files.write(batch)
        kept += part.num_rows
    return kept


def _dedupe_source(
    files: Files, adds: list[AddAction], keys: list[pa.Array]
) -> tuple[list[AddAction], pa.Array]:
    all_keys = pa.concat_arrays(keys) if keys else pa.array([], pa.string())
    keep = _last_occurrence(all_keys)
    if keep is None:
        return adds, all_keys
    # Rare (the API repeated a row): rewrite the staged files without earlier duplicates.
    staged = [(a, files._path(a.path)) for a in adds]
    files.adds = []
    offset = 0
    for add, path in staged:
        rows = json.loads(add.stats)["numRecords"]
        with files.fs.open_input_file(path) as f:
            _rewrite_filtered(files, pq.ParquetFile(f), keep, offset)
        offset += rows
        files.fs.delete_file(path)
        files.written.remove(path)
    return files.finish(), all_keys.filter(keep)


def merge_actions(
    dt: DeltaTable | None,
    files: Files,
    keys: list[pa.Array],
    merge_key: tuple[str, ...],
    window: Window | None = None,
) -> tuple[list[AddAction | RemoveAction], MergeCounts]:
    """Upsert: drop target rows whose key is in the source (and, with a window, those
    outside it), then add all source rows.

    Memory is bounded by the source's key column, not its rows: each target file is scanned
    on its key columns and only files holding a row to drop are rewritten (row group by
    row group), the others are kept untouched.
    """
    source_adds, source_keys = _dedupe_source(files, list(files.adds), keys)
    counts = MergeCounts(source_rows=sum(json.loads(a.stats)["numRecords"] for a in source_adds))
    if dt is None:
        return list(source_adds), counts
    value_set = pc.unique(source_keys.drop_null())
    current = open_version(dt.table_uri, dt.version())
    now = int(time.time() * 1000)
    removes: list[RemoveAction] = []
    matched_keys: list[pa.Array] = []
    rewrite_from = len(files.adds)
    files.group = 0
    compare = ChangeCounter(merge_key, lambda t: key_of(t, merge_key)) if window else None
    for i, path in enumerate(current.paths):
        pf = current.parquet(i)
        extra = [window.column, window.lo_column] if window else []
        columns = list(dict.fromkeys([*merge_key, *(c for c in extra if c)]))
        scanned = pf.read(columns=columns)
        target_keys = key_of(scanned, merge_key)
        hit = pc.is_in(target_keys, value_set=value_set)
        drop = hit if window is None else pc.or_(hit, pc.invert(_inside(scanned, window)))
        if not pc.any(drop).as_py():
            continue
        matched_keys.append(target_keys.filter(hit))
        counts.removed += pc.sum(pc.and_not(drop, hit)).as_py() or 0
        if compare is not None:
            compare.add_old(pf.read().filter(hit))
        _rewrite_filtered(files, pf, pc.invert(drop))
        rel = path[len(files.root) + 1 :] if files.root else path
        removes.append(RemoveAction(rel, True, now, current.sizes[i], {}))
    files.finish()
    rewritten = files.adds[rewrite_from:]
    # Counted on distinct keys: a target holding a key twice (after appends) is one update.
    counts.updated = len(pc.unique(pa.concat_arrays(matched_keys))) if matched_keys else 0
    if compare is not None:
        counts.changed = compare.count(lambda: _read_files(files, source_adds),
                                       counts.source_rows)
    return [*source_adds, *rewritten, *removes], counts


def _read_files(files: Files, adds: list[AddAction]) -> pa.Table:
    parts = []
    for add in adds:
        with files.fs.open_input_file(files._path(add.path)) as f:
            parts.append(pq.read_table(f))
    return pa.concat_tables(parts) if parts else files.schema.empty_table()


def existing_keys(dt: DeltaTable, merge_key: tuple[str, ...]) -> pa.Array:
    """The distinct keys of the table's current version (read on the key columns only)."""
    current = open_version(dt.table_uri, dt.version())
    keys = [key_of(current.parquet(i).read(columns=list(merge_key)), merge_key)
            for i in range(len(current.paths))]
    return pc.unique(pa.concat_arrays(keys)) if keys else pa.array([], pa.string())
