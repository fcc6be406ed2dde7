"""Rendered list pages kept by the sandbox, so a warmed server answers without spending CPU.

Twilio's servers do not share the client's cores. On a 2-core machine a sandbox that builds
and encodes a 1,000-row Calls page (~35 ms of Python) for every request is the slowest part
of any pull, and the client under test is measured against the server's CPU rather than
its own. With `--page-cache-mb N` (off by default) a page's bytes are kept after the first
request asked for it: the world is fixed once built (its `now` does not move), so the same
query gets the same bytes. Faults, latency and the in-flight cap still apply to every
request; the cache only skips building and encoding the body. The benchmark turns it on for
every contestant alike (bench/README.md).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

MB = 2**20


class PageCache:
    def __init__(self, limit_mb: int) -> None:
        self.limit = limit_mb * MB
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        if not self.limit:
            return None
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: bytes) -> None:
        if not self.limit or len(page) > self.limit:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            self._bytes += len(page) - (len(old) if old is not None else 0)
            self._pages[key] = page
            while self._bytes > self.limit:  # least recently used first
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped)
