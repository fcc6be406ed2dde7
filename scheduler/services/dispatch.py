"""The dispatcher: one tick claims due DataSets, advances their next run, queues their runs."""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scheduler.models import ACTIVE_STATES, Run, RunTrigger, Schedule
from scheduler.recurrence import Rule
from scheduler.services.notify import send_reminders
from scheduler.services.runs import queue_runs
from scheduler.services.schedules import next_after

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
    send_reminders(now)
    return queued


def _dispatch_batch(now: datetime) -> list[int]:
    # A DataSet whose account was deleted is paused: skipped (its next run stays due) until
    # an account is chosen in Edit, which sets the schedule again.
    due = (Q(next_run_at__lte=now) | Q(retry_at__lte=now)) & Q(dataset__account__isnull=False)
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
                s.next_run_at = next_after(Rule.from_dict(s.rule) if s.rule else None, now)
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
        queue_runs([r.pk for r in runs])
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
