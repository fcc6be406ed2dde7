from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "scheduler"

    # Worker heartbeats (scheduler/heartbeats.py) connect Celery's worker signals; the
    # Celery app imports them (connector_site/celery.py), so only its processes load Celery.
