"""Celery tasks: thin, they take ids and call the service of the same name.

Services are imported inside each task's body (HackSoft's rule): services queue tasks, so a
module-level import here would close an import circle.
"""

from celery import shared_task
from django.conf import settings


@shared_task(
    acks_late=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def run_execute(run_id: int) -> None:
    from scheduler.services.runs import run_execute

    run_execute(run_id=run_id)


@shared_task(soft_time_limit=50, time_limit=58)
def dispatch_due() -> int:
    from scheduler.services.dispatch import dispatch_due

    return dispatch_due()


@shared_task(soft_time_limit=50, time_limit=58)
def runs_reap_stale() -> int:
    from scheduler.services.reap import runs_reap_stale

    return runs_reap_stale()


@shared_task
def ping(token: str) -> None:
    """Proves a real worker executes what the configured broker carries (the broker tests)."""
    from scheduler.heartbeats import heartbeat_record

    heartbeat_record(name=f"ping:{token[:64]}", kind="worker")
