"""One request budget per Twilio account, shared by every pull that uses it.

Twilio limits the requests in flight per account (error 20429 past it). Several DataSets
of one account refreshing at once, in several worker processes or machines, must share one
cap instead of each assuming the whole of it:

- `LocalBudget`: threads of one process (tests, a single CLI pull).
- `FileBudget`: every process of one machine (the embedded defaults). A slot is an
  exclusive `flock` on one of N files per account; the kernel drops the lock when its
  process dies, so a killed worker never keeps a slot.
- `RedisBudget`: every process on every machine sharing a Redis. A slot is a member of a
  sorted set scored with the time it was taken; a slot older than its lease is taken back,
  so a worker that died holding one frees it after the lease.

Each is used as `with budget.slot(account_sid, limit): <one request>`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

POLL_SECONDS = 0.005  # between tries for a slot held by another process


class Budget(Protocol):
    def slot(self, account: str, limit: int) -> Any:
        """A context manager holding one of `limit` request slots of `account`."""


class LocalBudget:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sems: dict[tuple[str, int], threading.Semaphore] = {}

    @contextmanager
    def slot(self, account: str, limit: int) -> Iterator[None]:
        with self._lock:
            sem = self._sems.setdefault((account, limit), threading.Semaphore(limit))
        with sem:
            yield


class FileBudget:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Threads of this process take turns on the files too (flock is per open file, so
        # two threads of one process would each get their own lock on the same file).
        self._local = LocalBudget()

    @contextmanager
    def slot(self, account: str, limit: int) -> Iterator[None]:
        name = hashlib.sha256(account.encode()).hexdigest()[:24]
        with self._local.slot(account, limit):
            fd = self._take(name, limit)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _take(self, name: str, limit: int) -> int:
        start = hash(threading.get_ident()) % limit  # spread first tries over the slots
        while True:
            for i in range(limit):
                path = self.folder / f"{name}.{(start + i) % limit}"
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    os.close(fd)
            time.sleep(POLL_SECONDS)


# Atomic take: drop slots older than the lease, then add ours if fewer than limit remain.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 1)
  return 1
end
return 0
"""


class RedisBudget:
    def __init__(self, url: str, *, lease_seconds: float = 120.0) -> None:
        import redis  # only processes configured for Redis load it

        self._redis = redis.Redis.from_url(url)
        self._take = self._redis.register_script(_TAKE)
        # Longer than any one request can take (read timeout + a retry's wait).
        self.lease = lease_seconds

    @contextmanager
    def slot(self, account: str, limit: int) -> Iterator[None]:
        key = f"twilio:budget:{account}"
        token = uuid.uuid4().hex
        while not self._take(keys=[key], args=[self.lease, limit, token]):
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            self._redis.zrem(key, token)


LOCAL = LocalBudget()
_shared: dict[str, Budget] = {}
_shared_lock = threading.Lock()


def budget_for(url: str) -> Budget:
    """`redis://...` -> RedisBudget, a folder -> FileBudget, "" -> this process only.
    One object per URL and process, so every pull of the process shares it."""
    if not url:
        return LOCAL
    with _shared_lock:
        found = _shared.get(url)
        if found is None:
            found = (RedisBudget(url) if url.startswith(("redis://", "rediss://"))
                     else FileBudget(url))
            _shared[url] = found
        return found
