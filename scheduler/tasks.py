"""Celery tasks: thin, they take ids and call one service."""

from celery import shared_task
from django.conf import settings

from scheduler import services


@shared_task(
    acks_late=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def execute_run(run_id: int) -> None:
    services.run_execute(run_id=run_id)


@shared_task(soft_time_limit=50, time_limit=58)
def dispatch_due() -> int:
    return services.dispatch_due()


@shared_task(soft_time_limit=50, time_limit=58)
def reap_stale_runs() -> int:
    return services.runs_reap_stale()


@shared_task
def ping(token: str) -> None:
    """Proves a real worker executes what the configured broker carries (the broker tests)."""
    from scheduler.heartbeats import heartbeat_record

    heartbeat_record(name=f"ping:{token[:64]}", kind="worker")
