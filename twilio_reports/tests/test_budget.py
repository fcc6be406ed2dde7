"""One request budget per account, shared by pulls in several processes."""

from __future__ import annotations

import multiprocessing
import os
from datetime import timedelta
from pathlib import Path

import pytest

from twilio_reports.dates import day_bounds_utc
from twilio_reports.sandbox import MAIN_FRIENDLY_NAME, SandboxConfig, start_server
from twilio_reports.tests.sandbox_truth import truth_sids

CAP = 3


def need_redis() -> str:
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL", "")
    if url.startswith("redis"):
        return url
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail("REQUIRE_SERVICES=1 but REDIS_URL is not set")
    pytest.skip("REDIS_URL is not set (a Redis server is needed)")


@pytest.fixture(scope="module")
def capped():
    config = SandboxConfig(calls=4000, messages=3000, alerts=50, latency_ms=15,
                           max_in_flight_per_account=CAP)
    with start_server(config) as server:
        yield server


def _pull(url: str, budget_url: str, report: str, window: tuple, out: str) -> None:
    """A child process: one pull of the main account, sids written to `out`."""
    from twilio_reports.budget import budget_for
    from twilio_reports.pull_config import PullConfig, RetryPolicy
    from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN
    from twilio_reports.service import Credentials, PullRequest, pull_batches

    config = PullConfig(max_in_flight=CAP, page_size=50, budget=budget_for(budget_url),
                        retry=RetryPolicy(max_429_retries=0, max_retries=0))
    creds = Credentials(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, api_base=url, monitor_base=url)
    request = PullRequest(report, {"account_name": MAIN_FRIENDLY_NAME}, window)
    sids = [sid for batch in pull_batches(request, creds, config=config)
            for sid in batch.column("sid").to_pylist()]
    Path(out).write_text("\n".join(sids))


def _child(args: tuple) -> None:
    _pull(*args)


@pytest.mark.parametrize("kind", ["files", "redis"])
def test_it_keeps_four_pulls_in_two_processes_under_one_cap(capped, kind, tmp_path):
    budget_url = need_redis() if kind == "redis" else str(tmp_path / "budget")
    capped.app.faults.reset_counts()
    today = capped.world.today
    window = (today - timedelta(days=20), today - timedelta(days=1))
    jobs = [(capped.url, budget_url, report, window, str(tmp_path / f"{i}.sids"))
            for i, report in enumerate(("calls", "messages", "calls", "messages"))]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:  # two processes, two pulls each, at once
        pool.map(_child, jobs, chunksize=1)
    assert capped.app.faults.over_cap == 0  # no request was ever refused with 429
    assert 1 <= max(capped.app.faults.peak.values()) <= CAP
    span = day_bounds_utc(*window, "UTC")
    for (_, _, report, _, out) in jobs:
        want = truth_sids(capped.world, report, sids=[capped.world.accounts[0].sid], span=span)
        got = Path(out).read_text().split("\n")
        assert want and sorted(got) == sorted(want)
