"""A main account with hundreds of subaccounts: slices by need, not one per account-day."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest

from twilio_reports.client import PullConfig, PullStats, RetryPolicy
from twilio_reports.dates import day_bounds_utc
from twilio_reports.sandbox import SandboxConfig, start_server
from twilio_reports.tests.sandbox_truth import truth_sids
from twilio_reports.tests.test_service import assert_same, pull, sids_of

PAGE = 200
CONFIG = PullConfig(retry=RetryPolicy(scale=0.001), read_timeout=10, page_size=PAGE)
CALLS_PATH = "/Calls.json"


@pytest.fixture(scope="module")
def crowded():
    config = SandboxConfig(calls=12_000, messages=600, alerts=50, subaccounts=300,
                           busy_every=60)
    with start_server(config) as server:
        yield server


@pytest.mark.parametrize("reading", ["before", "whole-day"])
def test_it_asks_each_quiet_account_once_and_splits_only_busy_ones(crowded, reading):
    crowded.config.date_upper = reading
    try:
        today = crowded.world.today
        window = (today - timedelta(days=20), today - timedelta(days=1))
        span = day_bounds_utc(*window, "UTC")
        sids = [a.sid for a in crowded.world.accounts]
        crowded.app.requests.clear()
        stats = PullStats()
        table = pull(crowded, "calls", window=window, config=CONFIG, stats=stats)
        want = truth_sids(crowded.world, "calls", sids=sids, span=span)
        assert_same(sids_of(table), want)

        # The table equals the truth, so its rows per account are the truth's.
        per_account = Counter(table.column("account_sid").to_pylist())
        # The least any client can ask: one request per account, or the pages its rows need.
        floor = sum(max(1, math.ceil(per_account[sid] / PAGE)) for sid in sids)
        asked = sum(1 for path, _ in crowded.app.requests if path.endswith(CALLS_PATH))
        print(f"{reading}: {asked} requests, {floor} at least")
        assert asked <= 1.1 * floor, (asked, floor)
        assert stats.accounts_total == stats.accounts_done == len(sids) == 304
    finally:
        crowded.config.date_upper = "before"
