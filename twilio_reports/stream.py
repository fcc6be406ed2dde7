"""Running a planned pull: slices on a thread pool, their rows and ends as events.

`slice_events` yields SliceRows and SliceDone in the order the consumer may rely on: every
row of a slice comes before its SliceDone. `coalesce` turns the rows into batches of a
fixed size for writers that do not care which slice a row came from.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from twilio_reports.client import PullConfig, PullStats, TwilioClient, _Cancelled
from twilio_reports.credentials import Credentials
from twilio_reports.fetch import SliceDone, SliceRows, put, run_slice
from twilio_reports.plan import Plan, Slice

SliceEvent = SliceRows | SliceDone


@dataclass(frozen=True)
class _More:
    """A slice was replaced by `count` new ones (a busy account's probe)."""

    account: str
    count: int


class _Batcher:
    """Coalesces the fetch threads' page-sized typed batches into batches of batch_rows.

    Holds fewer than batch_rows typed rows between calls (~7 MB of Calls at 16,384).
    """

    def __init__(self, batch_rows: int):
        self.batch_rows = batch_rows
        self.pending: list[pa.RecordBatch] = []
        self.count = 0

    def add(self, batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        self.pending.append(batch)
        self.count += batch.num_rows
        if self.count >= self.batch_rows:
            yield from self._emit(everything=False)

    def flush(self) -> Iterator[pa.RecordBatch]:
        yield from self._emit(everything=True)

    def _emit(self, *, everything: bool) -> Iterator[pa.RecordBatch]:
        if not self.pending:
            return
        whole = pa.concat_batches(self.pending) if len(self.pending) > 1 else self.pending[0]
        self.pending, self.count = [], 0
        size = self.batch_rows
        full = whole.num_rows if everything else whole.num_rows - whole.num_rows % size
        if full < whole.num_rows:  # the tail waits for the next pages
            self.pending, self.count = [whole.slice(full)], whole.num_rows - full
        for offset in range(0, full, size):
            yield whole.slice(offset, min(size, full - offset))


def coalesce(events: Iterator[SliceEvent], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The rows of `events` in batches of `batch_rows` (the last one shorter)."""
    batcher = _Batcher(max(1, batch_rows))
    try:
        for event in events:
            if isinstance(event, SliceRows):
                yield from batcher.add(event.batch)
        yield from batcher.flush()
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # stops the fetch threads at once when the consumer stops early


def slice_events(plan: Plan, credentials: Credentials, client: TwilioClient,
                 config: PullConfig, stats: PullStats, stop: threading.Event,
                 on_progress: Callable[[PullStats], None] | None) -> Iterator[SliceEvent]:
    rdef = plan.rdef
    last_progress = 0.0

    def report(force: bool = False) -> None:
        nonlocal last_progress
        now = time.monotonic()
        if on_progress and (force or now - last_progress >= config.progress_interval):
            last_progress = now
            on_progress(stats)

    if not plan.slices:
        report(force=True)
        return
    q: queue.Queue[Any] = queue.Queue(maxsize=max(2, config.queue_pages))
    accounts = len({s.account_sid for s in plan.slices})
    # Probes may turn into many slices: size the pool for what they can become.
    planned = config.max_workers if any(s.probe for s in plan.slices) else len(plan.slices)
    workers = max(1, min(planned, config.max_workers, config.max_in_flight * accounts))

    errors: list[BaseException] = []

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="twilio-pull")

    uids = iter(range(1 << 62))
    uid_lock = threading.Lock()

    def work(sl: Slice) -> None:
        with uid_lock:
            uid = next(uids)
        try:
            if stop.is_set():
                return
            more, covered = run_slice(uid, sl, rdef, credentials, client, q, stop)
            if more:  # counted by the consumer before this slice's end
                put(q, _More(sl.account_sid, len(more)), stop)
                for follow in more:
                    pool.submit(work, follow)
            put(q, SliceDone(uid, sl.account_sid, covered), stop)
        except _Cancelled:
            return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            errors.append(exc)
            stop.set()

    # Slices still to finish, per account: progress shows accounts done / total.
    open_slices = Counter(s.account_sid for s in plan.slices)
    stats.set_accounts(total=len(open_slices))
    stats.add(slices_total=len(plan.slices))
    try:
        for sl in plan.slices:
            pool.submit(work, sl)
        remaining = len(plan.slices)
        while remaining:
            try:
                item = q.get(timeout=0.2)
            except queue.Empty:
                item = None
            if errors:
                raise errors[0]
            if item is None:
                if stop.is_set():
                    raise _Cancelled()
                continue
            if isinstance(item, _More):
                remaining += item.count
                stats.add(slices_total=item.count)
                open_slices[item.account] += item.count
                continue
            if isinstance(item, SliceRows):
                stats.add(rows=item.batch.num_rows)
            elif isinstance(item, SliceDone):
                stats.add(slices_done=1)
                remaining -= 1
                open_slices[item.account] -= 1
                if not open_slices[item.account]:
                    stats.add(accounts_done=1)
            yield item
            report()
        report(force=True)
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
