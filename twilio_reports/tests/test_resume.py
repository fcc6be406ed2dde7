"""A pull stopped half way resumes from what its finished slices covered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from twilio_reports.coverage import Coverage, add
from twilio_reports.dates import day_bounds_utc
from twilio_reports.pull_config import PullConfig, RetryPolicy
from twilio_reports.sandbox import SandboxConfig, start_server
from twilio_reports.service import PullRequest, SliceDone, SliceRows, pull_slices
from twilio_reports.tests.sandbox_truth import truth_sids
from twilio_reports.tests.test_service import creds

CONFIG = PullConfig(retry=RetryPolicy(scale=0.001), page_size=50, max_in_flight=4)


@pytest.fixture(scope="module")
def long_history():
    with start_server(SandboxConfig(calls=600, messages=8000, alerts=20, days=400)) as server:
        yield server


def _attempt(server, request, covered: Coverage, stop_after: int | None
             ) -> tuple[list[str], Coverage]:
    """One attempt: rows of finished slices only (as a stager keeps them), and coverage."""
    pending: dict[int, list[str]] = {}
    kept: list[str] = []
    events = pull_slices(request, creds(server), covered=covered, config=CONFIG)
    done = 0
    for event in events:
        if isinstance(event, SliceRows):
            pending.setdefault(event.slice, []).extend(event.batch.column("sid").to_pylist())
        elif isinstance(event, SliceDone):
            kept += pending.pop(event.slice, [])
            add(covered, event.account, event.covered)
            done += 1
            if stop_after is not None and done >= stop_after:
                events.close()  # the worker dies: unfinished slices' rows are lost
                break
    return kept, covered


@pytest.mark.parametrize("reading", ["before", "whole-day"])
def test_it_resumes_where_it_stopped_and_asks_little_twice(long_history, reading):
    long_history.config.date_upper = reading
    try:
        today = long_history.world.today
        window = (today - timedelta(days=399), today)  # a 400-day SMS backfill
        request = PullRequest("messages", {"account_name": "Sandbox Main"}, window)
        long_history.app.requests.clear()
        whole, _ = _attempt(long_history, request, {}, None)
        uninterrupted = len(long_history.app.requests)

        long_history.app.requests.clear()
        first, covered = _attempt(long_history, request, {}, stop_after=100)
        assert covered and first
        second, covered = _attempt(long_history, request, covered, None)
        both = len(long_history.app.requests)

        want = truth_sids(long_history.world, "messages",
                          sids=[long_history.world.accounts[0].sid],
                          span=day_bounds_utc(*window, "UTC"))
        assert sorted(first + second) == sorted(want) == sorted(whole)
        assert both <= 1.1 * uninterrupted, (both, uninterrupted)
    finally:
        long_history.config.date_upper = "before"
