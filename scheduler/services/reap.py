"""runs_reap_stale: fail runs whose worker died, send again runs a broker lost."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from datacenter.staging import staging_reclaim
from scheduler.models import ACTIVE_STATES, Run, RunState
from scheduler.services.runs import after_failure, queue_runs

logger = logging.getLogger(__name__)


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
                "no version was made and the previous version is unchanged. The next attempt "
                "reuses the slices it had finished."
            ),
        )
        if done:
            reaped += 1
            run.refresh_from_db()
            after_failure(run, run.dataset, now)
    _requeue_lost(now)
    # Staged slices of pulls nobody came back for (older than two days), never of an
    # active run's DataSet.
    active = set(Run.objects.filter(state__in=ACTIVE_STATES).values_list("dataset_id", flat=True))
    staging_reclaim(keep=active)
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
        queue_runs(ids)
