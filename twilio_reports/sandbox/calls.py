"""Calls: parent and child legs, every direction and status, generated from the index."""

from __future__ import annotations

from hashlib import blake2b
from typing import Any, NamedTuple

from .accounts import Account
from .phones import POOL_SIZE, customer_pool, formatted, is_endpoint
from .series import Series, pick, u16
from .timefmt import rfc2822

API = "2010-04-01"
FINAL_STATUSES = (("completed", 176), ("no-answer", 26), ("busy", 18), ("failed", 12),
                  ("canceled", 24))
CHILD_STATUSES = (("completed", 190), ("no-answer", 30), ("busy", 20), ("failed", 16))
LIVE_STATUSES = (("queued", 30), ("ringing", 60), ("in-progress", 166))
# Calls that were never dialled have no start_time/end_time on Twilio: still queued or
# ringing, or canceled (through the API) before they were dialled. A StartTime filter never
# matches them; an unfiltered list shows them.
NEVER_STARTED = ("queued", "ringing", "canceled")
RECENT = 2 * 3600  # calls this close to the window end may still be live or unrated
# Per-minute rates in 1e-5 currency units (prices are kept as integers to sum exactly).
RATE_INBOUND, RATE_OUTBOUND, RATE_ENDPOINT = 850, 1400, 400
# (key, path suffix) of each call's subresource_uris, precomputed: it is a hot path.
_SUBRESOURCES = tuple((name, f"/{path}.json") for name, path in (
    ("notifications", "Notifications"), ("recordings", "Recordings"), ("payments", "Payments"),
    ("events", "Events"), ("siprec", "Siprec"), ("streams", "Streams"),
    ("transcriptions", "Transcriptions"),
    ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
    ("user_defined_messages", "UserDefinedMessages")))


class CallCore(NamedTuple):
    ts: int
    direction: str
    status: str
    from_: str
    to: str
    number_index: int  # which of the account's numbers the call used
    duration: int | None
    price: int | None  # cost in 1e-5 units (positive); None = not rated yet
    parent: int | None  # index of the parent leg


def price_str(cost: int | None) -> str | None:
    """Twilio's price strings: negative for a charge, five decimals."""
    if cost is None:
        return None
    if cost == 0:
        return "0.00000"
    return f"-{cost // 100_000}.{cost % 100_000:05d}"


class CallSeries(Series):
    prefix = "CA"

    def __init__(self, account: Account, *, seed: int, n: int, window_start: int,
                 window_end: int) -> None:
        super().__init__(seed=seed, kind="calls", account_index=account.index, n=n,
                         window_start=window_start, window_end=window_end)
        self.account = account
        self._pool = customer_pool(seed, account.index, account.currency == "EUR")
        self._numbers = account.phone_numbers or ("+15005550006",)
        self._number_sids = tuple(
            "PN" + blake2b(f"{seed}:pn:{num}".encode(), digest_size=16).hexdigest()
            for num in self._numbers)
        self._rate_scale = 92 if account.currency == "EUR" else 100
        self._base = f"/2010-04-01/Accounts/{account.sid}/Calls/"

    def _is_child(self, j: int, d: bytes) -> bool:
        # Children sit at even indices with their parent right after them (one slot
        # older), so both legs are found without any lookup table.
        return j % 2 == 0 and j + 1 < self.n and d[20] < 36

    def core(self, j: int, d: bytes | None = None) -> CallCore:
        d = d or self.digest(j)
        ts = self.ts_from(j, d)
        numbers = self._numbers
        customer = self._pool[u16(d, 22) % POOL_SIZE]
        recent = not self.settled and ts >= self.window_end - RECENT
        parent: int | None = None
        child_core: CallCore | None = None
        if self._is_child(j, d):
            parent = j + 1
            direction = "outbound-dial"
            status = pick(CHILD_STATUSES, d[21])
            number_index = self.digest(j + 1)[30] % len(numbers)
        else:
            number_index = d[30] % len(numbers)
            if j % 2 == 1 and self._is_child(j - 1, dj := self.digest(j - 1)):
                direction, status = "inbound", "completed"
                child_core = self.core(j - 1, dj)
            else:
                direction = "inbound" if d[21] < 140 else "outbound-api"
                status = pick(FINAL_STATUSES, d[25])
                if recent and d[31] < 90:
                    status = pick(LIVE_STATUSES, d[24])
        number = numbers[number_index]
        from_, to = (customer, number) if direction == "inbound" else (number, customer)
        if status == "completed":
            duration = 5 + u16(d, 26) % 900 + (1800 if d[28] < 8 else 0)
            if child_core is not None:
                duration = (child_core.ts - ts) + (child_core.duration or 0) + 3 + d[28] % 20
            if direction == "inbound":
                rate = RATE_ENDPOINT if is_endpoint(from_) else RATE_INBOUND
            else:
                rate = RATE_ENDPOINT if is_endpoint(to) else RATE_OUTBOUND
            minutes = -(-duration // 60)
            price: int | None = minutes * rate * self._rate_scale // 100
            if recent or d[29] < 4:
                price = None
        elif status in ("queued", "ringing", "in-progress"):
            duration, price = None, None
        else:
            duration, price = 0, 0
        if duration is not None and ts + duration >= self.window_end:
            # It would end after "now": it is still going on.
            status, duration, price = "in-progress", None, None
        if status == "canceled" and direction == "inbound":
            status = "no-answer"  # an arrived call cannot be canceled before dialling
        return CallCore(ts, direction, status, from_, to, number_index, duration, price, parent)

    def record(self, j: int) -> dict[str, Any]:
        d = self.digest(j)
        c = self.core(j, d)
        sid = "CA" + d[:16].hex()
        base = self._base + sid
        started = c.status not in NEVER_STARTED
        end = None if c.duration is None or not started or c.status not in (
            "completed", "busy", "failed", "no-answer") else c.ts + c.duration
        return {
            "account_sid": self.account.sid,
            "answered_by": ("human" if d[27] < 160 else "machine_start")
            if c.direction == "outbound-api" and c.status == "completed" and d[31] < 60 else None,
            "api_version": API,
            "caller_name": None,
            "date_created": rfc2822(c.ts - d[24] % 3),
            "date_updated": rfc2822(end if end is not None else c.ts),
            "direction": c.direction,
            "duration": None if c.duration is None else str(c.duration),
            "end_time": rfc2822(end),
            "forwarded_from": None,
            "from": c.from_,
            "from_formatted": formatted(c.from_),
            "group_sid": None,
            "parent_call_sid": None if c.parent is None else self.sid(c.parent),
            "phone_number_sid": self._number_sids[c.number_index]
            if c.direction == "inbound" else None,
            "price": price_str(c.price),
            "price_unit": self.account.currency,
            "queue_time": "0",
            "sid": sid,
            "start_time": rfc2822(c.ts) if started else None,
            "status": c.status,
            "subresource_uris": {name: base + suffix for name, suffix in _SUBRESOURCES},
            "to": c.to,
            "to_formatted": formatted(c.to),
            "trunk_sid": None,
            "uri": base + ".json",
        }

