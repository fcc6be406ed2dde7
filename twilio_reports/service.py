"""Pulling a report: plan the requests, fetch them concurrently, stream typed batches out.

A pull is cut into slices (one per account and, for time-filtered reports, per UTC day).
Slices are fetched by a thread pool; each slice pages through its list sequentially. The
fetch thread turns each page into a typed Arrow batch (pyarrow releases the GIL, so pages
convert in parallel), drops rows already seen in the slice and rows outside the slice's
own time range, and hands the small batch through a bounded queue to the consumer (the
caller's thread), which only coalesces batches. No page lives as Python dicts, so memory
stays flat. Slices' ranges are disjoint and cover the window, so the output has no
duplicates and no gaps even when the server's day filter returns rows of neighbouring days.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from twilio_reports.client import (
    PullConfig,
    PullStats,
    TwilioClient,
    TwilioError,
    _Cancelled,
)
from twilio_reports.convert import TypedPage, page_to_batch
from twilio_reports.dates import day_bounds_utc, iso_utc, split_days, utc_days
from twilio_reports.definitions import (
    CONFERENCE_STATUSES,
    REPORTS,
    ReportDef,
    validate_params,
    wire_filters,
)

__all__ = [
    "Credentials",
    "PullConfig",
    "PullRequest",
    "PullStats",
    "TwilioError",
    "check_credentials",
    "preview",
    "pull_batches",
]

# Twilio's 400 for an alerts query matching more than 10,000 results.
ALERTS_TOO_MANY = re.compile(r"too many results|10,?000", re.IGNORECASE)


@dataclass(frozen=True)
class Credentials:
    account_sid: str
    secret: str = field(repr=False)
    key_sid: str | None = None  # API key SID (SK...); `secret` is then the key's secret
    api_base: str = "https://api.twilio.com"
    monitor_base: str = "https://monitor.twilio.com"

    def __repr__(self) -> str:
        key = f", key_sid={self.key_sid!r}" if self.key_sid else ""
        return f"Credentials(account_sid={self.account_sid!r}{key}, secret='***')"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.key_sid or self.account_sid, self.secret)

    def base_for(self, host: str) -> str:
        return (self.monitor_base if host == "monitor" else self.api_base).rstrip("/")


@dataclass(frozen=True)
class PullRequest:
    report: str
    params: dict[str, str] = field(default_factory=dict)
    window: tuple[date, date] | None = None  # local days in `tz`, both included
    tz: str = "UTC"


@dataclass(frozen=True)
class Slice:
    """One sequence of pages: an account, a query, and the rows it is responsible for."""

    account_sid: str
    path: str
    params: dict[str, str]
    # Rows are kept when their time field is in [lo, hi) (epoch µs), or with usage, when the
    # record's period overlaps [lo, hi] (days since epoch). None: no time filter.
    keep: tuple[int, int] | None = None
    # Queries run one after another inside the slice (conference statuses); rows are
    # de-duplicated on sid across them.
    variants: tuple[dict[str, str], ...] = ({},)
    # Alerts: [start, end) instants, split in halves when Twilio says too many results.
    span: tuple[datetime, datetime] | None = None
    is_main: bool = True
    # The account's own credentials when the host answers only for the authenticated
    # account (monitor); None = the pull's credentials.
    auth: tuple[str, str] | None = field(default=None, repr=False)


@dataclass
class _Plan:
    rdef: ReportDef
    slices: list[Slice]


def _label(rdef: ReportDef) -> str:
    return rdef.label


def _new_client(rdef: ReportDef, credentials: Credentials, config: PullConfig,
                stats: PullStats, stop: threading.Event | None = None) -> TwilioClient:
    return TwilioClient(credentials.auth, label=_label(rdef), config=config, stats=stats,
                        stop=stop)


def _list_accounts(client: TwilioClient, credentials: Credentials,
                   friendly_name: str | None = None) -> list[dict[str, Any]]:
    params = {"FriendlyName": friendly_name} if friendly_name else {}
    out: list[dict[str, Any]] = []
    for page in client.iter_pages(credentials.api_base, "/2010-04-01/Accounts.json", params,
                                  account=credentials.account_sid):
        out.extend(page.get("accounts") or [])
    return out


def _resolve_accounts(client: TwilioClient, credentials: Credentials,
                      name: str | None) -> list[tuple[str, tuple[str, str] | None]]:
    """(sid, own auth) of the named (sub)account, or of every account the credentials see.

    The own auth is the subaccount's SID and token from the Accounts list: the monitor API
    answers for the authenticated account only, so a subaccount's alerts need its own
    credentials. The token lives in memory for the pull and is never stored or shown.
    """
    if name:
        matches = [a for a in _list_accounts(client, credentials, name)
                   if (a.get("friendly_name") or "") == name]
        if not matches:
            raise TwilioError(f'No Twilio account named "{name}" is visible to these credentials')
    else:
        try:
            matches = _list_accounts(client, credentials)
        except TwilioError as exc:
            if exc.status != 403:
                raise
            matches = []  # an API key limited to its own account cannot list accounts
        if not any(a.get("sid") == credentials.account_sid for a in matches):
            matches.insert(0, {"sid": credentials.account_sid})
    out: dict[str, tuple[str, str] | None] = {}
    for acct in matches:
        sid = str(acct.get("sid") or "")
        if not sid or sid in out:
            continue
        token = acct.get("auth_token")
        own = None if sid == credentials.account_sid or not token else (sid, str(token))
        out[sid] = own
    return list(out.items())


def _window_utc(request: PullRequest) -> tuple[datetime, datetime] | None:
    if request.window is None:
        return None
    return day_bounds_utc(request.window[0], request.window[1], request.tz)


def _us(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def _clamp_age(rdef: ReportDef, span: tuple[datetime, datetime], stats: PullStats,
               now: datetime) -> tuple[datetime, datetime] | None:
    """Twilio refuses to look further back than max_age_days: start there, and say so."""
    if rdef.max_age_days is None:
        return span
    oldest_day = (now.astimezone(UTC) - timedelta(days=rdef.max_age_days)).date()
    oldest = datetime.combine(oldest_day, datetime.min.time(), tzinfo=UTC)
    if rdef.date_filter and rdef.date_filter.style == "datetime":
        oldest = now.astimezone(UTC) - timedelta(days=rdef.max_age_days)
    start, end = span
    if start >= oldest:
        return span
    stats.warn(
        f"{rdef.label}: Twilio keeps only the last {rdef.max_age_days} days, so the window "
        f"now starts on {oldest.date().isoformat()} (UTC) instead of "
        f"{start.date().isoformat()}."
    )
    if end <= oldest:
        return None
    return oldest, end


def _plan(request: PullRequest, credentials: Credentials, client: TwilioClient,
          config: PullConfig, stats: PullStats, *, slice_days: int | None) -> _Plan:
    if request.report not in REPORTS:
        raise TwilioError(f"Unknown report {request.report!r}")
    rdef = REPORTS[request.report]
    params, errors = validate_params(rdef.slug, dict(request.params))
    if errors:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise TwilioError(f"{rdef.label}: invalid filters ({detail})")
    wire = wire_filters(rdef.slug, params)

    if not rdef.per_account:  # Accounts: one list, filtered by Twilio
        path = rdef.path_for(credentials.account_sid)
        return _Plan(rdef, [Slice(credentials.account_sid, path, wire)])

    accounts = _resolve_accounts(client, credentials, params.get("account_name"))
    gran = params.get("granularity")
    df = rdef.date_filter
    span = _window_utc(request) if rdef.takes_window(params) else None
    if span is not None:
        span = _clamp_age(rdef, span, stats, datetime.now(UTC))
        if span is None:
            return _Plan(rdef, [])

    variants: tuple[dict[str, str], ...] = ({},)
    if rdef.slug == "conferences" and "Status" not in wire:
        # Twilio lists only in-progress conferences unless a status is given: ask for each.
        variants = tuple({"Status": s} for s in CONFERENCE_STATUSES)

    slices: list[Slice] = []
    for sid, own_auth in accounts:
        is_main = sid == credentials.account_sid
        auth = own_auth if rdef.host == "monitor" else None
        path = rdef.path_for(sid, gran)
        base_params = dict(wire)
        if rdef.slug == "usage-records":
            # Each account is asked for its own usage only, so totals never double-count.
            base_params["IncludeSubaccounts"] = "false"
        if span is None or df is None:
            slices.append(Slice(sid, path, base_params, variants=variants, is_main=is_main,
                                auth=auth))
            continue
        if df.style == "usage":
            assert request.window is not None
            first, last = request.window
            base_params[df.after] = first.isoformat()
            base_params[df.before] = last.isoformat()
            epoch = date(1970, 1, 1)
            keep = ((first - epoch).days, (last - epoch).days)
            slices.append(Slice(sid, path, base_params, keep=keep, is_main=is_main))
            continue
        for lo, hi in _time_slices(span, df.style, slice_days):
            sp = dict(base_params)
            if df.style == "day":
                d0, d1 = utc_days(lo, hi)
                sp[df.after] = d0.isoformat()
                sp[df.before] = d1.isoformat()
            else:
                sp[df.after] = iso_utc(lo)
                sp[df.before] = iso_utc(hi - timedelta(seconds=1))
            slices.append(Slice(sid, path, sp, keep=(_us(lo), _us(hi)), variants=variants,
                                span=(lo, hi) if df.style == "datetime" else None,
                                is_main=is_main, auth=auth))
    return _Plan(rdef, slices)


def _time_slices(span: tuple[datetime, datetime], style: str,
                 slice_days: int | None) -> list[tuple[datetime, datetime]]:
    """Disjoint [lo, hi) instants covering span, cut at UTC midnights every slice_days."""
    start, end = span
    if slice_days is None:
        return [span]
    first, last = utc_days(start, end)
    out = []
    for d0, d1 in split_days(first, last, slice_days):
        lo = max(start, datetime.combine(d0, datetime.min.time(), tzinfo=UTC))
        hi = min(end, datetime.combine(d1 + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
        if lo < hi:
            out.append((lo, hi))
    return out


# --- fetching ---------------------------------------------------------------------------

_DONE = object()


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
               q: queue.Queue[Any], stop: threading.Event) -> None:
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
            keep = (_us(span[0]), _us(span[1]))
        try:
            for variant in sl.variants:
                for page in client.iter_parsed(base, sl.path, {**params, **variant},
                                               parse=parse, link=_link,
                                               account=sl.account_sid, auth=sl.auth):
                    batch = _unseen(page.batch, seen)
                    if keep is not None:
                        batch = batch.filter(_keep_mask(batch, rdef, keep))
                    if batch.num_rows:
                        _put(q, batch, stop)
        except TwilioError as exc:
            if exc.status == 404 and not sl.is_main:
                return  # a subaccount without this resource (e.g. no usage): no rows
            if (span is not None and exc.status == 400 and ALERTS_TOO_MANY.search(exc.message)
                    and span[1] - span[0] > timedelta(seconds=2)):
                # Too many alerts in one query: halve the window. Rows of the half already
                # sent are not re-sent because seen holds their sids.
                mid = span[0] + (span[1] - span[0]) / 2
                mid = mid.replace(microsecond=0)
                spans.extend([(mid, span[1]), (span[0], mid)])
                continue
            raise


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


def pull_batches(
    request: PullRequest,
    credentials: Credentials,
    *,
    on_progress: Callable[[PullStats], None] | None = None,
    batch_rows: int = 16_384,
    config: PullConfig | None = None,
    stats: PullStats | None = None,
) -> Iterator[pa.RecordBatch]:
    """Stream the report as record batches with exactly `REPORTS[report].arrow_schema()`.

    Memory holds the page each fetch thread is converting, `config.queue_pages` typed pages
    and fewer than two batches; it does not grow with the pull. Raises TwilioError
    with a plain-words message; closing the iterator early stops the fetch threads.
    """
    config = config or PullConfig.from_settings()
    stats = stats if stats is not None else PullStats()
    yield from _pull(request, credentials, config=config, stats=stats, on_progress=on_progress,
                     batch_rows=batch_rows, slice_days=config.days_per_slice)


def _pull(request: PullRequest, credentials: Credentials, *, config: PullConfig,
          stats: PullStats, on_progress: Callable[[PullStats], None] | None,
          batch_rows: int, slice_days: int | None) -> Iterator[pa.RecordBatch]:
    rdef = REPORTS.get(request.report)
    if rdef is None:
        raise TwilioError(f"Unknown report {request.report!r}")
    stop = threading.Event()
    client = _new_client(rdef, credentials, config, stats, stop)
    try:
        plan = _plan(request, credentials, client, config, stats, slice_days=slice_days)
        yield from _fetch(plan, credentials, client, config, stats, stop, on_progress,
                          batch_rows)
    except _Cancelled:
        raise TwilioError(f"{rdef.label}: the pull was stopped") from None
    finally:
        stop.set()
        client.close()


def _fetch(plan: _Plan, credentials: Credentials, client: TwilioClient, config: PullConfig,
           stats: PullStats, stop: threading.Event,
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
    workers = max(1, min(len(plan.slices), config.max_workers, config.max_in_flight * accounts))

    errors: list[BaseException] = []

    def work(sl: Slice) -> None:
        try:
            if stop.is_set():
                return
            _run_slice(sl, rdef, credentials, client, q, stop)
            _put(q, _DONE, stop)
        except _Cancelled:
            return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            errors.append(exc)
            stop.set()

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="twilio-pull")
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
            if item is _DONE:
                remaining -= 1
                continue
            yield from emit(batcher.add(item))
            report()
        yield from emit(batcher.flush())
        report(force=True)
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def check_credentials(credentials: Credentials, *, config: PullConfig | None = None) -> str:
    """The account's friendly name, or TwilioError with Twilio's reason in plain words."""
    config = config or PullConfig.from_settings()
    stats = PullStats()
    with TwilioClient(credentials.auth, label="Credentials", config=config, stats=stats) as client:
        body = client.get_json(
            f"{credentials.api_base.rstrip('/')}/2010-04-01/Accounts/{credentials.account_sid}.json",
            account=credentials.account_sid,
        )
    return str(body.get("friendly_name") or credentials.account_sid)


def preview(request: PullRequest, credentials: Credentials, limit: int = 20, *,
            config: PullConfig | None = None) -> pa.Table:
    """The first `limit` rows, fetched as one page per query (no slicing)."""
    rdef = REPORTS.get(request.report)
    if rdef is None:
        raise TwilioError(f"Unknown report {request.report!r}")
    base = config or PullConfig.from_settings()
    config = PullConfig(**{**base.__dict__, "page_size": max(1, min(limit, 1000))})
    stats = PullStats()
    batches: list[pa.RecordBatch] = []
    taken = 0
    gen = _pull(request, credentials, config=config, stats=stats, on_progress=None,
                batch_rows=max(1, limit), slice_days=None)
    try:
        for batch in gen:
            batches.append(batch.slice(0, limit - taken))
            taken += min(batch.num_rows, limit - taken)
            if taken >= limit:
                break
    finally:
        gen.close()
    return pa.Table.from_batches(batches, schema=rdef.arrow_schema())
