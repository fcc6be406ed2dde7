"""What a run fetches: the DataSet's whole window, or only what is new or changed.

An incremental Merge DataSet asks Twilio for [the last fetched day - lookback, the window's
end today] and merges it by the report's key. Old rows are kept only between the window's
start and where the fetch began (tables.Window): rows that fell out of the window go, and
so do rows of the re-fetched days that Twilio no longer lists, so the new version equals
what a full pull of the window gives. Twilio keeps changing a call's status, duration and
price, and a message's status and price, for hours to days after it was created; the
lookback (3 days by default) re-reads that stretch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from datacenter import tables
from datacenter.models import DataSet, UpdateMethod
from twilio_reports.dates import day_bounds_utc
from twilio_reports.definitions import REPORTS
from twilio_reports.plan import PullRequest, epoch_us

_EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class Refresh:
    request: PullRequest  # what is asked of Twilio
    full: bool  # the whole configured window (or no window at all)
    keep: tables.Window | None  # old rows kept by an incremental merge


def refresh_for(dataset: DataSet, request: PullRequest) -> Refresh:
    """The fetch for a run whose full request is `request`."""
    whole = Refresh(request, full=True, keep=None)
    current = dataset.current_version
    rdef = REPORTS[dataset.report]
    if not (dataset.incremental and dataset.update_method == UpdateMethod.MERGE
            and not dataset.full_refresh_requested and request.window is not None
            and rdef.date_filter is not None and current is not None
            and current.fetched_to is not None):
        return whole  # Accounts have no cursor; the first run backfills the window
    first, last = request.window
    start = max(first, current.fetched_to - timedelta(days=dataset.lookback_days))
    if start <= first or start > last:
        return whole  # nothing to keep, or the window moved past what was fetched
    keep = _kept_old_rows(rdef.date_filter.style, rdef.date_filter.row_field, first, start,
                          request.tz)
    return Refresh(replace(request, window=(start, last)), full=False, keep=keep)


def _kept_old_rows(style: str, field: str, first: date, start: date, tz: str) -> tables.Window:
    if style == "usage":
        # A usage record is kept while its period overlaps [first, start): it ends on or
        # after `first` and begins before `start`.
        return tables.Window("start_date", lo=(first - _EPOCH_DAY).days,
                             hi=(start - _EPOCH_DAY).days, lo_column="end_date")
    lo = day_bounds_utc(first, first, tz)[0]
    hi = day_bounds_utc(start, start, tz)[0]
    return tables.Window(field, lo=epoch_us(lo), hi=epoch_us(hi))


def fetch_record(refresh: Refresh, result: tables.WriteResult) -> dict[str, object]:
    """Version fields describing the fetch (Version.fetched_from ... rows_removed)."""
    window = refresh.request.window
    incremental = refresh.keep is not None
    return {
        "fetched_from": window[0] if window else None,
        "fetched_to": window[1] if window else None,
        "full_pull": refresh.full,
        "rows_new": result.added_rows if incremental else None,
        "rows_changed": result.changed_rows if incremental else None,
        "rows_removed": result.removed_rows if incremental else None,
    }
