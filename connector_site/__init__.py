import os

# Arrow's jemalloc pool hands freed memory back to the system; its default (mimalloc) keeps
# ~100 MB resident after a large pull. Must be set before pyarrow is first imported, which is
# why it lives here: every process (web, worker, beat, commands) imports this package first.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
# And right away rather than after jemalloc's default 1 s decay: a pull frees page buffers
# continuously, and the worker's peak RSS is what limits how many run side by side.
os.environ.setdefault("JE_ARROW_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

# The Celery app (connector_site/celery.py) loads when a process needs it, not with Django:
# `celery -A connector_site` imports it (worker, beat), and code that queues a task gets it
# through settings.CONNECTOR_CELERY_APP (datacenter/broker.py). A process that never queues
# a task (`manage.py check`, the twilio_report CLI, a web process serving pages) never loads
# Celery (~20 MB).


def __getattr__(name: str) -> object:
    if name == "celery_app":
        from .celery import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ("celery_app",)
