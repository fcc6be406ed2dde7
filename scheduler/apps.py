from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "scheduler"

    def ready(self) -> None:
        # Worker heartbeats: connects Celery's worker signals (see scheduler/heartbeats.py).
        from scheduler import heartbeats  # noqa: F401
