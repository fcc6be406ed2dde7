"""Primary metrics of a DataSet version as JSON-ready charts (pure pandas/pyarrow, no Django).

compute_metrics(report, table, tz) -> list[Chart]
headline(report, table, tz, today) -> list[Headline]
daily_counts(table, ts_column, tz) -> list[(date, count)]
charts_to_json(charts) -> str / charts_from_json(text) -> list[Chart]
"""

from .api import columns_for, compute_metrics, headline
from .charts import (
    Chart,
    ChartTable,
    Headline,
    Series,
    charts_from_json,
    charts_to_json,
    charts_to_jsonable,
)
from .counts import daily_counts

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
