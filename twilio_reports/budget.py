"""One request budget per Twilio account, shared by every pull that uses it.

Twilio limits the requests in flight per account (error 20429 past it). Several DataSets
of one account refreshing at once, in several worker processes or machines, must share one
cap instead of each assuming the whole of it:

- `LocalBudget`: threads of one process (tests, a single CLI pull).
- `FileBudget`: every process of one machine (the embedded defaults). A slot is an
  exclusive `flock` on one of N files per account; the kernel drops the lock when its
  process dies, so a killed worker never keeps a slot.
- `RedisBudget`: every process on every machine sharing a Redis. A slot is a member of a
  sorted set scored with the time it was last renewed; the holder's process renews its
  slots every third of the lease, however long a request takes, and a slot not renewed
  for a whole lease is taken back, so a worker that died holding one frees it within the
  lease (30 s).

Each is used as `with budget.slot(account_sid, limit): <one request>`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
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

    @contextlib.contextmanager
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

    @contextlib.contextmanager
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

# Renew the given slots that are still held (XX: a slot already given back stays gone).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now, ARGV[i])
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 1)
return 0
"""


class RedisBudget:
    def __init__(self, url: str, *, lease_seconds: float = 30.0) -> None:
        import redis  # only processes configured for Redis load it

        self._redis = redis.Redis.from_url(url)
        self._take = self._redis.register_script(_TAKE)
        self._renew = self._redis.register_script(_RENEW)
        self.lease = lease_seconds
        self._held: dict[str, str] = {}  # token -> key, the slots this process holds
        self._held_lock = threading.Lock()
        self._renewer: threading.Thread | None = None

    @contextlib.contextmanager
    def slot(self, account: str, limit: int) -> Iterator[None]:
        key = f"twilio:budget:{account}"
        token = uuid.uuid4().hex
        while not self._take(keys=[key], args=[self.lease, limit, token]):
            time.sleep(POLL_SECONDS)
        with self._held_lock:
            self._held[token] = key
            if self._renewer is None or not self._renewer.is_alive():  # none yet, or forked
                self._renewer = threading.Thread(target=self._renew_forever, daemon=True,
                                                 name="twilio-budget-renew")
                self._renewer.start()
        try:
            yield
        finally:
            with self._held_lock:
                self._held.pop(token, None)
            self._redis.zrem(key, token)

    def _renew_forever(self) -> None:
        import redis

        while True:
            time.sleep(self.lease / 3)
            with self._held_lock:
                by_key: dict[str, list[str]] = {}
                for token, key in self._held.items():
                    by_key.setdefault(key, []).append(token)
            for key, tokens in by_key.items():
                # A failed renewal is tried again in a third of a lease; the slot lasts three.
                with contextlib.suppress(redis.RedisError):
                    self._renew(keys=[key], args=[self.lease, *tokens])


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
