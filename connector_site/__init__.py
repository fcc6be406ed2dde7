import ctypes
import os

from twilio_reports.lean import cores

# Every process (web, worker, beat, commands) imports this package before pyarrow, which is
# why the allocator is chosen here. Arrow allocates from the C library's malloc ("system"),
# tuned below, rather than its bundled allocators: a pull frees ~5 MB of page bodies, parser
# scratch and typed columns per page, and measured on a 237k-call pull (bench/README.md,
# "Where memory goes"), mimalloc kept 330-400 MB resident, jemalloc with its default 1 s decay
# ~220 MB, and jemalloc returning memory at once (decay 0) kept ~175 MB but spent 40% of the
# pull's CPU in the kernel purging and re-faulting pages.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
_M_ARENA_MAX = -8


def _tune_malloc() -> None:
    """Allocations of 256 KB or more (page bodies, typed columns, batches) are mapped and
    unmapped on free, so they never strand memory inside an arena; glibc would otherwise
    raise that threshold after the first free and keep freed bodies (its default kept ~200 MB
    for ~30 MB live). A higher threshold (1 MB) saves a little CPU and costs ~5 MB.
    At most one arena per core: Arrow's parser threads run one per core at most, and each
    extra arena keeps its own freed memory. An operator's own MALLOC_* settings win."""
    if any(k.startswith("MALLOC_") for k in os.environ) or "GLIBC_TUNABLES" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return  # not glibc (macOS, musl): its defaults
    mallopt(_M_MMAP_THRESHOLD, 256 << 10)
    mallopt(_M_ARENA_MAX, cores())


_tune_malloc()

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
