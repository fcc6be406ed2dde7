"""Fault injection and the per-account concurrency cap.

Every API request draws exactly two numbers from one seeded RNG, whatever the knobs say,
so a given sequence of requests meets the same faults on every run; POST /_sandbox/knobs
reseeds it so a test can start a reproducible sequence from a known point.

The in-flight counts live in this process (`LocalInFlight`) unless the app is given a
`SharedInFlight`, made before `os.fork`, so that the cap holds across the processes of
`serve_processes` (server.py). The knobs and the RNG stay per process.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from .config import SandboxConfig


class InFlight(Protocol):
    def acquire(self, account_sid: str, cap: int | None) -> bool: ...
    def release(self, account_sid: str) -> None: ...
    def count(self, account_sid: str) -> int: ...


class LocalInFlight:
    """Per-account in-flight counts of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = defaultdict(int)

    def acquire(self, account_sid: str, cap: int | None) -> bool:
        with self._lock:
            if cap is not None and self._counts[account_sid] >= cap:
                return False
            self._counts[account_sid] += 1
            return True

    def release(self, account_sid: str) -> None:
        with self._lock:
            self._counts[account_sid] -= 1

    def count(self, account_sid: str) -> int:
        with self._lock:
            return self._counts[account_sid]


class SharedInFlight:
    """Per-account in-flight counts in shared memory: make it before `os.fork` and every
    process sees (and caps) the same counts. The accounts are fixed up front."""

    def __init__(self, account_sids: Iterable[str]) -> None:
        self._slot = {sid: i for i, sid in enumerate(account_sids)}
        self._counts = multiprocessing.Array("i", len(self._slot), lock=True)

    def acquire(self, account_sid: str, cap: int | None) -> bool:
        i = self._slot[account_sid]
        with self._counts.get_lock():
            if cap is not None and self._counts[i] >= cap:
                return False
            self._counts[i] += 1
            return True

    def release(self, account_sid: str) -> None:
        i = self._slot[account_sid]
        with self._counts.get_lock():
            self._counts[i] -= 1

    def count(self, account_sid: str) -> int:
        i = self._slot[account_sid]
        with self._counts.get_lock():
            return int(self._counts[i])


class Faults:
    def __init__(self, config: SandboxConfig, in_flight: InFlight | None = None) -> None:
        self.config = config
        self.shutdown = threading.Event()  # ends stalls and sleeps when the server stops
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._in_flight: InFlight = in_flight or LocalInFlight()
        # What clients did to the cap (this process): the most requests in flight seen per
        # account, and how many were refused with 429 for exceeding it.
        self.peak: dict[str, int] = defaultdict(int)
        self.over_cap = 0

    def reseed(self) -> None:
        with self._lock:
            self._rng = random.Random(self.config.seed)

    def acquire(self, account_sid: str) -> bool:
        """Count a request in flight for the account; False if that exceeds the cap."""
        if not self._in_flight.acquire(account_sid, self.config.max_in_flight_per_account):
            with self._lock:
                self.over_cap += 1
            return False
        now = self._in_flight.count(account_sid)
        with self._lock:
            self.peak[account_sid] = max(self.peak[account_sid], now)
        return True

    def reset_counts(self) -> None:
        with self._lock:
            self.peak.clear()
            self.over_cap = 0

    def release(self, account_sid: str) -> None:
        self._in_flight.release(account_sid)

    def in_flight(self, account_sid: str) -> int:
        return self._in_flight.count(account_sid)

    def take_stall(self) -> bool:
        with self._lock:
            if self.config.stall_next > 0:
                self.config.stall_next -= 1
                return True
            return False

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            self.shutdown.wait(seconds)

    def draw(self) -> str | None:
        """None, or one of: 429, 429-retry-after, 500, 503, truncate, reset."""
        c = self.config
        with self._lock:
            u, v = self._rng.random(), self._rng.random()
        edge = c.rate_429
        if u < edge:
            return "429-retry-after" if v < c.retry_after_share else "429"
        edge += c.rate_5xx
        if u < edge:
            return "503" if v < 0.5 else "500"
        edge += c.truncate_rate
        if u < edge:
            return "truncate"
        edge += c.reset_rate
        if u < edge:
            return "reset"
        return None
