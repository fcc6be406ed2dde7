"""The Celery application: one per process, configured from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connector_site.settings")

app = Celery("connector_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Worker heartbeats: Celery's worker signals, connected in the processes that run Celery.
import scheduler.heartbeats  # noqa: E402, F401


@worker_init.connect
def refuse_without_working_keys(sender=None, **_: object) -> None:
    """A worker whose CREDENTIAL_KEYS cannot decrypt the stored secrets would fail every run
    with a key error: it refuses to start instead, with the reason."""
    from connector_site.startup import credential_keys_refusal

    refusal = credential_keys_refusal()
    if refusal:
        # SystemExit, not an exception: Celery logs and swallows exceptions of signal handlers.
        raise SystemExit(refusal)
