"""The knobs of a pull (PullConfig, RetryPolicy) and its running counts (PullStats)."""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from twilio_reports.budget import Budget, budget_for

if TYPE_CHECKING:  # httpx loads with the client (client.py), not with the settings
    import httpx

DEFAULT_MAX_PAGES = 100_000
DEFAULT_MAX_IN_FLIGHT = 8


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5  # 5xx, timeouts, resets, broken bodies
    max_429_retries: int = 1000  # 20429 is always safe to retry; bounded only to never hang
    base_delay: float = 0.5
    max_delay: float = 30.0
    # Multiplies every delay, Retry-After included: tests run with a tiny scale.
    scale: float = 1.0

    def delay(self, attempt: int, retry_after: str | None = None,
              rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        hinted = parse_retry_after(retry_after)
        if hinted is not None:
            return min(hinted, self.max_delay) * self.scale
        # Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(n-1))].
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng() * ceiling * self.scale


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class PullConfig:
    """Knobs of a pull. Defaults come from Django settings when they are configured."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    page_size: int = 1000
    max_pages: int = DEFAULT_MAX_PAGES
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT  # per account
    max_workers: int = 32
    days_per_slice: int = 1
    # Typed pages buffered between fetch threads and the consumer (~0.4 MB each for Calls).
    queue_pages: int = 16
    # Bodies read and decoded at once (client.py: TwilioClient.get); None: one per core.
    bodies_at_once: int | None = None
    progress_interval: float = 0.25  # seconds between on_progress calls
    sleep: Callable[[float], None] | None = None  # None: an interruptible wait
    # What "now" is for Twilio's retention limits (Alerts: 30 days). None: the real time; a
    # test of a sandbox set on a past day passes that day's now.
    clock: Callable[[], datetime] | None = None
    transport: httpx.BaseTransport | None = None  # None: the network (tests pass a mock)
    # Shared by every pull of the same account (budget.py); None: this process only.
    budget: Budget | None = field(default=None, compare=False)

    @classmethod
    def from_settings(cls, **overrides: Any) -> PullConfig:
        values: dict[str, Any] = {}
        try:
            from django.conf import settings

            if settings.configured:
                values["max_in_flight"] = int(
                    getattr(settings, "TWILIO_MAX_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT))
                values["max_pages"] = int(getattr(settings, "TWILIO_MAX_PAGES", DEFAULT_MAX_PAGES))
                # Timeouts and backoff are settings too, so tests (and a real worker started by
                # them) can run fault scenarios in seconds instead of minutes.
                for name, key in (("connect_timeout", "TWILIO_CONNECT_TIMEOUT"),
                                  ("read_timeout", "TWILIO_READ_TIMEOUT")):
                    if getattr(settings, key, None) is not None:
                        values[name] = float(getattr(settings, key))
                values["budget"] = budget_for(str(getattr(settings, "TWILIO_BUDGET_URL", "")))
                scale = getattr(settings, "TWILIO_RETRY_SCALE", None)
                if scale is not None:
                    values["retry"] = RetryPolicy(scale=float(scale))
        except ImportError:
            pass
        values.update(overrides)
        return cls(**values)


@dataclass
class PullStats:
    pages: int = 0
    rows: int = 0
    retries: int = 0
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    # Accounts of the pull, and those whose every slice has ended (progress on 1,000
    # subaccounts reads "120 of 1,001 accounts").
    accounts_total: int = 0
    accounts_done: int = 0
    # Slices of the pull (a resumed pull counts those staged by earlier attempts as done).
    slices_total: int = 0
    slices_done: int = 0
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, pages: int = 0, rows: int = 0, retries: int = 0, requests: int = 0,
            accounts_done: int = 0, slices_total: int = 0, slices_done: int = 0) -> None:
        with self._lock:
            self.pages += pages
            self.rows += rows
            self.retries += retries
            self.requests += requests
            self.accounts_done += accounts_done
            self.slices_total += slices_total
            self.slices_done += slices_done

    def set_accounts(self, *, total: int) -> None:
        with self._lock:
            self.accounts_total = total

    def warn(self, message: str) -> None:
        with self._lock:
            if message not in self.warnings:
                self.warnings.append(message)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
