"""Benchmark datacenter.tables on a synthetic 1,000,000-row Twilio-calls-shaped table.

Run: .venv/bin/python bench/tables_bench.py [rows] [folder] [reuse]
("reuse" skips the writes when the folder already holds the table from an earlier run.)
Prints timings and the peak RSS of each stage; no asserts (numbers go in reports).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datacenter import tables  # noqa: E402
from datacenter.tables import _store  # noqa: E402

TS = pa.timestamp("us", tz="UTC")
DEC = pa.decimal128(18, 6)
_URIS = (
    "uri",
    "notifications_uri",
    "recordings_uri",
    "events_uri",
    "payments_uri",
    "siprec_uri",
    "streams_uri",
    "transcriptions_uri",
)
FIELDS: list[tuple[str, pa.DataType]] = [
    ("sid", pa.string()),
    ("account_sid", pa.string()),
    ("parent_call_sid", pa.string()),
    ("date_created", TS),
    ("date_updated", TS),
    ("start_time", TS),
    ("end_time", TS),
    ("to", pa.string()),
    ("to_formatted", pa.string()),
    ("from", pa.string()),
    ("from_formatted", pa.string()),
    ("phone_number_sid", pa.string()),
    ("status", pa.string()),
    ("duration", pa.int64()),
    ("price", DEC),
    ("price_unit", pa.string()),
    ("direction", pa.string()),
    ("answered_by", pa.string()),
    ("api_version", pa.string()),
    ("forwarded_from", pa.string()),
    ("group_sid", pa.string()),
    ("caller_name", pa.string()),
    ("queue_time", pa.int64()),
    ("trunk_sid", pa.string()),
    ("annotation", pa.string()),
    ("call_day", pa.date32()),
    *((name, pa.string()) for name in _URIS),
]
SCHEMA = pa.schema(FIELDS)


def _text(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _decimal(micros: np.ndarray) -> pa.Array:
    raw = np.empty((len(micros), 2), dtype=np.int64)  # little-endian 128-bit two's complement
    raw[:, 0] = micros
    raw[:, 1] = np.where(micros < 0, -1, 0)
    return pa.Array.from_buffers(DEC, len(micros), [None, pa.py_buffer(raw.tobytes())])


def calls(
    rows: int, batch_rows: int = 50_000, seed: int = 0, first: int = 0
) -> Iterator[pa.RecordBatch]:
    """Batches shaped like a Twilio Calls pull (sids, phones, prices, statuses, URIs)."""
    rng = np.random.default_rng(seed)
    base = int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp() * 1e6)
    statuses = pa.array(["completed", "busy", "no-answer", "failed", "canceled"])
    for start in range(first, first + rows, batch_rows):
        m = min(batch_rows, first + rows - start)
        idx = np.arange(start, start + m)
        sid = _text("CA", idx, 32)
        created = base + idx * 2_000_000 + rng.integers(0, 1_000_000, m)
        duration = rng.integers(0, 3600, m)
        to = _text("+1555", rng.integers(0, 10**7, m), 7)
        frm = _text("+1444", rng.integers(0, 10**7, m), 7)
        uri = pc.binary_join_element_wise("/2010-04-01/Accounts/AC1/Calls/", sid, ".json", "")

        def ts(micros: np.ndarray) -> pa.Array:
            return pa.array(micros, pa.int64()).cast(pa.timestamp("us")).cast(TS)

        cols: dict[str, pa.Array] = {
            "sid": sid,
            "account_sid": pa.array(["AC" + "1" * 32] * m),
            "date_created": ts(created),
            "date_updated": ts(created + 5_000_000),
            "start_time": ts(created),
            "end_time": ts(created + duration * 1_000_000),
            "to": to,
            "to_formatted": to,
            "from": frm,
            "from_formatted": frm,
            "phone_number_sid": pa.array(["PN" + "2" * 32] * m),
            "status": statuses.take(pa.array(rng.integers(0, 5, m))),
            "duration": pa.array(duration),
            "price": _decimal(-rng.integers(0, 5_000_000, m)),
            "price_unit": pa.array(["USD"] * m),
            "direction": pa.array(np.where(rng.random(m) < 0.5, "inbound", "outbound-api")),
            "api_version": pa.array(["2010-04-01"] * m),
            "caller_name": _text("Caller ", rng.integers(0, 50_000, m), 1),
            "queue_time": pa.array(rng.integers(0, 100, m)),
            "call_day": pa.array((created // 86_400_000_000).astype("int32")).cast(pa.date32()),
            **dict.fromkeys(_URIS, uri),
        }
        arrays = [cols.get(name, pa.nulls(m, typ)) for name, typ in FIELDS]
        yield pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


class Peak:
    """Peak RSS while a block runs (sampled every 5 ms)."""

    def __enter__(self) -> Peak:
        self.proc, self.peak, self.running = psutil.Process(), 0, True
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()


def timed(label: str, fn: Callable[[], object]) -> object:
    cpu = psutil.Process().cpu_times()
    with Peak() as peak:
        start = time.perf_counter()
        result = fn()
        took = time.perf_counter() - start
    after = psutil.Process().cpu_times()
    used = after.user + after.system - cpu.user - cpu.system
    # CPU time next to wall time: on a shared 2-core box, wall time includes waiting.
    print(
        f"{label:<44} {took * 1000:8.1f} ms wall {used * 1000:8.1f} ms cpu"
        f"   peak RSS {peak.peak / 2**20:6.1f} MB"
    )
    return result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="tbench-"))
    uri = str(folder / "calls")
    reuse = len(sys.argv) > 3 and sys.argv[3] == "reuse" and (folder / "calls").exists()
    print(f"{rows:,} rows x {len(FIELDS)} columns at {uri}; load average {os.getloadavg()}")
    print(f"{'start RSS':<44} {psutil.Process().memory_info().rss / 2**20:9.1f} MB")
    if not reuse:
        _write(uri, rows)
    _read(uri, rows)
    if not reuse:
        _versions(uri)  # last: it reclaims version 0's files


def _write(uri: str, rows: int) -> None:
    shutil.rmtree(uri, ignore_errors=True)
    timed(
        "write replace (streamed batches of 50k)",
        lambda: tables.write_version(uri, calls(rows), SCHEMA, mode="replace"),
    )
    timed(
        "append 50k rows",
        lambda: tables.write_version(uri, calls(50_000, first=rows), SCHEMA, mode="append"),
    )
    timed(
        "merge 50k rows (25k updates, 25k inserts)",
        lambda: tables.write_version(
            uri,
            calls(50_000, seed=7, first=rows + 25_000),
            SCHEMA,
            mode="merge",
            merge_key=("sid",),
        ),
    )


def _read(uri: str, rows: int) -> None:
    version = 0

    def cold(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            _store.forget(uri)
            return fn()

        return run

    page = timed(
        "first page (cold: log + footers)",
        cold(lambda: tables.read_page(uri, version, offset=0, limit=50)),
    )
    assert isinstance(page, tables.Page)
    timed("first page (warm)", lambda: tables.read_page(uri, version, offset=0, limit=50))
    timed(
        "page at offset 500,000", lambda: tables.read_page(uri, version, offset=500_000, limit=50)
    )
    for column, desc in (
        ("date_created", True),
        ("duration", False),
        ("caller_name", False),
        ("price", False),
    ):
        label = f"sorted by {column}{' desc' if desc else ''}"
        timed(
            f"{label} (cold)",
            cold(
                lambda c=column, d=desc: tables.read_page(
                    uri, version, offset=0, limit=50, sort=c, descending=d
                )
            ),
        )
        timed(
            f"{label}, next page (cached order)",
            lambda c=column, d=desc: tables.read_page(
                uri, version, offset=50, limit=50, sort=c, descending=d
            ),
        )
    for needle in ("caller 4242", "+15551234", "zzz-nothing"):
        result = timed(
            f"search {needle!r} (cold)",
            cold(lambda n=needle: tables.read_page(uri, version, offset=0, limit=50, search=n)),
        )
        assert isinstance(result, tables.Page)
        print(f"{'':<44} -> {result.total:,} matches")
    timed(
        "search 'caller 4242' sorted by duration",
        lambda: tables.read_page(
            uri, version, offset=0, limit=50, search="caller 4242", sort="duration"
        ),
    )
    shutil.rmtree(Path(uri) / "_stats", ignore_errors=True)  # measure the computation
    timed("describe (computed)", cold(lambda: tables.describe(uri, version)))
    timed("describe (saved stats, new process cache)", cold(lambda: tables.describe(uri, version)))

    def export() -> int:
        return sum(len(chunk) for chunk in tables.iter_csv(uri, version))

    start = time.perf_counter()
    size = timed("CSV export", export)
    took = time.perf_counter() - start
    print(f"{'':<44} -> {rows / took:,.0f} rows/s, {int(size) / 2**20:.0f} MB")  # type: ignore[call-overload]


def _versions(uri: str) -> None:
    timed("restore v0 as a new version", lambda: tables.restore(uri, 0))
    timed("reclaim keeping the last 2 versions", lambda: tables.reclaim(uri, keep_last=2))


if __name__ == "__main__":
    main()
