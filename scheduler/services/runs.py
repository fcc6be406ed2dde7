"""Requesting a run and executing it: datacenter.pulls.version_pull writes the version, this
module claims the run, records its outcome and applies the retry policy."""

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
from datacenter.broker import task_app
from datacenter.crypto import CredentialKeyError
from datacenter.models import DataSet, Version
from datacenter.pulls import NoRows, PullSetupError, version_pull
from scheduler.models import Run, RunState, RunTrigger, Schedule
from scheduler.services.notify import notify_failure
from twilio_reports.service import PullStats, TwilioError

logger = logging.getLogger(__name__)

RUN_EXECUTE_TASK = "scheduler.tasks.run_execute"


class RunAlreadyActive(Exception):
    """Run Now while a run is queued or running: nothing is queued."""


def run_request(*, dataset: DataSet, trigger: str = RunTrigger.MANUAL) -> Run:
    """Queue a run unless one is already queued or running for this DataSet."""
    try:
        with transaction.atomic():
            run = Run.objects.create(dataset=dataset, trigger=trigger)
    except IntegrityError as exc:
        raise RunAlreadyActive(f"{dataset.name} is already queued or running.") from exc
    queue_runs([run.pk])
    return run


def run_request_full(*, dataset: DataSet) -> Run:
    """"Refresh everything": the next run pulls the whole window, whatever the DataSet's
    incremental setting; the flag is cleared when a run has done so (datacenter.pulls)."""
    with transaction.atomic():
        DataSet.objects.filter(pk=dataset.pk).update(full_refresh_requested=True)
        return run_request(dataset=dataset)


def queue_runs(run_ids: Iterable[int]) -> None:
    """Publish the runs once the rows are committed, so a worker always finds them; one
    producer for the lot (a dispatcher tick may queue thousands)."""
    ids = list(run_ids)
    if ids:
        transaction.on_commit(lambda: _publish(ids))


def _publish(run_ids: list[int]) -> None:
    # By name: tasks call services, so services never import tasks (no import circle).
    app = task_app()  # Celery loads with the first run queued (datacenter/broker.py)
    with app.producer_or_acquire() as producer:
        for run_id in run_ids:
            app.send_task(RUN_EXECUTE_TASK, args=[run_id], producer=producer)


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
                slices_done=stats.slices_done,
                slices_total=stats.slices_total,
                accounts_done=stats.accounts_done,
                accounts_total=stats.accounts_total,
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
        # Done already, or a redelivery after a worker died mid-run: runs_reap_stale settles it.
        logger.info("Run %s is not queued any more; nothing to do", run_id)
        return None
    run = Run.objects.select_related("dataset__account").get(pk=run_id)
    dataset = run.dataset
    progress = _Progress(run.pk)
    try:
        version = version_pull(
            dataset=dataset,
            now=run.started_at,
            on_progress=progress,
            # The run's own counters: a pull that fails before its first progress report still
            # records the pages and retries it spent ("after 5 retries" with retries = 5).
            stats=progress.stats,
        )
        progress(progress.stats, force=True)
    except NoRows as exc:
        return _run_empty(run, dataset, progress.stats, str(exc))
    except Exception as exc:
        return _run_failed(run, dataset, progress.stats, _plain_error(exc, dataset))
    _run_succeeded(run, dataset, progress.stats, version)
    return run


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


def _run_succeeded(run: Run, dataset: DataSet, stats: PullStats, version: Version) -> None:
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


def _run_empty(run: Run, dataset: DataSet, stats: PullStats, warning: str) -> Run:
    """No rows and the DataSet keeps its version: not retried, shown as needing attention."""
    Run.objects.filter(pk=run.pk).update(
        state=RunState.EMPTY,
        finished_at=timezone.now(),
        pages=stats.pages,
        rows=0,
        retries=stats.retries,
        error=warning,  # what happened, in plain words, as for a failure
        warnings=list(stats.warnings),
    )
    Schedule.objects.filter(dataset=dataset).update(retries_made=0, retry_at=None)
    run.refresh_from_db()
    return run


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
