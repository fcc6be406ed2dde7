"""Celery beat's scheduler, recording each tick for the /status/ page.

Started as `celery -A connector_site beat -S scheduler.beat:Scheduler`.
"""

import logging
import socket
import time

from celery.beat import PersistentScheduler
from django.db import close_old_connections

from scheduler.heartbeats import heartbeat_record

logger = logging.getLogger(__name__)


class Scheduler(PersistentScheduler):
    _last_record = 0.0

    def tick(self, *args, **kwargs):
        wait = super().tick(*args, **kwargs)
        now = time.monotonic()
        if now - self._last_record >= 15:
            try:
                close_old_connections()
                heartbeat_record(name=f"beat@{socket.gethostname()}", kind="beat")
                self._last_record = now
            except Exception:  # a database outage must not stop beat from sending ticks
                logger.warning("Could not record the beat tick", exc_info=True)
        # Wake at least every 30 s so the recorded tick stays fresh.
        return min(wait, 30.0)
