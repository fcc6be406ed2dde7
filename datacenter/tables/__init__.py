"""Versioned DataSet tables on Delta Lake: write, read, describe, export, restore, reclaim.

One DataSet = one Delta table; one DataSet version = one Delta version (time travel).
No Django models here: services call these functions with the table's URI.

The names below load with their submodule on first use (PEP 562): `from datacenter import
tables` costs nothing, so a view or a form can name this package without pulling deltalake
and pyarrow into a process that only serves a login page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twilio_reports.lean import lazy_attributes

if TYPE_CHECKING:
    from ._store import VersionUnavailable, filesystem, forget, latest_version, table_uri
    from .changes import Window
    from .excel import EXCEL_MAX_ROWS, TooManyRows, write_xlsx
    from .export import iter_csv
    from .query import FILTERABLE, FilterError, SortKey, order_prepare, read_view
    from .read import ColumnStats, Page, describe, read_page, read_table, version_schema
    from .write import WriteResult, reclaim, restore, write_version

_WHERE = {
    "VersionUnavailable": "_store", "filesystem": "_store", "forget": "_store",
    "latest_version": "_store", "table_uri": "_store",
    "Window": "changes",
    "iter_csv": "export",
    "EXCEL_MAX_ROWS": "excel", "TooManyRows": "excel", "write_xlsx": "excel",
    "FILTERABLE": "query", "FilterError": "query", "SortKey": "query",
    "order_prepare": "query", "read_view": "query",
    "ColumnStats": "read", "Page": "read", "describe": "read", "read_page": "read",
    "read_table": "read", "version_schema": "read",
    "WriteResult": "write", "reclaim": "write", "restore": "write", "write_version": "write",
}

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


__getattr__, __dir__ = lazy_attributes(__name__, {k: f".{v}" for k, v in _WHERE.items()})
