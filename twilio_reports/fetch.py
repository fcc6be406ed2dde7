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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from twilio_reports import arrow_values as av
from twilio_reports.claims import DayClaim
from twilio_reports.client import TwilioClient, TwilioError, _Cancelled
from twilio_reports.convert import TypedPage, page_to_batch
from twilio_reports.coverage import ALL, Ranges, union
from twilio_reports.credentials import Credentials
from twilio_reports.dates import iso_utc
from twilio_reports.definitions import ReportDef
from twilio_reports.plan import (
    PROBE_KEEPS_PAGING,
    Slice,
    after_claim,
    epoch_us,
    split_probe,
)

_DAY_US = 86_400_000_000

# Twilio's 400 for an alerts query matching more than 10,000 results.
ALERTS_TOO_MANY = re.compile(r"too many results|10,?000", re.IGNORECASE)

@dataclass(frozen=True)
class SliceRows:
    """Rows of slice number `slice`, kept by it (inside its range, not seen before in it)."""

    slice: int
    batch: pa.RecordBatch


@dataclass(frozen=True)
class SliceDone:
    """Slice `slice` ended; every row it kept was sent before this. `covered`: the instants of
    `account` it fetched completely (coverage.Ranges), or coverage.ALL."""

    slice: int
    account: str
    covered: Ranges | str


@dataclass(frozen=True)
class _More:
    """A slice was replaced by `count` new ones (a busy account's probe)."""

    account: str
    count: int


def put(q: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
    raise _Cancelled()


def _link(page: TypedPage) -> str | None:
    return page.next_link


def run_slice(uid: int, sl: Slice, rdef: ReportDef, credentials: Credentials,
              client: TwilioClient, q: queue.Queue[Any], stop: threading.Event
              ) -> tuple[list[Slice], Ranges | str]:
    """Fetch one slice, its rows sent as SliceRows(uid, ...). Returns the slices that replace
    it (a probe that found a busy account) and what it covered."""
    if sl.tail_of is not None and not _tail_may_run(sl.tail_of, stop):
        # The lead's request brought this slice's first day already.
        assert rdef.date_filter is not None
        rest = after_claim(sl, rdef.date_filter.after)
        if rest is None:
            return [], ()
        sl = rest
    try:
        more = _page_through(uid, sl, rdef, credentials, client, q, stop)
    finally:
        if sl.lead_of is not None:
            sl.lead_of.lead_started.set()
    if more:
        return more, ()
    if sl.keep is None or (rdef.date_filter and rdef.date_filter.style == "usage"):
        return [], ALL
    covered = [sl.keep]
    if sl.lead_of is not None and sl.lead_of.lead_owns():
        covered.append((sl.lead_of.lo, sl.lead_of.hi))
    return [], union(covered)


def _tail_may_run(claim: DayClaim, stop: threading.Event) -> bool:
    while not claim.lead_started.wait(0.1):
        if stop.is_set():
            raise _Cancelled()
    return claim.tail_claims()


def _page_through(uid: int, sl: Slice, rdef: ReportDef, credentials: Credentials,
                  client: TwilioClient, q: queue.Queue[Any], stop: threading.Event
                  ) -> list[Slice]:
    base = credentials.base_for(rdef.host)
    seen = Seen()
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
                        put(q, SliceRows(uid, out), stop)
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
    beyond = bool(pc.any(pc.greater(us, av.int64(claim.lo))).as_py())
    return out + claim.lead_offer(theirs, beyond)


class Seen:
    """The sids a slice has sent, kept as one Arrow string array: ~40 bytes a row, where a
    Python set of str took ~150 (a 1M-call pull's ten day slices, 33,000 rows each, held
    ~50 MB of sets, the whole growth of its memory with the pull's size)."""

    def __init__(self) -> None:
        self.sids: pa.Array | None = None

    def __contains__(self, sid: str) -> bool:  # for tests and debugging, not the hot path
        return self.sids is not None and sid in self.sids.to_pylist()

    def add(self, sids: pa.Array) -> None:
        sids = sids.drop_null()
        if len(sids):
            self.sids = sids if self.sids is None else pa.concat_arrays([self.sids, sids])


def _unseen(batch: pa.RecordBatch, seen: Seen) -> pa.RecordBatch:
    """Rows whose sid the slice has not sent yet (conference statuses, split alert windows
    and shifting pages can repeat a row); `seen` grows. Rows without a sid are all kept."""
    if "sid" not in batch.schema.names:
        return batch
    sids = batch.column("sid")
    drop = pc.is_in(sids, value_set=seen.sids) if seen.sids is not None else None
    if pc.count_distinct(sids, mode="only_valid").as_py() < len(sids) - sids.null_count:
        # The page repeats a sid itself (rare): keep its first row.
        first: set[str] = set()
        repeated = []
        for sid in sids.to_pylist():
            repeated.append(sid is not None and sid in first)
            if sid is not None:
                first.add(sid)
        again = av.mask(repeated)
        drop = again if drop is None else pc.or_(drop, again)
    if drop is not None and pc.any(drop).as_py():
        batch = batch.filter(pc.invert(drop))
    seen.add(batch.column("sid"))
    return batch


def _keep_mask(batch: pa.RecordBatch, rdef: ReportDef, keep: tuple[int, int]) -> pa.Array:
    """Rows inside the slice's own range `keep` (see Slice.keep); a row without its time
    field is dropped, a usage record without a start or end date is open on that side."""
    df = rdef.date_filter
    assert df is not None  # only time-filtered slices have a keep range
    lo, hi = keep
    if df.style == "usage":
        start = pc.cast(batch.column("start_date"), pa.int32())
        end = pc.cast(batch.column("end_date"), pa.int32())
        return pc.and_(pc.fill_null(pc.less_equal(start, av.int32(hi)), av.TRUE),
                       pc.fill_null(pc.greater_equal(end, av.int32(lo)), av.TRUE))
    us = pc.cast(batch.column(df.row_field), pa.int64())
    inside = pc.and_(pc.greater_equal(us, av.int64(lo)), pc.less(us, av.int64(hi)))
    return pc.fill_null(inside, av.FALSE)
