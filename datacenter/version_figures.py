"""Figures derived from one DataSet version, computed once and cached in Version.metrics.

Versions are immutable, so a sparkline, the charts and the headline numbers only change when
the DataSet's time zone does (day boundaries move) — every cache entry records the zone it was
computed in and is recomputed when it differs. Pages therefore never recompute on each view.
"""

import datetime as dt
import logging
from collections.abc import Sequence

from datacenter import metrics, tables
from datacenter.models import DataSet, Version
from twilio_reports.definitions import REPORTS

logger = logging.getLogger(__name__)

SPARK_KEY = "sparkline"
CHARTS_KEY = "charts"
HEADLINE_KEY = "headline"
# The DataSets tab shows the last month of daily rows; more would not fit 90 pixels.
SPARK_DAYS = 30


def day_column(report: str) -> str:
    """The timestamp a report's rows are dated by (the column its date window filters on)."""
    rdef = REPORTS.get(report)
    if rdef is not None and rdef.date_filter is not None:
        return rdef.date_filter.row_field
    return "date_created"


def _cached(version: Version, key: str, tz: str) -> dict | None:
    entry = (version.metrics or {}).get(key)
    if isinstance(entry, dict) and entry.get("tz") == tz:
        return entry
    return None


def _usable(version: Version | None) -> bool:
    return version is not None and version.reclaimed_at is None


def sparklines(datasets: Sequence[DataSet]) -> dict[int, list[int]]:
    """DataSet id -> daily row counts of its current version (last SPARK_DAYS days).

    Missing entries are computed here (once per version) and written back in a single UPDATE,
    so the DataSets tab stays at a constant number of queries however many rows it shows.
    """
    out: dict[int, list[int]] = {}
    missing: dict[Version, dict] = {}
    for dataset in datasets:
        version = dataset.current_version
        if not _usable(version):
            continue
        entry = _cached(version, SPARK_KEY, dataset.time_zone)
        if entry is None:
            entry = {"tz": dataset.time_zone, "counts": _daily_rows(dataset, version)}
            missing[version] = {SPARK_KEY: entry}
        out[dataset.pk] = list(entry["counts"])
    versions_metrics_merge(updates=missing)
    return out


def versions_metrics_merge(*, updates: dict[Version, dict]) -> None:
    """Cache figures derived from versions (immutable, so computed once) in Version.metrics.

    Keys are merged into what is already cached; all versions are written in one UPDATE so a
    page that fills several caches stays at a constant number of queries.
    """
    if not updates:
        return
    for version, values in updates.items():
        version.metrics = {**(version.metrics or {}), **values}
    Version.objects.bulk_update(list(updates), ["metrics"])


def _daily_rows(dataset: DataSet, version: Version) -> list[int]:
    column = day_column(dataset.report)
    try:
        table = tables.read_table(
            tables.table_uri(dataset.pk), version.delta_version, columns=[column]
        )
    except LookupError:
        # Files gone (retention raced us): no line rather than a broken list.
        return []
    counts = metrics.daily_counts(table, column, dataset.time_zone)
    return [n for _, n in counts[-SPARK_DAYS:]]


def charts(dataset: DataSet, version: Version) -> list["metrics.Chart"]:
    """The report's primary metrics for this version (computed on first view, then cached)."""
    entry = _cached(version, CHARTS_KEY, dataset.time_zone)
    if entry is None:
        table = _metric_columns(dataset, version)
        computed = metrics.compute_metrics(dataset.report, table, dataset.time_zone)
        entry = {"tz": dataset.time_zone, "json": metrics.charts_to_json(computed)}
        versions_metrics_merge(updates={version: {CHARTS_KEY: entry}})
    return metrics.charts_from_json(entry["json"])


def _metric_columns(dataset: DataSet, version: Version):
    """Only the columns the report's metrics read (7 of 26 for Calls): a fraction of the I/O."""
    wanted = metrics.columns_for(dataset.report)
    present = {name for name, _ in version.columns} if version.columns else None
    columns = (
        [c for c in wanted if present is None or c in present] if wanted is not None else None
    )
    return tables.read_table(tables.table_uri(dataset.pk), version.delta_version, columns=columns)


def headline(dataset: DataSet, version: Version, today: dt.date) -> list["metrics.Headline"]:
    """Last-7-days figures; cached per version and per day ("today" moves the window)."""
    entry = _cached(version, HEADLINE_KEY, dataset.time_zone)
    if entry is None or entry.get("today") != today.isoformat():
        table = _metric_columns(dataset, version)
        items = metrics.headline(dataset.report, table, dataset.time_zone, today)
        entry = {
            "tz": dataset.time_zone,
            "today": today.isoformat(),
            "items": [[h.label, _plain(h.value), h.unit] for h in items],
        }
        versions_metrics_merge(updates={version: {HEADLINE_KEY: entry}})
    return [metrics.Headline(label, value, unit) for label, value, unit in entry["items"]]


def _plain(value: object) -> int | float | None:
    """JSON-safe number: numpy scalars and Decimals become Python numbers."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int | float):
        return value
    item = getattr(value, "item", None)
    return item() if callable(item) else float(value)  # type: ignore[arg-type]


def time_column(report: str) -> str | None:
    """The report's time: the Data tab lists rows newest first by it, as Twilio does (the
    field its date window is checked against, else when the row was created)."""
    from twilio_reports.definitions import REPORTS

    rdef = REPORTS.get(report)
    if rdef is None:
        return None
    if rdef.date_filter is not None:
        return rdef.date_filter.row_field
    return "date_created" if "date_created" in rdef.column_names else None


def version_precompute(*, version_id: int) -> None:
    """Fill every per-version cache right after a version is recorded (in a worker), so the
    first page view reads results instead of scanning a million rows: the sparkline, the
    charts, and the column statistics (saved beside the table by `tables.describe`)."""
    version = (
        Version.objects.select_related("dataset", "dataset__current_version")
        .filter(pk=version_id, reclaimed_at__isnull=True)
        .first()
    )
    if version is None:
        return
    dataset = version.dataset
    try:
        tables.describe(tables.table_uri(dataset.pk), version.delta_version)
        tables.order_prepare(tables.table_uri(dataset.pk), version.delta_version,
                             time_column(dataset.report))
        charts(dataset, version)
        if dataset.current_version_id == version.pk:
            sparklines([dataset])
    except LookupError:
        logger.info("Version %s was reclaimed before its figures were computed", version_id)
