"""A Series: n items of one kind for one account, generated from their index.

Item 0 is the newest; timestamps never increase with the index, so a time filter is an
index range found by bisection and a million calls cost nothing until they are rendered.
Every random choice of item j comes from one keyed BLAKE2b digest of j, which makes the
data independent of generation order (any page can be rendered first) and of the thread.
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from hashlib import blake2b
from typing import Any

from .timefmt import DAY


class Series(ABC):
    prefix = "XX"  # SID prefix

    def __init__(self, *, seed: int, kind: str, account_index: int, n: int,
                 window_start: int, window_end: int) -> None:
        self.n = n
        self.window_start = window_start  # first second covered
        self.window_end = window_end  # one past the last second covered
        self._span = window_end - window_start
        self._key = f"{seed}:{kind}:{account_index}".encode()
        # False: the newest items may still be live (ringing, queued) or unrated. True: time
        # has passed and they settled, as Twilio's records change after they are created
        # (SandboxWorld.settle, the `settled` knob).
        self.settled = False

    def digest(self, j: int) -> bytes:
        return blake2b(j.to_bytes(8, "little"), digest_size=32, key=self._key).digest()

    def sid(self, j: int) -> str:
        return self.prefix + self.digest(j)[:16].hex()

    def ts_from(self, j: int, d: bytes) -> int:
        # Slot j of n equal slots counted back from the window end, jittered inside the
        # slot: strictly ordered slots keep the sequence monotone.
        jitter = int.from_bytes(d[16:20], "little")  # 0 .. 2**32-1
        back = ((j << 32) + jitter) * self._span // (self.n << 32)
        return self.window_end - 1 - back

    def ts(self, j: int) -> int:
        return self.ts_from(j, self.digest(j))

    def index_range(self, lo_ts: int | None, hi_ts: int | None) -> tuple[int, int]:
        """Indices [lo, hi) of the items with lo_ts <= ts <= hi_ts (bounds inclusive)."""
        rng = range(self.n)
        lo, hi = 0, self.n
        if hi_ts is not None:  # skip the newer items: first index at or before hi_ts
            lo = bisect.bisect_left(rng, True, key=lambda j: self.ts(j) <= hi_ts)
        if lo_ts is not None:  # stop at the first index older than lo_ts
            hi = bisect.bisect_left(rng, True, key=lambda j: self.ts(j) < lo_ts)
        return lo, max(lo, hi)

    @abstractmethod
    def record(self, j: int) -> dict[str, Any]:
        """Item j in wire format, exactly as the API returns it."""

    def __len__(self) -> int:
        return self.n


def pick(weights: tuple[tuple[str, int], ...], byte: int) -> str:
    """Weighted choice driven by one digest byte; weights sum to 256."""
    for value, weight in weights:
        if byte < weight:
            return value
        byte -= weight
    return weights[-1][0]


def u16(d: bytes, at: int) -> int:
    return d[at] | (d[at + 1] << 8)


def days_window(today_start: int, days: int) -> tuple[int, int]:
    """[start, end) seconds of the `days` UTC days ending with today."""
    return today_start - (days - 1) * DAY, today_start + DAY
