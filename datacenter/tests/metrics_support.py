"""Shared by the metrics tests: a small Calls version whose every expected number is known."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from datacenter.metrics import (
    Chart,
)

UTC = dt.UTC
TS = pa.timestamp("us", tz="UTC")
PRICE = pa.decimal128(18, 6)

CALL_SCHEMA = pa.schema([
    ("sid", pa.string()), ("parent_call_sid", pa.string()), ("direction", pa.string()),
    ("status", pa.string()), ("start_time", TS), ("duration", pa.int64()),
    ("price", PRICE), ("price_unit", pa.string()),
])


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def call(sid: str, direction: str, status: str, start: str | None, duration: int | None,
         price: str | None, unit: str = "USD", parent: str | None = None) -> dict:
    return {
        "sid": sid, "parent_call_sid": parent, "direction": direction, "status": status,
        "start_time": at(start) if start else None, "duration": duration,
        "price": Decimal(price) if price is not None else None, "price_unit": unit,
    }


# Europe/Berlin is UTC+1 in January: 22:59Z is still the 5th there, 23:30Z is already the 6th.
CALLS = [
    call("P1", "inbound", "completed", "2026-01-05T10:00:00", 60, "-0.1"),
    call("C1", "outbound-dial", "completed", "2026-01-05T10:00:05", 55, "-0.2", parent="P1"),
    call("P2", "outbound-api", "completed", "2026-01-05T22:59:00", 120, "-0.0001"),
    call("P9", "outbound-api", "completed", "2026-01-05T12:00:00", 15, "-0.015"),
    call("P3", "inbound", "no-answer", "2026-01-05T23:30:00", 0, None),
    call("P4", "inbound", "canceled", "2026-01-06T08:00:00", None, "0", unit="EUR"),
    call("P5", "inbound", "completed", "2026-01-06T09:00:00", 30, "-0.5", unit="EUR"),
    call("P6", "outbound-api", "busy", "2026-01-06T10:00:00", 0, None),
    call("P7", "outbound-api", "in-progress", "2026-01-06T11:00:00", None, None),
    call("C2", "outbound-dial", "no-answer", "2026-01-06T09:00:10", None, None, parent="P5"),
    call("P8", "inbound", "failed", None, None, "-0.04"),  # never dialled: no start_time
]


def calls_table(rows: list[dict] = CALLS) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=CALL_SCHEMA)


def by_id(charts: list[Chart]) -> dict[str, Chart]:
    return {c.id: c for c in charts}


def series(chart: Chart) -> dict[str, dict[str, object]]:
    return {s.name: dict(zip(s.x, s.y, strict=True)) for s in chart.series}
