"""Rolling Parquet data files of one version, and the row shape they hold.

Data files are written by pyarrow's streaming ParquetWriter (one row group in memory at a
time); write.py commits them with a single Delta transaction.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake.transaction import AddAction

from ._store import filesystem

ROW_GROUP_ROWS = 8_192  # small groups keep a sorted page's random row reads cheap
FILE_ROWS = 262_144  # several files per version let reads and merges work file by file


def table_schema(schema: pa.Schema) -> pa.Schema:
    """Every column nullable: Twilio omits fields freely, and it keeps schemas comparable."""
    return pa.schema([pa.field(f.name, f.type, nullable=True) for f in schema])


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    return batch.select(schema.names).cast(schema)


@dataclass
class Files:
    """Rolling parquet files inside the table folder, all named after the version they make."""

    uri: str
    schema: pa.Schema
    version: int
    fs: pafs.FileSystem = field(init=False)
    root: str = field(init=False)
    adds: list[AddAction] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # full paths, for cleanup on failure
    _writer: pq.ParquetWriter | None = None
    _seq: int = 0
    group: int = 1  # 0 for rewritten old rows, 1 for new rows: old rows list first
    _name: str = ""
    _rows: int = 0
    _nulls: dict[str, int] = field(default_factory=dict)
    _tag: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        self.fs, self.root = filesystem(self.uri)

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}" if self.root else name

    def write(self, batch: pa.RecordBatch) -> None:
        while batch.num_rows:
            if self._writer is None:
                # Path order == row order: v<version>-<group><seq>-<tag> sorts chronologically.
                self._name = f"v{self.version:010d}-{self.group}{self._seq:05d}-{self._tag}.parquet"
                self._seq += 1
                self.written.append(self._path(self._name))
                self._writer = pq.ParquetWriter(
                    self._path(self._name),
                    self.schema,
                    filesystem=self.fs,
                    # LZ4 decodes ~1.5x faster than snappy at a similar size.
                    compression="lz4",
                    use_dictionary=_dictionary_columns(batch),
                    write_statistics=True,
                )
                self._rows, self._nulls = 0, dict.fromkeys(self.schema.names, 0)
            take = min(batch.num_rows, FILE_ROWS - self._rows)
            part = batch.slice(0, take)
            self._writer.write_batch(part, row_group_size=ROW_GROUP_ROWS)
            for name, col in zip(part.schema.names, part.columns, strict=True):
                self._nulls[name] += col.null_count
            self._rows += take
            batch = batch.slice(take)
            if self._rows >= FILE_ROWS:
                self._close()

    def _close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        size = self.fs.get_file_info(self._path(self._name)).size
        stats = {"numRecords": self._rows, "nullCount": self._nulls}
        self.adds.append(
            AddAction(self._name, size, {}, int(time.time() * 1000), True, json.dumps(stats))
        )

    def finish(self) -> list[AddAction]:
        self._close()
        return self.adds

    def discard(self) -> None:
        if self._writer is not None:
            # The half-written file is deleted just below; a close error changes nothing.
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        for path in self.written:
            # An orphan left behind is harmless: reclaim() removes it later.
            with contextlib.suppress(OSError):
                self.fs.delete_file(path)


def _dictionary_columns(sample: pa.RecordBatch) -> list[str]:
    """Columns worth dictionary encoding, judged on the file's first batch.

    Mostly-unique columns (sids, URIs, phone numbers) gain nothing from a dictionary and
    reading them back through one costs ~2x, so they are written plain.
    """
    names = []
    for name, col in zip(sample.schema.names, sample.columns, strict=True):
        valid = len(col) - col.null_count
        if not valid or pc.count_distinct(col).as_py() <= valid // 2:
            names.append(name)
    return names


def key_of(table: pa.Table | pa.RecordBatch, merge_key: tuple[str, ...]) -> pa.Array:
    """One comparable value per row; a null in any key part never matches (SQL semantics)."""
    parts = [pc.cast(table.column(k), pa.string()) for k in merge_key]
    if len(parts) == 1:
        key = parts[0]
    else:
        key = pc.binary_join_element_wise(*parts, "\x1f", null_handling="emit_null")
    return key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key
