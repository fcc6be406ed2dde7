"""Runs and schedules: request a run, execute it, dispatch due DataSets, reap dead runs.

Work is claimed with conditional UPDATEs (healthchecks' pattern) so two workers or two
dispatcher ticks can never do the same thing twice; the database's partial unique index
`run_one_active_per_dataset` is the last line of defence.
"""

import logging
import socket
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from datacenter import services as dc_services
from datacenter import tables
from datacenter.models import DataSet
from datacenter.pulls import PullSetupError, pull_request_for
from datacenter.selectors import credentials_for_account
from scheduler.models import ACTIVE_STATES, Run, RunState, RunTrigger, Schedule
from scheduler.recurrence import Rule, next_runs, to_rule
from twilio_reports.dates import today_in
from twilio_reports.definitions import REPORTS
from twilio_reports.service import PullStats, TwilioError, pull_batches

logger = logging.getLogger(__name__)


class RunAlreadyActive(Exception):
    """Run Now while a run is queued or running: nothing is queued."""


# --- Schedules -------------------------------------------------------------------------------


def schedule_save(
    *,
    dataset: DataSet,
    spec: dict,
    retry_enabled: bool = True,
    retry_every_minutes: int = 15,
    retry_max: int = 3,
    remind_after_hours: int | None = None,
    now: datetime | None = None,
) -> Schedule:
    """Store the Scheduling pane's choices and compute the next run."""
    now = now or timezone.now()
    # Cycles ("every 3 days") count from the day the schedule is saved, in its zone.
    rule = to_rule(spec, today=today_in(spec.get("tz") or "UTC", now))
    schedule, _ = Schedule.objects.update_or_create(
        dataset=dataset,
        defaults={
            "spec": spec,
            "rule": rule.to_dict() if rule else None,
            "next_run_at": _next_after(rule, now),
            "retry_enabled": retry_enabled,
            "retry_every_minutes": max(1, retry_every_minutes),
            "retry_max": retry_max,
            "remind_after_hours": remind_after_hours if rule is None else None,
            "retry_at": None,
            "retries_made": 0,
        },
    )
    return schedule


def _next_after(rule: Rule | None, now: datetime) -> datetime | None:
    if rule is None:
        return None
    upcoming = next_runs(rule, after=now, count=1)
    return upcoming[0] if upcoming else None


# --- Requesting runs -------------------------------------------------------------------------


def run_request(*, dataset: DataSet, trigger: str = RunTrigger.MANUAL) -> Run:
    """Queue a run unless one is already queued or running for this DataSet."""
    try:
        with transaction.atomic():
            run = Run.objects.create(dataset=dataset, trigger=trigger)
            DataSet.objects.filter(pk=dataset.pk).update(last_run=run)
    except IntegrityError as exc:
        raise RunAlreadyActive(f"{dataset.name} is already queued or running.") from exc
    _queue([run.pk])
    return run


def _queue(run_ids: Iterable[int]) -> None:
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


# --- Executing a run -------------------------------------------------------------------------


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
    request, warnings = pull_request_for(dataset, now=run.started_at)
    progress.stats.warnings.extend(warnings)
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
    if isinstance(exc, TwilioError | PullSetupError | ValueError):
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
    _after_failure(run, dataset, now)
    return run


def _after_failure(run: Run, dataset: DataSet, now: datetime) -> None:
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
    _notify_failure(dataset, run)


def _dataset_link(dataset: DataSet) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("dataset", args=[dataset.pk])


def _notify_failure(dataset: DataSet, run: Run) -> None:
    owner = dataset.owner
    if not owner.email:
        return
    send_mail(
        subject=f"DataSet “{dataset.name}” failed to update",
        message=(
            f"The scheduled update of “{dataset.name}” failed"
            f"{' after its retries' if run.trigger == RunTrigger.RETRY else ''}.\n\n"
            f"Error: {run.error}\n\nThe previous version is unchanged.\n"
            f"Open the DataSet: {_dataset_link(dataset)}\n"
        ),
        from_email=None,
        recipient_list=[owner.email],
    )


# --- Dispatcher -------------------------------------------------------------------------------

DISPATCH_BATCH = 500


def dispatch_due(*, now: datetime | None = None) -> int:
    """One dispatcher tick: claim due DataSets, advance their next run, queue their runs.

    Rows are claimed under `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL) or SQLite's
    single writer lock, and each claim advances `next_run_at`/clears `retry_at` in the same
    transaction, so a second tick racing this one never sees the same due row.
    """
    now = now or timezone.now()
    queued = 0
    while True:
        run_ids = _dispatch_batch(now)
        if not run_ids:
            break
        queued += len([r for r in run_ids if r])
    _send_reminders(now)
    return queued


