"""Primary metrics of a DataSet version as JSON-ready charts (pure pandas/pyarrow, no Django).

compute_metrics(report, table, tz) -> list[Chart]
headline(report, table, tz, today) -> list[Headline]
daily_counts(table, ts_column, tz) -> list[(date, count)]
charts_to_json(charts) -> str / charts_from_json(text) -> list[Chart]

The chart classes and their JSON (`charts`) are light; the computations (`api`, `counts`)
load pandas, numpy and pyarrow, so they load on first use (PEP 562): a page that shows
cached charts never imports pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twilio_reports.lean import lazy_attributes

from .charts import (
    Chart,
    ChartTable,
    Headline,
    Series,
    charts_from_json,
    charts_to_json,
    charts_to_jsonable,
)

if TYPE_CHECKING:
    from .api import columns_for, compute_metrics, headline
    from .counts import daily_counts

_HEAVY = {"columns_for": "api", "compute_metrics": "api", "headline": "api",
          "daily_counts": "counts"}

__all__ = [
    "Chart",
    "ChartTable",
    "Headline",
    "Series",
    "charts_from_json",
    "charts_to_json",
    "charts_to_jsonable",
    "columns_for",
    "compute_metrics",
    "daily_counts",
    "headline",
]


__getattr__, __dir__ = lazy_attributes(__name__, {k: f".{v}" for k, v in _HEAVY.items()})
