"""Requesting a run and executing it: pull the report, write exactly one new version."""

import logging
import socket
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from datacenter import services as dc_services
from datacenter import tables
from datacenter.crypto import CredentialKeyError
from datacenter.models import DataSet
from datacenter.pulls import PullSetupError, pull_request_for
from datacenter.selectors import credentials_for_account
from scheduler.models import Run, RunState, RunTrigger, Schedule
from scheduler.services.notify import notify_failure
from twilio_reports.definitions import REPORTS
from twilio_reports.service import PullStats, TwilioError, pull_batches

logger = logging.getLogger(__name__)


class RunAlreadyActive(Exception):
    """Run Now while a run is queued or running: nothing is queued."""


def run_request(*, dataset: DataSet, trigger: str = RunTrigger.MANUAL) -> Run:
    """Queue a run unless one is already queued or running for this DataSet."""
    try:
        with transaction.atomic():
            run = Run.objects.create(dataset=dataset, trigger=trigger)
            DataSet.objects.filter(pk=dataset.pk).update(last_run=run)
    except IntegrityError as exc:
        raise RunAlreadyActive(f"{dataset.name} is already queued or running.") from exc
    queue_runs([run.pk])
    return run


def queue_runs(run_ids: Iterable[int]) -> None:
    """Publish the runs once the rows are committed, so a worker always finds them; one
    producer for the lot (a dispatcher tick may queue thousands)."""
    ids = list(run_ids)
    if ids:
        transaction.on_commit(lambda: _publish(ids))


def _publish(run_ids: list[int]) -> None:
    from scheduler.tasks import execute_run

    with execute_run.app.producer_or_acquire() as producer:
        for run_id in run_ids:
            execute_run.apply_async(args=[run_id], producer=producer)


class _Progress:
    """Writes the run's counters at most once a second: the Overview tab polls them."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.last = 0.0
        self.stats = PullStats()

    def __call__(self, stats: PullStats, force: bool = False) -> None:
        self.stats = stats
        now = time.monotonic()
        if force or now - self.last >= 1.0:
            self.last = now
            Run.objects.filter(pk=self.run_id, state=RunState.RUNNING).update(
                pages=stats.pages,
                rows=stats.rows,
                retries=stats.retries,
                warnings=list(stats.warnings),
                heartbeat_at=timezone.now(),
            )


def run_execute(*, run_id: int) -> Run | None:
    """Pull the report and write exactly one new version; or fail and keep the current one."""
    now = timezone.now()
    claimed = Run.objects.filter(pk=run_id, state=RunState.QUEUED).update(
        state=RunState.RUNNING, started_at=now, heartbeat_at=now, worker=socket.gethostname()
    )
    if not claimed:
        # Done already, or a redelivery after a worker died mid-run: the reaper settles it.
        logger.info("Run %s is not queued any more; nothing to do", run_id)
        return None
    run = Run.objects.select_related("dataset__account").get(pk=run_id)
    dataset = run.dataset
    progress = _Progress(run.pk)
    try:
        version = _pull_into_new_version(run, dataset, progress)
    except Exception as exc:
        return _run_failed(run, dataset, progress.stats, _plain_error(exc, dataset))
    _run_succeeded(run, dataset, progress.stats, version)
    return run


def _pull_into_new_version(run: Run, dataset: DataSet, progress: _Progress):
    if dataset.account is None:
        raise PullSetupError(
            "This DataSet's Twilio account was deleted: choose an account in Edit."
        )
    report = REPORTS[dataset.report]
    request = pull_request_for(dataset, now=run.started_at)
    uri = tables.table_uri(dataset.pk)
    mode = _align_table(uri, dataset)
    batches = pull_batches(
        request,
        credentials_for_account(dataset.account),
        on_progress=progress,
        # The run's own counters: a pull that fails before its first progress report still
        # records the pages and retries it spent ("after 5 retries" with retries = 5).
        stats=progress.stats,
    )
    result = tables.write_version(
        uri,
        batches,
        report.arrow_schema(),
        mode=mode,
        merge_key=report.merge_key,
    )
    progress(progress.stats, force=True)
    return dc_services.version_record(dataset=dataset, result=result, run=run)


def _align_table(uri: str, dataset: DataSet) -> str:
    """The write mode for this run, after making the table's head the recorded version.

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


def _plain_error(exc: Exception, dataset: DataSet) -> str:
    # CredentialKeyError: "this account's secret cannot be decrypted with the configured
    # CREDENTIAL_KEYS", in those words, rather than "Unexpected error".
    if isinstance(exc, TwilioError | PullSetupError | ValueError | CredentialKeyError):
        return str(exc)
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, SoftTimeLimitExceeded):
        return "The pull took longer than the time limit and was stopped; no version was made."
    logger.exception("Run of DataSet %s failed unexpectedly", dataset.pk)
    return (
        f"Unexpected error ({type(exc).__name__}); no version was made. "
        "Details are in the worker log."
    )


def _run_succeeded(run: Run, dataset: DataSet, stats: PullStats, version) -> None:
    Run.objects.filter(pk=run.pk).update(
        state=RunState.SUCCEEDED,
        finished_at=timezone.now(),
        version=version,
        pages=stats.pages,
        rows=stats.rows,
        retries=stats.retries,
        warnings=list(stats.warnings),
    )
    Schedule.objects.filter(dataset=dataset).update(retries_made=0, retry_at=None, reminded_at=None)
    dc_services.versions_reclaim(dataset=dataset, keep=settings.DATASET_KEEP_VERSIONS)


def _run_failed(run: Run, dataset: DataSet, stats: PullStats, error: str) -> Run:
    now = timezone.now()
    Run.objects.filter(pk=run.pk).update(
        state=RunState.FAILED,
        finished_at=now,
        error=error,
        pages=stats.pages,
        rows=stats.rows,
        retries=stats.retries,
        warnings=list(stats.warnings),
    )
    run.refresh_from_db()
    after_failure(run, dataset, now)
    return run


def after_failure(run: Run, dataset: DataSet, now: datetime) -> None:
    """Retry policy: scheduled runs retry every N minutes at most M times, then e-mail once."""
    if run.trigger == RunTrigger.MANUAL:
        return
    schedule = Schedule.objects.filter(dataset=dataset).first()
    if schedule is None:
        return
    if schedule.retry_enabled and schedule.retries_made < schedule.retry_max:
        Schedule.objects.filter(pk=schedule.pk).update(
            retry_at=now + timedelta(minutes=schedule.retry_every_minutes),
            retries_made=F("retries_made") + 1,
        )
        return
    Schedule.objects.filter(pk=schedule.pk).update(retry_at=None, retries_made=0)
    notify_failure(dataset, run)