def _dispatch_batch(now: datetime) -> list[int]:
    due = Q(next_run_at__lte=now) | Q(retry_at__lte=now)
    with transaction.atomic():
        schedules = list(
            Schedule.objects.select_for_update(skip_locked=True)
            .filter(due)
            .select_related("dataset")
            .order_by("next_run_at")[:DISPATCH_BATCH]
        )
        if not schedules:
            return []
        wanted: list[tuple[Schedule, str]] = []
        for s in schedules:
            trigger = RunTrigger.SCHEDULED
            if s.retry_at is not None and s.retry_at <= now:
                trigger = RunTrigger.RETRY
                s.retry_at = None
            if s.next_run_at is not None and s.next_run_at <= now:
                trigger = RunTrigger.SCHEDULED
                s.next_run_at = _next_after(Rule.from_dict(s.rule) if s.rule else None, now)
            wanted.append((s, trigger))
        _save_claims(schedules)
        busy = set(
            Run.objects.filter(
                dataset_id__in=[s.dataset_id for s in schedules], state__in=ACTIVE_STATES
            ).values_list("dataset_id", flat=True)
        )
        runs = Run.objects.bulk_create(
            [
                Run(dataset_id=s.dataset_id, trigger=trigger, queued_at=now)
                for s, trigger in wanted
                if s.dataset_id not in busy
            ]
        )
        DataSet.objects.filter(pk__in=[r.dataset_id for r in runs]).update(
            last_run=Subquery(
                Run.objects.filter(dataset=OuterRef("pk"), state__in=ACTIVE_STATES).values("pk")[:1]
            )
        )
        _queue([r.pk for r in runs])
    # Busy DataSets count as handled (their next run advanced); return one id per schedule.
    return [r.pk for r in runs] + [0] * (len(schedules) - len(runs))


def _save_claims(schedules: list[Schedule]) -> None:
    """One UPDATE per distinct (next_run_at, retry_at): a same-minute burst of thousands of
    DataSets shares a handful of values, and bulk_update's CASE per row is slow."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for s in schedules:
        groups[(s.next_run_at, s.retry_at)].append(s.pk)
    for (next_run_at, retry_at), pks in groups.items():
        Schedule.objects.filter(pk__in=pks).update(next_run_at=next_run_at, retry_at=retry_at)


def _send_reminders(now: datetime) -> None:
    """'Not updated for X' reminders for Manually scheduled DataSets, once per lapse."""
    candidates = Schedule.objects.filter(
        rule__isnull=True, remind_after_hours__isnull=False, reminded_at__isnull=True
    ).select_related("dataset__owner")
    for s in candidates:
        last = s.dataset.last_success_at or s.dataset.created
        if now - last < timedelta(hours=s.remind_after_hours):
            continue
        claimed = Schedule.objects.filter(pk=s.pk, reminded_at__isnull=True).update(reminded_at=now)
        if claimed and s.dataset.owner.email:
            send_mail(
                subject=f"DataSet “{s.dataset.name}” has not been updated",
                message=(
                    f"“{s.dataset.name}” has not been updated for {s.remind_after_hours} hours.\n"
                    f"Run it now: {_dataset_link(s.dataset)}\n"
                ),
                from_email=None,
                recipient_list=[s.dataset.owner.email],
            )


# --- Reaper ------------------------------------------------------------------------------------


def runs_reap_stale(*, now: datetime | None = None) -> int:
    """Fail runs whose worker died: running without a heartbeat for RUN_STALE_AFTER, or
    queued far longer than any broker outage we wait out."""
    now = now or timezone.now()
    stale_running = Run.objects.filter(
        state=RunState.RUNNING, heartbeat_at__lt=now - settings.RUN_STALE_AFTER
    )
    reaped = 0
    for run in stale_running.select_related("dataset"):
        done = Run.objects.filter(pk=run.pk, state=RunState.RUNNING).update(
            state=RunState.FAILED,
            finished_at=now,
            error=(
                "The worker running this pull stopped (killed or restarted) before it finished; "
                "no version was made and the previous version is unchanged."
            ),
        )
        if done:
            reaped += 1
            run.refresh_from_db()
            _after_failure(run, run.dataset, now)
    _requeue_lost(now)
    return reaped


REQUEUE_AFTER = timedelta(minutes=3)


def _requeue_lost(now: datetime) -> None:
    """Send again runs still queued long after they were sent: a broker restarted without
    persistence (Redis with no AOF) loses its messages. Claiming is conditional, so a
    duplicate message is harmless. `heartbeat_at` of a queued run is its last send."""
    lost = Run.objects.filter(state=RunState.QUEUED, queued_at__lt=now - REQUEUE_AFTER).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - REQUEUE_AFTER)
    )
    ids = list(lost.values_list("pk", flat=True)[:1000])
    if ids:
        Run.objects.filter(pk__in=ids, state=RunState.QUEUED).update(heartbeat_at=now)
        logger.warning("Sending %d queued run(s) again", len(ids))
        _queue(ids)
