"""Incremental refresh and resumed backfills, against the sandbox over HTTP.

1. An hourly refresh of a 30-day Calls window: a full pull (the whole window, Replace)
   against an incremental one (the lookback and today, merged into the previous version by
   key with the window's old rows kept). Requests (the sandbox's request log) and seconds.
2. A 400-day SMS backfill stopped half way (the pull is closed after half of its slices, as
   a killed worker's would be) and resumed from what its finished slices covered: the
   requests of both attempts together against those of one uninterrupted pull.
"""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.sandbox import sandbox

LOOKBACK_DAYS = 3


def _requests(url: str) -> int:
    return len(httpx.get(f"{url}/_sandbox/requests", timeout=60).json())


def _clear(url: str) -> None:
    httpx.delete(f"{url}/_sandbox/requests", timeout=60)


def run(config: dict[str, Any]) -> dict[str, Any]:
    from datacenter import tables
    from twilio_reports.coverage import add
    from twilio_reports.dates import day_bounds_utc
    from twilio_reports.definitions import REPORTS
    from twilio_reports.plan import epoch_us
    from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, MAIN_FRIENDLY_NAME
    from twilio_reports.service import (
        Credentials,
        PullConfig,
        PullRequest,
        SliceDone,
        pull_batches,
        pull_slices,
    )

    rows = int(config["rows"])
    scratch = Path(tempfile.mkdtemp(prefix="refresh-", dir=config["work"]))
    pull_config = PullConfig(max_in_flight=10)
    out: dict[str, Any] = {"lookback_days": LOOKBACK_DAYS}
    rdef = REPORTS["calls"]
    main = {"account_name": MAIN_FRIENDLY_NAME}

    with sandbox(calls=2 * rows, procs=1) as sb:
        creds = Credentials(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, api_base=sb.url,
                            monitor_base=sb.url)
        window = (sb.today - timedelta(days=29), sb.today)
        uri = str(scratch / "calls")
        full_request = PullRequest("calls", main, window)
        figures = {}
        for kind in ("full", "incremental"):
            _clear(sb.url)
            started = time.perf_counter()
            if kind == "full":
                batches = pull_batches(full_request, creds, config=pull_config)
                result = tables.write_version(uri, batches, rdef.arrow_schema(), mode="replace",
                                              merge_key=rdef.merge_key)
            else:
                start = sb.today - timedelta(days=LOOKBACK_DAYS)
                request = PullRequest("calls", main, (start, sb.today))
                keep = tables.Window(rdef.date_filter.row_field,
                                     epoch_us(day_bounds_utc(*window, "UTC")[0]),
                                     epoch_us(day_bounds_utc(start, start, "UTC")[0]))
                batches = pull_batches(request, creds, config=pull_config)
                result = tables.write_version(uri, batches, rdef.arrow_schema(), mode="merge",
                                              merge_key=rdef.merge_key, window=keep)
            figures[kind] = {"seconds": time.perf_counter() - started,
                             "requests": _requests(sb.url), "rows": result.rows}
        out["hourly"] = figures
        out["hourly"]["same_rows"] = figures["full"]["rows"] == figures["incremental"]["rows"]

    with sandbox(calls=600, procs=1, extra=("--messages", str(2 * int(config["messages"])),
                                                "--days", "400")) as sb:
        creds = Credentials(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, api_base=sb.url,
                            monitor_base=sb.url)
        request = PullRequest("messages", main, (sb.today - timedelta(days=399), sb.today))
        _clear(sb.url)
        whole = sum(b.num_rows for b in pull_batches(request, creds, config=pull_config))
        uninterrupted = _requests(sb.url)
        _clear(sb.url)
        covered: dict = {}
        events = pull_slices(request, creds, config=pull_config)
        finished = 0
        for event in events:
            if isinstance(event, SliceDone):
                add(covered, event.account, event.covered)
                finished += 1
                if finished >= 200:  # half of the 400 day slices: the worker dies
                    events.close()
                    break
        resumed = sum(1 for e in pull_slices(request, creds, config=pull_config,
                                             covered=covered) if isinstance(e, SliceDone))
        both = _requests(sb.url)
        out["resume"] = {"rows": whole, "uninterrupted_requests": uninterrupted,
                         "both_attempts_requests": both, "slices_after_resume": resumed,
                         "overhead": both / uninterrupted}
    return out
