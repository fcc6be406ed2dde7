"""Slice pairs: one request can serve one more day when the server reads `X<=D` as that day.

Twilio documents a date-only upper bound as *before* that day ("started before this date",
"at or before midnight") and the real API was seen to read it so: `StartTime>=D&
StartTime<=D` is empty. So every one-day slice asks `X>=D&X<=D+1`. A server that reads
`<=D+1` as the whole of D+1 then answers with two days, and a naive pull would fetch every
day twice. Slices are paired (a lead ending with day D, its tail starting with day D+1):
leads run first; when a lead's rows show day D+1 beyond its first instant (proof that this
server includes the whole bound day) the lead claims that day and the tail starts a day
later (a one-day tail never runs). Otherwise the tail runs and owns its first day. Who
owns a day is decided once, under a lock, so no row is kept twice and none is lost
whatever the reading or the order the server lists rows in.
Rows at exactly D+1 00:00:00 (which the "at or before midnight" reading also returns) are
held back by the lead until ownership is decided.
"""

from __future__ import annotations

import threading
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


class Owner(Enum):
    OPEN = "open"
    LEAD = "lead"
    TAIL = "tail"


class DayClaim:
    """Who keeps the tail's rows [lo, hi) (epoch µs), shared by a lead and its tail."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.owner = Owner.OPEN
        self._lock = threading.Lock()
        # Set once the lead has seen its first page (or ended): the tail decides after it.
        self.lead_started = threading.Event()
        self._held: list[pa.RecordBatch] = []

    def lead_offer(self, rows: pa.RecordBatch, beyond_first_instant: bool
                   ) -> list[pa.RecordBatch]:
        """The lead met `rows` of the tail's day: the batches it may keep now."""
        with self._lock:
            if self.owner is Owner.OPEN and beyond_first_instant:
                self.owner = Owner.LEAD
            if self.owner is Owner.LEAD:
                out, self._held = [*self._held, rows], []
                return [b for b in out if b.num_rows]
            if self.owner is Owner.OPEN and rows.num_rows:
                self._held.append(rows)  # rows at the first instant only: wait
            return []

    def lead_owns(self) -> bool:
        with self._lock:
            return self.owner is Owner.LEAD

    def tail_claims(self) -> bool:
        """The tail asks to fetch its day; False when the lead already owns it."""
        with self._lock:
            if self.owner is Owner.LEAD:
                return False
            self.owner = Owner.TAIL
            self._held = []
            return True
