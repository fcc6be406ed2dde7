"""Usage records: daily figures per category over the last 400 days, and their sums.

The last 30 days of the traffic categories (calls*, sms*, mms*) are counted from the
generated calls and messages, so a DataSet's usage and its call log agree; older days and
the other categories are synthetic but follow the account's traffic level. `totalprice`
is the sum of the day's priced leaf categories (never of roll-ups, which would double).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from hashlib import blake2b

from .calls import NEVER_STARTED, CallSeries
from .messages import MessageSeries
from .timefmt import DAY, to_date

HISTORY_DAYS = 400


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    count_unit: str
    usage_unit: str
    # Synthetic leaves: items per call of the account's traffic, usage per item and
    # price per usage unit (1e-5 currency units). Unused by derived and roll-up kinds.
    per_call: float = 0.0
    usage_per_item: int = 1
    rate: int = 0
    kind: str = "synthetic"  # derived | synthetic | monthly | rollup | total
    children: tuple[str, ...] = ()


CATEGORIES: tuple[Category, ...] = (
    Category("calls-inbound", "Inbound Voice Minutes", "calls", "minutes", kind="derived"),
    Category("calls-outbound", "Outbound Voice Minutes", "calls", "minutes", kind="derived"),
    Category("sms-inbound", "Inbound SMS Messages", "messages", "messages", kind="derived"),
    Category("sms-outbound", "Outbound SMS Messages", "messages", "messages", kind="derived"),
    Category("mms-inbound", "Inbound MMS Messages", "messages", "messages", kind="derived"),
    Category("mms-outbound", "Outbound MMS Messages", "messages", "messages", kind="derived"),
    Category("recordings", "Voice Recordings", "recordings", "minutes", 0.2, 3, 250),
    Category("recordingstorage", "Voice Recording Storage", "recordings", "minutes", 0.2, 3, 5),
    Category("transcriptions", "Voice Transcriptions", "transcriptions", "minutes", 0.05, 2, 5000),
    Category("answering-machine-detection", "Answering Machine Detection", "calls", "calls",
             0.1, 1, 750),
    Category("amazon-polly", "Amazon Polly", "requests", "characters", 0.15, 180, 2),
    Category("speech-recognition", "Speech Recognition (Gather)", "requests", "seconds",
             0.05, 20, 33),
    Category("lookups", "Lookups", "lookups", "lookups", 0.08, 1, 500),
    Category("voice-insights", "Voice Insights", "calls", "calls", 0.3, 1, 100),
    Category("conversations-api-requests", "Conversations API Requests", "requests",
             "requests", 0.5, 1, 0),
    Category("notify", "Notify", "notifications", "notifications", 0.02, 1, 50),
    Category("verify-push", "Verify Push", "verifications", "verifications", 0.03, 1, 500),
    Category("turnmegabytes", "TURN Megabytes", "megabytes", "megabytes", 0.01, 40, 40),
    Category("group-rooms", "Group Rooms", "participant-minutes", "participant-minutes",
             0.01, 25, 400),
    Category("sms-messages-carrierfees", "SMS Carrier Fees", "messages", "messages",
             0.6, 1, 300),
    Category("phonenumbers-local", "Local Phone Numbers", "phone-numbers", "phone-numbers",
             rate=115_000, kind="monthly"),
    Category("phonenumbers-tollfree", "Toll-Free Phone Numbers", "phone-numbers",
             "phone-numbers", rate=215_000, kind="monthly"),
    Category("a2p-registration-fees", "A2P Registration Fees", "registrations",
             "registrations", rate=400_000, kind="monthly"),
    Category("calls", "Voice Minutes", "calls", "minutes", kind="rollup",
             children=("calls-inbound", "calls-outbound")),
    Category("sms", "SMS Messages", "messages", "messages", kind="rollup",
             children=("sms-inbound", "sms-outbound")),
    Category("mms", "MMS Messages", "messages", "messages", kind="rollup",
             children=("mms-inbound", "mms-outbound")),
    Category("phonenumbers", "Phone Numbers", "phone-numbers", "phone-numbers", kind="rollup",
             children=("phonenumbers-local", "phonenumbers-tollfree")),
    Category("totalprice", "Total Price", "", "usd", kind="total"),
)
CATEGORY_BY_NAME = {c.name: c for c in CATEGORIES}
LEAVES = tuple(c.name for c in CATEGORIES if c.kind in ("derived", "synthetic", "monthly"))

Figures = tuple[int, int, int]  # count, usage, price (1e-5 currency units, positive)


class UsageBook:
    """Daily figures of one account: `days[cat][k]` for day first_day + k."""

    def __init__(self, *, seed: int, account_index: int, today: date, calls: CallSeries,
                 messages: MessageSeries, phone_numbers: tuple[str, ...]) -> None:
        self.first_day = today - timedelta(days=HISTORY_DAYS - 1)
        self.today = today
        self._seed = seed
        self._account = account_index
        n_days = HISTORY_DAYS
        self.days: dict[str, list[Figures]] = {c.name: [(0, 0, 0)] * n_days for c in CATEGORIES}
        live_from = (to_date(calls.window_start) - self.first_day).days
        traffic = _count_traffic(calls, messages, self.first_day, n_days)
        calls_per_day = max(1.0, calls.n / 30)
        averages = _averages(traffic, live_from, n_days)
        tollfree = sum(1 for p in phone_numbers if p.startswith("+1800"))
        for k in range(n_days):
            day = self.first_day + timedelta(days=k)
            level = calls_per_day * self._noise("level", k) * (0.6 if day.weekday() >= 5 else 1.0)
            for cat in CATEGORIES:
                if cat.kind == "derived":
                    if k >= live_from:
                        fig = traffic[cat.name][k]
                    else:  # before the generated window: same shape, synthetic volume
                        share, usage_each, price_each = averages[cat.name]
                        count = round(level * share * self._noise(cat.name, k))
                        fig = (count, round(count * usage_each), round(count * price_each))
                elif cat.kind == "synthetic":
                    count = round(level * cat.per_call * self._noise(cat.name, k))
                    usage = count * cat.usage_per_item
                    fig = (count, usage, usage * cat.rate)
                elif cat.kind == "monthly":
                    # Monthly fees post on the 1st (numbers) or the 15th (registrations).
                    units = {"phonenumbers-local": len(phone_numbers) - tollfree,
                             "phonenumbers-tollfree": tollfree}.get(cat.name, 1)
                    posting = day.day == (15 if cat.name == "a2p-registration-fees" else 1)
                    fig = (units, units, units * cat.rate) if posting and units else (0, 0, 0)
                else:
                    continue
                self.days[cat.name][k] = fig
        for cat in CATEGORIES:
            if cat.kind == "rollup":
                self.days[cat.name] = _add_series([self.days[c] for c in cat.children])
            elif cat.kind == "total":
                prices = [sum(self.days[leaf][k][2] for leaf in LEAVES) for k in range(n_days)]
                self.days[cat.name] = [(0, p, p) for p in prices]

    def _noise(self, what: str, k: int) -> float:
        d = blake2b(f"{self._seed}:usage:{self._account}:{what}:{k}".encode(),
                    digest_size=2).digest()
        return 0.7 + 0.6 * (d[0] | d[1] << 8) / 65535

    def total(self, category: str, first: date, last: date) -> Figures:
        lo = max(0, (first - self.first_day).days)
        hi = min(HISTORY_DAYS, (last - self.first_day).days + 1)
        figs = self.days[category][lo:hi] if hi > lo else []
        return (sum(f[0] for f in figs), sum(f[1] for f in figs), sum(f[2] for f in figs))


def combine(books: list[UsageBook]) -> dict[str, list[Figures]]:
    return {c.name: _add_series([b.days[c.name] for b in books]) for c in CATEGORIES}


def _add_series(series: list[list[Figures]]) -> list[Figures]:
    return [(sum(f[0] for f in figs), sum(f[1] for f in figs), sum(f[2] for f in figs))
            for figs in zip(*series, strict=True)]


def _count_traffic(calls: CallSeries, messages: MessageSeries, first_day: date,
                   n_days: int) -> dict[str, list[Figures]]:
    acc: dict[str, list[list[int]]] = {
        c.name: [[0, 0, 0] for _ in range(n_days)] for c in CATEGORIES if c.kind == "derived"}
    base = (first_day - date(1970, 1, 1)).days
    for j in range(calls.n):
        c = calls.core(j)
        k = c.ts // DAY - base
        if not 0 <= k < n_days or c.status in NEVER_STARTED:  # never dialled: not billed
            continue
        slot = acc["calls-inbound" if c.direction == "inbound" else "calls-outbound"][k]
        slot[0] += 1
        slot[1] += -(-(c.duration or 0) // 60)
        slot[2] += c.price or 0
    for j in range(messages.n):
        m = messages.core(j)
        k = m.ts // DAY - base
        if not 0 <= k < n_days or m.unsent:
            continue
        kind = "mms" if m.media else "sms"
        way = "inbound" if m.direction == "inbound" else "outbound"
        slot = acc[f"{kind}-{way}"][k]
        # Twilio counts SMS usage in segments; an MMS is one unit.
        units = m.media or m.segments
        slot[0] += units
        slot[1] += units
        slot[2] += m.price or 0
    return {name: [(a, b, c) for a, b, c in days] for name, days in acc.items()}


def _averages(traffic: dict[str, list[Figures]], live_from: int,
              n_days: int) -> dict[str, tuple[float, float, float]]:
    """Per derived category: items per call-level unit, usage and price per item, measured
    over the generated window so synthetic history continues the same trend."""
    out: dict[str, tuple[float, float, float]] = {}
    calls_total = sum(f[0] for cat in ("calls-inbound", "calls-outbound")
                      for f in traffic[cat][live_from:]) or 1
    for name, days in traffic.items():
        live = days[live_from:]
        count = sum(f[0] for f in live)
        usage = sum(f[1] for f in live)
        price = sum(f[2] for f in live)
        share = count / calls_total if calls_total > 1 else 0.0
        out[name] = (share, usage / count if count else 1.0, price / count if count else 0.0)
    return out
