"""Excel (.xlsx) download of one version, written with openpyxl's write-only writer.

The write-only workbook keeps one row in memory at a time (the sheet goes to a temporary
file as it is written), so memory stays flat whatever the version's size; the finished file is
then streamed. Excel holds at most 1,048,576 rows per sheet, the header included: a version
with more data rows than EXCEL_MAX_ROWS is refused with that reason (CSV has no limit).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from typing import IO, Any

from ._store import open_version

EXCEL_SHEET_ROWS = 1_048_576
EXCEL_MAX_ROWS = EXCEL_SHEET_ROWS - 1  # one row is the header


class TooManyRows(ValueError):
    """The version does not fit in one Excel sheet; the message says so in plain words."""


def _cell(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: UTC wall time, as the CSV's ISO times (which end in Z).
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def write_xlsx(uri: str, delta_version: int, *, sheet: str = "Data",
               max_rows: int = EXCEL_MAX_ROWS) -> IO[bytes]:
    """The version as an .xlsx file (a temporary file, positioned at its start)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    v = open_version(uri, delta_version)
    if v.total_rows > max_rows:
        raise TooManyRows(
            f"This version has {v.total_rows:,} rows; an Excel sheet holds at most "
            f"{max_rows:,} (1,048,576 with the header). Download the CSV instead."
        )
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31] or "Data")
    ws.append(v.schema.names)
    for f in range(len(v.paths)):
        parquet = v.parquet(f)
        for g in range(parquet.metadata.num_row_groups):
            table = parquet.read_row_group(g, use_threads=False)
            for batch in table.to_batches(max_chunksize=8192):
                columns = [c.to_pylist() for c in batch.columns]
                for values in zip(*columns, strict=True):
                    row = []
                    for value in values:
                        if isinstance(value, str) and value.startswith("="):
                            # Text, never a formula: openpyxl would store "=..." as one.
                            cell = WriteOnlyCell(ws, value=value)
                            cell.data_type = "s"
                            row.append(cell)
                        else:
                            row.append(_cell(value))
                    ws.append(row)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned
    book.save(out)
    out.seek(0)
    return out
