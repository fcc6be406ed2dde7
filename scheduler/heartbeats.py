"""Heartbeats of Celery workers and beat, read by the /status/ page.

Workers: a daemon thread started when the worker is ready writes its row every
HEARTBEAT_SECONDS. Beat: scheduler.beat.Scheduler records a row on every tick.
"""

import logging
import threading

from celery.signals import worker_ready, worker_shutdown
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 20
_stop = threading.Event()


def heartbeat_record(*, name: str, kind: str) -> None:
    from scheduler.models import Heartbeat

    Heartbeat.objects.update_or_create(
        name=name, defaults={"kind": kind, "seen_at": timezone.now()}
    )


def _beat_loop(name: str) -> None:
    while not _stop.is_set():
        try:
            close_old_connections()
            heartbeat_record(name=name, kind="worker")
        except Exception:  # the database may be restarting: try again next time
            logger.warning("Could not record the worker heartbeat", exc_info=True)
        _stop.wait(HEARTBEAT_SECONDS)


@worker_ready.connect
def _start_heartbeat(sender=None, **kwargs) -> None:
    name = getattr(sender, "hostname", None) or "worker"
    threading.Thread(target=_beat_loop, args=(name,), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    _stop.set()
