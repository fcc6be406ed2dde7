"""Timings of datacenter.metrics on synthetic 1,000,000-row versions (prints only, no asserts).

    .venv/bin/python bench/metrics_bench.py [rows]
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datacenter.metrics import charts_to_json, compute_metrics, daily_counts, headline  # noqa: E402

START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
DAY_US = 86_400_000_000


def decimal_micro(micro: np.ndarray) -> pa.Array:
    """decimal128(18, 6) from integer millionths, built from the raw 128-bit words (fast)."""
    words = np.empty(2 * len(micro), dtype=np.int64)
    words[0::2] = micro
    words[1::2] = np.where(micro < 0, -1, 0)  # two's complement sign extension
    return pa.Array.from_buffers(pa.decimal128(18, 6), len(micro), [None, pa.py_buffer(words)])


def calls_table(rows: int, rng: np.random.Generator) -> pa.Table:
    start = START_US + rng.integers(0, 90 * DAY_US, rows)
    parent = np.where(rng.random(rows) < 0.2, "CA" + "0" * 32, None)  # 20 % child legs
    price = decimal_micro(-rng.integers(0, 200_000, rows))
    unrated = rng.random(rows) < 0.05
    return pa.table({
        "sid": pa.array([f"CA{i:032x}" for i in range(rows)]),
        "start_time": pa.array(start, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "end_time": pa.array(start + 60_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "parent_call_sid": pa.array(parent, pa.string()),
        "direction": pa.array(rng.choice(["inbound", "outbound-api", "outbound-dial"], rows)),
        "status": pa.array(rng.choice(
            ["completed", "busy", "failed", "no-answer", "canceled", "in-progress"], rows,
            p=[0.7, 0.05, 0.05, 0.1, 0.05, 0.05])),
        "duration": pa.array(rng.integers(0, 3600, rows), pa.int64()),
        "price": pa.compute.if_else(pa.array(unrated), pa.scalar(None, price.type), price),
        "price_unit": pa.array(rng.choice(["USD", "EUR"], rows, p=[0.9, 0.1])),
    })


def messages_table(rows: int, rng: np.random.Generator) -> pa.Table:
    sent = START_US + rng.integers(0, 90 * DAY_US, rows)
    return pa.table({
        "date_sent": pa.array(sent, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "direction": pa.array(rng.choice(["inbound", "outbound-api", "outbound-reply"], rows)),
        "status": pa.array(rng.choice(["delivered", "received", "failed", "undelivered"], rows)),
        "num_segments": pa.array(rng.integers(1, 4, rows), pa.int64()),
        "price": decimal_micro(-rng.integers(0, 20_000, rows)),
        "price_unit": pa.array(np.full(rows, "usd")),
    })


def timed(label: str, fn, repeat: int = 1) -> object:  # noqa: ANN001 - zero-argument callable
    """Run `fn` `repeat` times; print the best wall time and its CPU time (the CPU figure is
    the steadier one on a busy machine)."""
    best_wall, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < best_wall:
            best_wall, best_cpu = wall, cpu
    print(f"{label:<44} wall {best_wall:7.3f} s   cpu {best_cpu:7.3f} s")
    return result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = np.random.default_rng(7)
    calls = timed(f"build calls table ({rows:,} rows)", lambda: calls_table(rows, rng))
    tz = "Europe/Berlin"
    charts = timed("compute_metrics calls (first)", lambda: compute_metrics("calls", calls, tz))
    timed("compute_metrics calls (best of 3)", lambda: compute_metrics("calls", calls, tz), 3)
    timed("charts_to_json calls", lambda: charts_to_json(charts))
    timed("headline calls", lambda: headline("calls", calls, "Europe/Berlin", dt.date(2026, 3, 31)))
    timed("daily_counts calls.start_time", lambda: daily_counts(calls, "start_time", "UTC"))
    frame = timed("to_pandas calls", calls.to_pandas)
    timed("compute_metrics calls (DataFrame input)",
          lambda: compute_metrics("calls", frame, "Europe/Berlin"))
    msgs = timed(f"build messages table ({rows:,} rows)", lambda: messages_table(rows, rng))
    timed("compute_metrics messages", lambda: compute_metrics("messages", msgs, "America/New_York"))
    print(f"JSON size of calls charts: {len(charts_to_json(charts)):,} bytes")


if __name__ == "__main__":
    main()
