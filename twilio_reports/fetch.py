"""Fetching a planned pull: slices on a thread pool, typed batches out.

Each slice pages through its list sequentially. The fetch thread turns each page into a
typed Arrow batch (pyarrow releases the GIL, so pages convert in parallel), drops rows
already seen in the slice and rows outside the slice's own time range, and hands the small
batch through a bounded queue to the consumer (the caller's thread), which only coalesces
batches. No page lives as Python dicts, so memory stays flat.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from twilio_reports.claims import DayClaim
from twilio_reports.client import PullConfig, PullStats, TwilioClient, TwilioError, _Cancelled
from twilio_reports.convert import TypedPage, page_to_batch
from twilio_reports.credentials import Credentials
from twilio_reports.dates import iso_utc
from twilio_reports.definitions import ReportDef
from twilio_reports.plan import (
    PROBE_KEEPS_PAGING,
    Plan,
    Slice,
    after_claim,
    epoch_us,
    split_probe,
)

_DAY_US = 86_400_000_000

# Twilio's 400 for an alerts query matching more than 10,000 results.
ALERTS_TOO_MANY = re.compile(r"too many results|10,?000", re.IGNORECASE)

@dataclass(frozen=True)
class _Done:
    """A slice ended (its rows were all sent before this)."""

    account: str


@dataclass(frozen=True)
class _More:
    """A slice was replaced by `count` new ones (a busy account's probe)."""

    account: str
    count: int


def _put(q: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
    raise _Cancelled()


def _link(page: TypedPage) -> str | None:
    return page.next_link


def _run_slice(sl: Slice, rdef: ReportDef, credentials: Credentials, client: TwilioClient,
               q: queue.Queue[Any], stop: threading.Event) -> list[Slice]:
    """Fetch one slice; returns the slices that replace it when a probe found a busy account."""
    if sl.tail_of is not None and not _tail_may_run(sl.tail_of, stop):
        # The lead's request brought this slice's first day already.
        assert rdef.date_filter is not None
        rest = after_claim(sl, rdef.date_filter.after)
        if rest is None:
            return []
        sl = rest
    try:
        return _page_through(sl, rdef, credentials, client, q, stop)
    finally:
        if sl.lead_of is not None:
            sl.lead_of.lead_started.set()


def _tail_may_run(claim: DayClaim, stop: threading.Event) -> bool:
    while not claim.lead_started.wait(0.1):
        if stop.is_set():
            raise _Cancelled()
    return claim.tail_claims()


def _page_through(sl: Slice, rdef: ReportDef, credentials: Credentials, client: TwilioClient,
                  q: queue.Queue[Any], stop: threading.Event) -> list[Slice]:
    base = credentials.base_for(rdef.host)
    seen: set[str] = set()
    parse = partial(page_to_batch, rdef=rdef)
    spans: list[tuple[datetime, datetime] | None] = [sl.span]
    while spans:
        span = spans.pop()
        params = dict(sl.params)
        keep = sl.keep
        if span is not None and rdef.date_filter is not None:
            params[rdef.date_filter.after] = iso_utc(span[0])
            params[rdef.date_filter.before] = iso_utc(span[1] - timedelta(seconds=1))
            keep = (epoch_us(span[0]), epoch_us(span[1]))
        try:
            for variant in sl.variants:
                for page in client.iter_parsed(base, sl.path, {**params, **variant},
                                               parse=parse, link=_link,
                                               account=sl.account_sid, auth=sl.auth):
                    if sl.probe and page.next_link:
                        rows_per_day = _density(page.batch, rdef, sl)
                        if rows_per_day * _days(sl) > PROBE_KEEPS_PAGING * client.config.page_size:
                            return split_probe(sl, rdef, rows_per_day, client.config.page_size)
                    sl = replace(sl, probe=False)  # decided: keep paging this request
                    batch = _unseen(page.batch, seen)
                    for out in _kept(batch, rdef, keep, sl.lead_of):
                        _put(q, out, stop)
                    if sl.lead_of is not None:
                        sl.lead_of.lead_started.set()
        except TwilioError as exc:
            if exc.status == 404 and not sl.is_main:
                return []  # a subaccount without this resource (e.g. no usage): no rows
            if (span is not None and exc.status == 400 and ALERTS_TOO_MANY.search(exc.message)
                    and span[1] - span[0] > timedelta(seconds=2)):
                # Too many alerts in one query: halve the window. Rows of the half already
                # sent are not re-sent because seen holds their sids.
                mid = span[0] + (span[1] - span[0]) / 2
                mid = mid.replace(microsecond=0)
                spans.extend([(mid, span[1]), (span[0], mid)])
                continue
            raise
    return []


def _days(sl: Slice) -> float:
    assert sl.keep is not None
    return (sl.keep[1] - sl.keep[0]) / _DAY_US


def _density(batch: pa.RecordBatch, rdef: ReportDef, sl: Slice) -> float:
    """Rows per day, judged from a full first page: its rows span some part of the window.
    Wrong guesses cost requests, never rows (slices' keep ranges decide what is kept)."""
    df = rdef.date_filter
    assert df is not None
    us = pc.drop_null(pc.cast(batch.column(df.row_field), pa.int64()))
    if len(us) < 2:
        return float("inf")  # nothing to judge by: assume busy
    spread = max(pc.max(us).as_py() - pc.min(us).as_py(), 1)
    return len(us) * _DAY_US / spread


def _kept(batch: pa.RecordBatch, rdef: ReportDef, keep: tuple[int, int] | None,
          claim: DayClaim | None) -> list[pa.RecordBatch]:
    """The rows of a page this slice keeps: its own range, plus the next day's rows when it
    leads a day pair and owns (or may come to own) that day."""
    if keep is None:
        return [batch] if batch.num_rows else []
    own = batch.filter(_keep_mask(batch, rdef, keep))
    out = [own] if own.num_rows else []
    if claim is None:
        return out
    mask = _keep_mask(batch, rdef, (claim.lo, claim.hi))
    theirs = batch.filter(mask)
    if not theirs.num_rows:
        return out
    df = rdef.date_filter
    assert df is not None
    us = pc.cast(theirs.column(df.row_field), pa.int64())
    beyond = bool(pc.any(pc.greater(us, claim.lo)).as_py())
    return out + claim.lead_offer(theirs, beyond)


def _unseen(batch: pa.RecordBatch, seen: set[str]) -> pa.RecordBatch:
    """Rows whose sid the slice has not sent yet (conference statuses, split alert windows
    and shifting pages can repeat a row); `seen` grows. Rows without a sid are all kept."""
    if "sid" not in batch.schema.names:
        return batch
    fresh: list[bool] = []
    for sid in batch.column("sid").to_pylist():
        new = sid is None or sid not in seen
        if new and sid is not None:
            seen.add(sid)
        fresh.append(new)
    return batch if all(fresh) else batch.filter(pa.array(fresh, pa.bool_()))


def _keep_mask(batch: pa.RecordBatch, rdef: ReportDef, keep: tuple[int, int]) -> pa.Array:
    """Rows inside the slice's own range `keep` (see Slice.keep); a row without its time
    field is dropped, a usage record without a start or end date is open on that side."""
    df = rdef.date_filter
    assert df is not None  # only time-filtered slices have a keep range
    lo, hi = keep
    if df.style == "usage":
        start = pc.cast(batch.column("start_date"), pa.int32())
        end = pc.cast(batch.column("end_date"), pa.int32())
        return pc.and_(pc.fill_null(pc.less_equal(start, hi), True),
                       pc.fill_null(pc.greater_equal(end, lo), True))
    us = pc.cast(batch.column(df.row_field), pa.int64())
    inside = pc.and_(pc.greater_equal(us, lo), pc.less(us, hi))
    return pc.fill_null(inside, False)


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


def fetch_plan(plan: Plan, credentials: Credentials, client: TwilioClient,
               config: PullConfig, stats: PullStats, stop: threading.Event,
               on_progress: Callable[[PullStats], None] | None,
               batch_rows: int) -> Iterator[pa.RecordBatch]:
    rdef = plan.rdef
    batcher = _Batcher(max(1, batch_rows))
    last_progress = 0.0

    def report(force: bool = False) -> None:
        nonlocal last_progress
        now = time.monotonic()
        if on_progress and (force or now - last_progress >= config.progress_interval):
            last_progress = now
            on_progress(stats)

    def emit(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            stats.add(rows=b.num_rows)
            yield b

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

    def work(sl: Slice) -> None:
        try:
            if stop.is_set():
                return
            more = _run_slice(sl, rdef, credentials, client, q, stop)
            if more:  # counted by the consumer before this slice's end
                _put(q, _More(sl.account_sid, len(more)), stop)
                for follow in more:
                    pool.submit(work, follow)
            _put(q, _Done(sl.account_sid), stop)
        except _Cancelled:
            return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            errors.append(exc)
            stop.set()

    # Slices still to finish, per account: progress shows accounts done / total.
    open_slices = Counter(s.account_sid for s in plan.slices)
    stats.set_accounts(total=len(open_slices))
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
                open_slices[item.account] += item.count
                continue
            if isinstance(item, _Done):
                remaining -= 1
                open_slices[item.account] -= 1
                if not open_slices[item.account]:
                    stats.add(accounts_done=1)
                continue
            yield from emit(batcher.add(item))
            report()
        yield from emit(batcher.flush())
        report(force=True)
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
