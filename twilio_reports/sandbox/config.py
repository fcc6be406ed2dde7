"""SandboxConfig: the data volumes (fixed when a world is built) and the fault knobs
(read live on every request, so tests may change them on a running app)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

# Knobs that may change while the app runs (POST /_sandbox/knobs, or app.config.x = ...).
FAULT_KNOBS: tuple[str, ...] = (
    "latency_ms",
    "max_in_flight_per_account",
    "rate_429",
    "retry_after_share",
    "rate_5xx",
    "stall_next",
    "stall_seconds",
    "truncate_rate",
    "reset_rate",
    "date_upper",
    "settled",
)

# How a date-only upper bound (`StartTime<=2026-11-11`) is read. Twilio's API description
# says "before this date" / "at or before midnight of this date" and the real API was seen
# to exclude the day itself ("before", the default); "midnight" includes the instant
# 00:00:00 of that day; "whole-day" includes the whole day (the reading some look-alikes
# and older docs use). Clients must get the same rows under each.
DATE_UPPER_READINGS: tuple[str, ...] = ("before", "midnight", "whole-day")


@dataclass
class SandboxConfig:
    seed: int = 7
    today: date | None = None  # UTC day the data ends on; None = today's UTC date
    calls: int = 3000  # across all accounts, over the last `days` days
    # Days of calls, messages, conferences, notifications and alerts (usage: 400 always).
    days: int = 30
    messages: int = 3000
    alerts: int = 300  # raise above ~20,000 to hit the 10,000-result cap on the main account
    conferences: int | None = None  # None = calls // 25
    notifications: int | None = None  # None = calls // 20
    # Extra subaccounts beyond the fixed three (accounts.crowd): a few calls a day each,
    # every `busy_every`-th one busy. Their volumes add to `calls` and `messages`.
    subaccounts: int = 0
    busy_every: int = 100
    latency_ms: float = 0
    max_in_flight_per_account: int | None = None
    rate_429: float = 0.0
    retry_after_share: float = 0.5
    rate_5xx: float = 0.0
    stall_next: int = 0
    stall_seconds: float = 30.0
    truncate_rate: float = 0.0
    reset_rate: float = 0.0
    date_upper: str = "before"
    # True: the newest records have settled (SandboxWorld.settle); flip it to make records
    # change after a client read them.
    settled: bool = False
    # The instant the data ends (epoch seconds); None = the moment the world is built, so
    # nothing is dated in the future. Fixed once per world so forked processes agree.
    now: int | None = None
    # Keep rendered pages up to this many MB (sandbox/page_cache.py); 0 = render every time.
    page_cache_mb: int = 0

    def knobs(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FAULT_KNOBS}

    def set_knobs(self, values: dict[str, Any]) -> None:
        """Apply fault knobs from a JSON body; unknown or non-fault names raise ValueError
        so a typo in a test does not silently leave the sandbox healthy."""
        types = {f.name: f.type for f in fields(self)}
        for name, value in values.items():
            if name not in FAULT_KNOBS:
                allowed = ", ".join(FAULT_KNOBS)
                raise ValueError(f"{name!r} is not a fault knob (allowed: {allowed})")
            if name == "settled":
                if not isinstance(value, bool):
                    raise ValueError("settled must be true or false")
            elif name == "date_upper":
                if value not in DATE_UPPER_READINGS:
                    raise ValueError(f"date_upper must be one of {', '.join(DATE_UPPER_READINGS)}")
            elif value is None:
                if name != "max_in_flight_per_account":
                    raise ValueError(f"{name} cannot be null")
            elif "int" in str(types[name]) and name in ("stall_next", "max_in_flight_per_account"):
                value = int(value)
            else:
                value = float(value)
            setattr(self, name, value)
