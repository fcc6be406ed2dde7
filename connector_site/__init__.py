import os

# Arrow's jemalloc pool hands freed memory back to the system; its default (mimalloc) keeps
# ~100 MB resident after a large pull. Must be set before pyarrow is first imported, which is
# why it lives here: every process (web, worker, beat, commands) imports this package first.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
# And right away rather than after jemalloc's default 1 s decay: a pull frees page buffers
# continuously, and the worker's peak RSS is what limits how many run side by side.
os.environ.setdefault("JE_ARROW_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

# Importing the Celery app here makes `@shared_task` bind to it whenever Django starts
# (web, worker, beat, management commands), the layout cookiecutter-django uses.
from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
