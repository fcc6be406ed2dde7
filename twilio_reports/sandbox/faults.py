"""Fault injection and the per-account concurrency cap.

Every API request draws exactly two numbers from one seeded RNG, whatever the knobs say,
so a given sequence of requests meets the same faults on every run; POST /_sandbox/knobs
reseeds it so a test can start a reproducible sequence from a known point.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict

from .config import SandboxConfig


class Faults:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.shutdown = threading.Event()  # ends stalls and sleeps when the server stops
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._in_flight: dict[str, int] = defaultdict(int)

    def reseed(self) -> None:
        with self._lock:
            self._rng = random.Random(self.config.seed)

    def acquire(self, account_sid: str) -> bool:
        """Count a request in flight for the account; False if that exceeds the cap."""
        cap = self.config.max_in_flight_per_account
        with self._lock:
            if cap is not None and self._in_flight[account_sid] >= cap:
                return False
            self._in_flight[account_sid] += 1
            return True

    def release(self, account_sid: str) -> None:
        with self._lock:
            self._in_flight[account_sid] -= 1

    def in_flight(self, account_sid: str) -> int:
        with self._lock:
            return self._in_flight[account_sid]

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
