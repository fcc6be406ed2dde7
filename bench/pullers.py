"""The in-process pulls the Pull and Memory scenarios compare (the floor and our CLI run as
processes of their own: bench/floor.py, bench/contest.py).

- ours:  twilio_reports.service.pull_batches -> datacenter.tables.write_version (typed Delta)
- sdk:   the official `twilio` client, `calls.stream(page_size=1000)`, each record to CSV

Both read the main account's calls over the sandbox's whole 30-day window. Each runs in its
own process (harness.run_child) and writes the sids it got to a file, so the caller can check
the sets are identical.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.harness import RssSampler, peak_rss_mb, rss_mb, stopwatch
from bench.sandbox import MAX_IN_FLIGHT
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, MAIN_FRIENDLY_NAME

WINDOW_DAYS = 30  # the sandbox's data window (twilio_reports.sandbox.world.WINDOW_DAYS)
PAGE_SIZE = 1000
CALLS_PATH = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json"


def window(today: date) -> tuple[date, date]:
    return today - timedelta(days=WINDOW_DAYS - 1), today


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Child entry: config = {method, url, today, sids_path?, table_uri?}."""
    method = config["method"]
    fn = {"ours": ours, "sdk": sdk}[method]
    start_rss = rss_mb()
    with RssSampler() as sampler, stopwatch() as clock:
        rows, extra = fn(config)
    return {
        "method": method,
        "rows": rows,
        "seconds": clock["s"],
        "rows_per_s": rows / clock["s"] if clock["s"] else 0.0,
        "start_rss_mb": start_rss,
        "sampled_peak_rss_mb": sampler.peak,
        "peak_rss_mb": peak_rss_mb(),
        **extra,
    }


def _write_sids(path: str | None, sids: list[str]) -> None:
    if path:
        Path(path).write_text("\n".join(sids))


# --- ours --------------------------------------------------------------------------------


def ours(config: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from datacenter import tables
    from twilio_reports.definitions import REPORTS
    from twilio_reports.service import Credentials, PullConfig, PullRequest, PullStats, pull_batches

    today = date.fromisoformat(config["today"])
    request = PullRequest("calls", params={"account_name": MAIN_FRIENDLY_NAME},
                          window=window(today), tz="UTC")
    creds = Credentials(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, api_base=config["url"],
                        monitor_base=config["url"])
    # The sandbox admits 10 requests per account, like the floor; the product's default
    # (settings.TWILIO_MAX_IN_FLIGHT) is 8, kept below Twilio's limit on purpose.
    knobs = {k: int(config[k]) for k in ("queue_pages",) if k in config}
    pull_config = PullConfig(max_in_flight=MAX_IN_FLIGHT, **knobs)
    stats = PullStats()
    rdef = REPORTS["calls"]
    # batch_rows only when an experiment asks: the product calls pull_batches with its default.
    sizing = {"batch_rows": int(config["batch_rows"])} if "batch_rows" in config else {}
    batches = pull_batches(request, creds, config=pull_config, stats=stats, **sizing)
    result = tables.write_version(config["table_uri"], batches, rdef.arrow_schema(),
                                  mode="replace", merge_key=rdef.merge_key)
    if config.get("sids_path"):
        sids = tables.read_table(config["table_uri"], result.delta_version, ["sid"])
        _write_sids(config["sids_path"], sids.column("sid").to_pylist())
    return result.rows, {"pages": stats.pages, "requests": stats.requests,
                         "retries": stats.retries, "table_bytes": result.bytes,
                         "max_in_flight": MAX_IN_FLIGHT,
                         "days_per_slice": pull_config.days_per_slice}


# --- the SDK -----------------------------------------------------------------------------


def _sandbox_http_client(base: str) -> Any:
    from twilio.http.http_client import TwilioHttpClient

    target = urlsplit(base)

    class SandboxHttpClient(TwilioHttpClient):
        """Sends the SDK's requests (first page and next pages) to the sandbox host.

        Rewriting at the HTTP layer catches every URL the SDK builds, including
        `next_page_uri` made absolute against api.twilio.com."""

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            url = urlsplit(url)._replace(scheme=target.scheme, netloc=target.netloc).geturl()
            return super().request(method, url, *args, **kwargs)

    return SandboxHttpClient()


def sdk(config: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from twilio.rest import Client

    from twilio_reports.definitions import REPORTS

    today = date.fromisoformat(config["today"])
    first, last = window(today)
    client = Client(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN,
                    http_client=_sandbox_http_client(config["url"]))
    columns = [c.name for c in REPORTS["calls"].columns]
    attrs = ["from_" if c == "from" else c for c in columns]
    out_path = Path(config["csv_path"])
    rows = 0
    sids: list[str] = []
    with out_path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for call in client.calls.stream(
            page_size=PAGE_SIZE,
            start_time_after=datetime.combine(first, time.min, tzinfo=UTC),
            # The SDK formats datetimes to the second; the last second of the last day keeps
            # "on or before" equal to our whole-day window.
            start_time_before=datetime.combine(last, time(23, 59, 59), tzinfo=UTC),
        ):
            writer.writerow([getattr(call, a, None) for a in attrs])
            sids.append(call.sid)
            rows += 1
    _write_sids(config.get("sids_path"), sids)
    return rows, {"csv_bytes": out_path.stat().st_size, "max_in_flight": 1}
