"""The Celery app that queues tasks, loaded on the first task queued.

The site names it (settings.CONNECTOR_CELERY_APP, a layer above this one); importing it
here, when a task is sent, keeps Celery out of every process that never sends one.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


def task_app() -> Any:
    path = getattr(settings, "CONNECTOR_CELERY_APP", "")
    if path:
        return import_string(path)
    from celery import current_app

    return current_app
