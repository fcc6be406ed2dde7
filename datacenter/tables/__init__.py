"""Versioned DataSet tables on Delta Lake: write, read, describe, export, restore, reclaim.

One DataSet = one Delta table; one DataSet version = one Delta version (time travel).
No Django models here: services call these functions with the table's URI.
"""

from ._store import VersionUnavailable, filesystem, forget, latest_version, table_uri
from .changes import Window
from .excel import EXCEL_MAX_ROWS, TooManyRows, write_xlsx
from .export import iter_csv
from .query import FILTERABLE, FilterError, SortKey, order_prepare, read_view
from .read import ColumnStats, Page, describe, read_page, read_table, version_schema
from .write import WriteResult, reclaim, restore, write_version

__all__ = [
    "EXCEL_MAX_ROWS",
    "FILTERABLE",
    "FilterError",
    "SortKey",
    "TooManyRows",
    "order_prepare",
    "read_view",
    "write_xlsx",
    "ColumnStats",
    "Page",
    "VersionUnavailable",
    "Window",
    "WriteResult",
    "describe",
    "filesystem",
    "forget",
    "iter_csv",
    "latest_version",
    "read_page",
    "read_table",
    "reclaim",
    "restore",
    "table_uri",
    "version_schema",
    "write_version",
]
