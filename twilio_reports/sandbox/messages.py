"""SMS/MMS messages, generated from the index like calls."""

from __future__ import annotations

from hashlib import blake2b
from typing import Any, NamedTuple

from .accounts import Account
from .calls import price_str
from .phones import POOL_SIZE, customer_pool
from .series import Series, pick, u16
from .timefmt import rfc2822

OUTBOUND_STATUSES = (("delivered", 208), ("sent", 14), ("undelivered", 18), ("failed", 16))
RATE_SEGMENT, RATE_MMS = 790, 2000  # 1e-5 currency units
_BODIES = (
    "Your verification code is {n:06d}",
    "Your order #{n} has shipped and arrives tomorrow.",
    "Reminder: your appointment is at {h}:00 tomorrow. Reply C to confirm.",
    "Thanks! A support agent will reply shortly (ticket {n}).",
    "STOP",
    "Yes, that works for me",
    "Can you call me back?",
    "Flash sale: 20% off everything today only. Reply STOP to opt out.",
)
_ERRORS = {"undelivered": ((30003, "Unreachable destination handset"),
                           (30005, "Unknown destination handset"),
                           (30006, "Landline or unreachable carrier")),
           "failed": ((30008, "Unknown error"),
                      (21610, "Attempt to send to unsubscribed recipient"))}


class MessageCore(NamedTuple):
    ts: int
    direction: str
    status: str
    from_: str
    to: str
    segments: int
    media: int
    price: int | None  # cost in 1e-5 units; None = not rated

    @property
    def unsent(self) -> bool:
        """No date_sent: scheduled or still queued, or failed before it left Twilio.
        A DateSent filter never matches these; an unfiltered list shows them."""
        return self.status in ("scheduled", "queued", "accepted") or (
            self.status == "failed" and self.segments == 1 and self.media == 0)


class MessageSeries(Series):
    prefix = "SM"

    def __init__(self, account: Account, *, seed: int, n: int, window_start: int,
                 window_end: int) -> None:
        super().__init__(seed=seed, kind="messages", account_index=account.index, n=n,
                         window_start=window_start, window_end=window_end)
        self.account = account
        # Messages go to phones only: keep E.164 entries of the shared pool.
        pool = [p for p in customer_pool(seed, account.index, account.currency == "EUR")
                if p.startswith("+")]
        self._pool = tuple(pool)
        self._numbers = account.phone_numbers or ("+15005550006",)
        self._service = "MG" + blake2b(f"{seed}:mg:{account.index}".encode(),
                                       digest_size=16).hexdigest()
        self._rate_scale = 92 if account.currency == "EUR" else 100
        self._base = f"/2010-04-01/Accounts/{account.sid}/Messages/"

    def core(self, j: int, d: bytes | None = None) -> MessageCore:
        d = d or self.digest(j)
        ts = self.ts_from(j, d)
        direction = pick((("inbound", 100), ("outbound-api", 140), ("outbound-reply", 16)),
                         d[20])
        status = "received" if direction == "inbound" else pick(OUTBOUND_STATUSES, d[21])
        fresh = not self.settled and ts >= self.window_end - 3600
        if direction == "outbound-api" and fresh and d[30] < 64:
            # Sent in the last hour through the API: some are still queued or scheduled.
            status = "queued" if d[30] < 40 else "scheduled"
        media = 1 if d[22] < 14 else 0
        segments = 1 if media else 1 + (d[23] % 10 == 0) + (d[23] % 40 == 0)
        customer = self._pool[u16(d, 24) % len(self._pool)] if self._pool else "+15005550009"
        number = self._numbers[d[26] % len(self._numbers)]
        from_, to = (customer, number) if direction == "inbound" else (number, customer)
        price: int | None = (RATE_MMS if media else RATE_SEGMENT * segments) \
            * self._rate_scale // 100
        if status in ("failed", "queued", "scheduled") or fresh or d[29] < 3:
            price = None
        return MessageCore(ts, direction, status, from_, to, segments, media, price)

    def record(self, j: int) -> dict[str, Any]:
        d = self.digest(j)
        c = self.core(j, d)
        sid = ("MM" if c.media else "SM") + d[:16].hex()
        base = self._base + sid
        error = _ERRORS.get(c.status)
        code, text = error[d[27] % len(error)] if error else (None, None)
        n = int.from_bytes(d[:3], "little") % POOL_SIZE * 1000 + j % 1000
        return {
            "account_sid": self.account.sid,
            "api_version": "2010-04-01",
            "body": _BODIES[d[28] % len(_BODIES)].format(n=n, h=9 + d[28] % 8),
            "date_created": rfc2822(c.ts - 1),
            "date_sent": None if c.unsent else rfc2822(c.ts),
            "date_updated": rfc2822(min(c.ts + 2, self.window_end - 1)),
            "direction": c.direction,
            "error_code": code,
            "error_message": text,
            "from": c.from_,
            "messaging_service_sid": self._service
            if c.direction == "outbound-api" and d[31] < 128 else None,
            "num_media": str(c.media),
            "num_segments": str(c.segments),
            "price": price_str(c.price),
            "price_unit": self.account.currency,
            "sid": sid,
            "status": c.status,
            "subresource_uris": {"media": f"{base}/Media.json",
                                 "feedback": f"{base}/Feedback.json"},
            "to": c.to,
            "uri": base + ".json",
        }
