"""The pull that turns a saved DataSet into a new version: its twilio_reports PullRequest
(filters and the date window), the pull itself and the one Delta write it ends with."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from datacenter import tables
from datacenter.models import DataSet, EmptyResult, Version
from datacenter.refresh import fetch_record, refresh_for
from datacenter.selectors import credentials_for_account
from datacenter.staging import Staging, fingerprint
from twilio_reports.dates import DateBlock, resolve_window, today_in
from twilio_reports.definitions import REPORTS
from twilio_reports.describe import nothing_returned
from twilio_reports.service import PullConfig, PullRequest, PullStats, pull_slices

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


class PullSetupError(Exception):
    """The DataSet cannot be pulled as configured; the message is for the user."""


class NoRows(Exception):
    """Twilio returned nothing and the DataSet keeps its current version (EmptyResult.KEEP);
    the message says what was asked, for the run's History and Overview."""


def date_block_from(params: dict) -> DateBlock | None:
    raw = params.get("dates")
    if not raw:
        return None
    values = dict(raw)
    for key in ("report_date", "start_date", "end_date"):
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
        else:
            values[key] = None
    for key in ("days_back", "start_days_back", "end_days_back"):
        values[key] = int(values[key]) if values.get(key) not in (None, "") else None
    return DateBlock(**{k: v for k, v in values.items() if k in DateBlock.__dataclass_fields__})


def pull_request_for(
    dataset: DataSet, *, now: datetime | None = None
) -> PullRequest:
    """The request for a run starting at `now`: "today" is the DataSet's zone's today then,
    so a relative window rolls with the schedule."""
    report = REPORTS[dataset.report]
    filters = dict(dataset.params.get("filters", {}))
    window = None
    if report.takes_window(filters):
        block = date_block_from(dataset.params)
        if block is None:
            raise PullSetupError(f"{report.label} needs a date window: choose one in Edit.")
        today = today_in(dataset.time_zone, now or datetime.now(UTC))
        try:
            window = resolve_window(block, dataset.time_zone, today)
        except ValueError as exc:
            raise PullSetupError(str(exc)) from exc
    return PullRequest(report=dataset.report, params=filters, window=window, tz=dataset.time_zone)


def version_pull(
    *,
    dataset: DataSet,
    now: datetime | None = None,
    on_progress: Callable[[PullStats], None] | None = None,
    stats: PullStats | None = None,
) -> Version:
    """Pull the DataSet's report from Twilio and write it as exactly one new version.

    Raises (PullSetupError, TwilioError, ...) without writing anything when the pull fails:
    the current version stays. `stats` collects the pull's counters as it goes, so a caller
    keeps the pages and retries spent even when the pull fails.
    """
    from datacenter.services import version_record

    if dataset.account is None:
        raise PullSetupError(
            "This DataSet's Twilio account was deleted: choose an account in Edit."
        )
    report = REPORTS[dataset.report]
    uri = tables.table_uri(dataset.pk)
    mode = _align_table(uri, dataset)
    refresh = refresh_for(dataset, pull_request_for(dataset, now=now))
    request = refresh.request
    # Every pull of this Account SID, in every worker, shares the account's request slots.
    config = PullConfig.from_settings(max_in_flight=dataset.account.max_in_flight)
    # Finished slices are staged: a pull that dies half way resumes from them next time.
    staging = Staging(dataset.pk, fingerprint(request, dataset.account.account_sid),
                      report.arrow_schema())
    if stats is not None:  # progress counts what earlier attempts brought
        staged = len(staging.slices)
        stats.add(rows=staging.staged_rows, slices_total=staged, slices_done=staged)
    staging.absorb(pull_slices(request, credentials_for_account(dataset.account),
                               covered=staging.covered, on_progress=on_progress, stats=stats,
                               config=config))
    if not staging.staged_rows and dataset.on_empty == EmptyResult.KEEP and refresh.full:
        staging.discard()  # complete, and nothing in it: the next run asks Twilio again
        raise NoRows(f"{nothing_returned(request)} The current version was kept.")
    result = tables.write_version(
        uri, staging.batches(), report.arrow_schema(), mode=mode, merge_key=report.merge_key,
        window=refresh.keep if mode == "merge" else None,
        skip_existing=dataset.append_skip_existing and mode == "append",
    )
    version = version_record(dataset=dataset, result=result,
                             fetch=fetch_record(refresh, result))
    staging.discard()
    if dataset.full_refresh_requested:
        DataSet.objects.filter(pk=dataset.pk).update(full_refresh_requested=False)
    return version


def _align_table(uri: str, dataset: DataSet) -> str:
    """The write mode for this pull, after making the table's head the recorded version.

    A Delta commit whose Version row was never recorded (the database failed right after
    the write) must not leak into Append or Merge: such a table is first restored to the
    recorded version. With no recorded version yet there is nothing to add to: Replace.
    """
    current = dataset.current_version
    if current is None:
        return "replace"
    if tables.latest_version(uri) != current.delta_version:
        logger.warning("Table of DataSet %s is ahead of its recorded version", dataset.pk)
        tables.restore(uri, current.delta_version)
    return dataset.update_method
