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


def _hold_forever(url: str, account: str, ready: str) -> None:
    """A child process: takes the account's only slot, says so, then never lets go."""
    import time

    from twilio_reports.budget import RedisBudget

    with RedisBudget(url, lease_seconds=LEASE).slot(account, 1):
        Path(ready).write_text("held")
        time.sleep(60)


LEASE = 0.6


def _taker(url: str, account: str):
    """Another process's view of the budget, taking the only slot in a thread."""
    import threading

    from twilio_reports.budget import RedisBudget

    got = threading.Event()

    def take() -> None:
        with RedisBudget(url, lease_seconds=LEASE).slot(account, 1):
            got.set()

    threading.Thread(target=take, daemon=True).start()
    return got


def test_it_renews_a_redis_slot_held_longer_than_its_lease():
    import threading
    import uuid

    from twilio_reports.budget import RedisBudget

    url = need_redis()
    account = f"ACtest{uuid.uuid4().hex}"
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with RedisBudget(url, lease_seconds=LEASE).slot(account, 1):
            taken.set()
            release.wait(10)

    threading.Thread(target=hold, daemon=True).start()
    assert taken.wait(5)
    got = _taker(url, account)
    assert not got.wait(5 * LEASE)  # a slow request keeps its slot past the lease
    release.set()
    assert got.wait(5)


def test_it_takes_back_a_redis_slot_whose_process_died(tmp_path):
    import uuid

    url = need_redis()
    account = f"ACtest{uuid.uuid4().hex}"
    ready = tmp_path / "ready"
    child = multiprocessing.get_context("spawn").Process(
        target=_hold_forever, args=(url, account, str(ready)))
    child.start()
    try:
        for _ in range(300):
            if ready.exists():
                break
            child.join(0.05)
        assert ready.exists()
        got = _taker(url, account)
        assert not got.wait(4 * LEASE)  # alive: renewed
        child.kill()
        assert got.wait(10)  # dead: free within a lease
    finally:
        child.kill()
        child.join()
