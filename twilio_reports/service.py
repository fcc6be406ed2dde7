"""Pulling a report: the public entry points (pull, preview, credential check).

`plan.py` decides the requests, `fetch.py` runs them concurrently and streams typed batches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from twilio_reports.coverage import Coverage
from twilio_reports.credentials import Credentials
from twilio_reports.definitions import REPORTS
from twilio_reports.errors import TwilioError, _Cancelled
from twilio_reports.lean import lazy_attributes
from twilio_reports.plan import PullRequest
from twilio_reports.pull_config import PullConfig, PullStats

if TYPE_CHECKING:
    import pyarrow as pa

    from twilio_reports.fetch import SliceDone, SliceRows
    from twilio_reports.stream import SliceEvent

# What a pull needs (httpx, pyarrow, the fetch threads) loads with the first pull, not with
# the forms and views that only name TwilioError, Credentials or PullRequest (PEP 562).
_LAZY = {"SliceDone": "twilio_reports.fetch", "SliceRows": "twilio_reports.fetch",
         "SliceEvent": "twilio_reports.stream"}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "Coverage",
    "Credentials",
    "PullConfig",
    "PullRequest",
    "PullStats",
    "SliceDone",
    "SliceEvent",
    "SliceRows",
    "TwilioError",
    "check_credentials",
    "preview",
    "pull_batches",
    "pull_slices",
]


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
    from twilio_reports.stream import coalesce

    config = config or PullConfig.from_settings()
    stats = stats if stats is not None else PullStats()
    events = _pull(request, credentials, config=config, stats=stats, on_progress=on_progress,
                   slice_days=config.days_per_slice)
    yield from coalesce(events, batch_rows)


def pull_slices(
    request: PullRequest,
    credentials: Credentials,
    *,
    covered: Coverage | None = None,
    on_progress: Callable[[PullStats], None] | None = None,
    config: PullConfig | None = None,
    stats: PullStats | None = None,
) -> Iterator[SliceEvent]:
    """The pull as slice events (a resumable pull stages each slice's rows and records its
    SliceDone.covered); `covered`: what an earlier attempt staged, which is not asked again."""
    config = config or PullConfig.from_settings()
    stats = stats if stats is not None else PullStats()
    yield from _pull(request, credentials, config=config, stats=stats, on_progress=on_progress,
                     slice_days=config.days_per_slice, covered=covered)


def _pull(request: PullRequest, credentials: Credentials, *, config: PullConfig,
          stats: PullStats, on_progress: Callable[[PullStats], None] | None,
          slice_days: int | None, covered: Coverage | None = None) -> Iterator[SliceEvent]:
    from twilio_reports.client import TwilioClient
    from twilio_reports.plan import plan_pull
    from twilio_reports.stream import slice_events

    rdef = REPORTS.get(request.report)
    if rdef is None:
        raise TwilioError(f"Unknown report {request.report!r}")
    stop = threading.Event()
    client = TwilioClient(credentials.auth, label=rdef.label, config=config, stats=stats,
                          stop=stop, budget_key=credentials.account_sid)
    try:
        plan = plan_pull(request, credentials, client, stats, slice_days=slice_days,
                         covered=covered)
        yield from slice_events(plan, credentials, client, config, stats, stop, on_progress)
    except _Cancelled:
        raise TwilioError(f"{rdef.label}: the pull was stopped") from None
    finally:
        stop.set()
        client.close()


def check_credentials(credentials: Credentials, *, config: PullConfig | None = None) -> str:
    """The account's friendly name, or TwilioError with Twilio's reason in plain words."""
    from twilio_reports.client import TwilioClient

    config = config or PullConfig.from_settings()
    stats = PullStats()
    with TwilioClient(credentials.auth, label="Credentials", config=config, stats=stats,
                      budget_key=credentials.account_sid) as client:
        body = client.get_json(
            f"{credentials.api_base.rstrip('/')}/2010-04-01/Accounts/{credentials.account_sid}.json",
            account=credentials.account_sid,
        )
    return str(body.get("friendly_name") or credentials.account_sid)


def preview(request: PullRequest, credentials: Credentials, limit: int = 20, *,
            config: PullConfig | None = None) -> pa.Table:
    """The first `limit` rows, fetched as one page per query (no slicing)."""
    import pyarrow as pa

    from twilio_reports.stream import coalesce

    rdef = REPORTS.get(request.report)
    if rdef is None:
        raise TwilioError(f"Unknown report {request.report!r}")
    base = config or PullConfig.from_settings()
    config = PullConfig(**{**base.__dict__, "page_size": max(1, min(limit, 1000))})
    stats = PullStats()
    batches: list[pa.RecordBatch] = []
    taken = 0
    gen = coalesce(_pull(request, credentials, config=config, stats=stats, on_progress=None,
                         slice_days=None), max(1, limit))
    try:
        for batch in gen:
            batches.append(batch.slice(0, limit - taken))
            taken += min(batch.num_rows, limit - taken)
            if taken >= limit:
                break
    finally:
        gen.close()
    return pa.Table.from_batches(batches, schema=rdef.arrow_schema())
