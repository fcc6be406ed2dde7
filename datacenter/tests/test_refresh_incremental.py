"""Incremental refreshes against the sandbox: the second run asks only for the lookback and
the new days, and its version equals a full pull of the window, records changed since the
first run included."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from datacenter import tables
from datacenter.pulls import version_pull
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from twilio_reports.dates import day_bounds_utc
from twilio_reports.sandbox import SandboxConfig, start_server
from twilio_reports.tests.sandbox_truth import TIME_FIELD, truth_sids

pytestmark = pytest.mark.django_db
WINDOW = {"duration": "range", "start_mode": "relative", "start_days_back": 29,
          "end_mode": "relative", "end_days_back": 0}
FIELDS = {"calls": ("status", "price", "duration"), "messages": ("status", "price")}


@pytest.fixture
def changing(settings):
    """A sandbox of our own: this module lets its records change (the `settled` knob)."""
    with start_server(SandboxConfig(calls=2400, messages=2400, alerts=50)) as server:
        settings.TWILIO_SANDBOX_URL = server.url
        yield server


@pytest.fixture
def alice(db, storage):
    return user_make("alice")


def _table(dataset, version) -> dict[str, dict]:
    table = tables.read_table(tables.table_uri(dataset.pk), version.delta_version)
    return {row["sid"]: row for row in table.to_pylist()}


def _truth(world, report: str, window) -> dict[str, dict]:
    span = day_bounds_utc(*window, "UTC")
    sids = set(truth_sids(world, report, span=span))
    return {r["sid"]: r for a in world.accounts for r in world.records(report, a.sid)
            if r["sid"] in sids}


def _same_values(report: str, got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for sid, row in want.items():
        for field in FIELDS[report]:
            value = row[field]
            if field == "price":
                value = None if value is None else Decimal(value)
            elif field == "duration":
                value = None if value is None else int(value)
            stored = got[sid][field]
            assert (stored.normalize() if isinstance(stored, Decimal) else stored) == \
                (value.normalize() if isinstance(value, Decimal) else value), (sid, field)


@pytest.mark.parametrize("reading", ["before", "whole-day"])
@pytest.mark.parametrize("report", ["calls", "messages"])
def test_it_fetches_only_the_lookback_and_matches_a_full_pull(changing, alice, report, reading):
    changing.config.date_upper = reading  # either reading of `X<=D` gives the same version
    dataset = dataset_make(alice, sandbox_account_make(alice), report=report, dates=WINDOW,
                           update_method="merge")
    dataset.incremental, dataset.lookback_days = True, 3
    dataset.save()
    first = version_pull(dataset=dataset)
    today = changing.world.today
    window = (today - timedelta(days=29), today)
    assert first.full_pull and (first.fetched_from, first.fetched_to) == window

    changing.config.settled = True  # calls end and get a price, queued messages go out
    changing.app.requests.clear()
    dataset.refresh_from_db()
    second = version_pull(dataset=dataset)

    after = today - timedelta(days=3)
    lower = TIME_FIELD[report].replace("date_sent", "DateSent").replace("start_time", "StartTime")
    asked = [dict(q) for path, q in changing.app.requests if path.endswith(".json") and q]
    starts = [q[lower + ">"] for q in asked if lower + ">" in q]
    assert starts and min(starts) >= after.isoformat()
    assert not second.full_pull and (second.fetched_from, second.fetched_to) == (after, today)
    got, want = _table(dataset, second), _truth(changing.world, report, window)
    _same_values(report, got, want)
    assert second.rows_changed and second.rows_changed > 0
    assert second.rows == len(want)


def test_it_re_reads_recent_usage_and_drops_days_that_left_the_window(changing, alice):
    dataset = dataset_make(alice, sandbox_account_make(alice), report="usage-records",
                           filters={"granularity": "daily", "category": "calls"},
                           dates=WINDOW, update_method="merge")
    dataset.incremental = True
    dataset.save()
    version_pull(dataset=dataset)
    changing.config.settled = True  # today's and yesterday's usage is revised
    dataset.refresh_from_db()
    second = version_pull(dataset=dataset)
    today = changing.world.today
    rows = tables.read_table(tables.table_uri(dataset.pk), second.delta_version).to_pylist()
    got = {(r["account_sid"], r["start_date"]): (r["count"], r["price"]) for r in rows}
    want = {}
    for account in changing.world.accounts:
        try:
            records = changing.world.usage_records(
                account.sid, "daily", category="calls", start=today - timedelta(days=29),
                end=today, include_subaccounts=False)
        except LookupError:
            continue
        for r in records:
            want[(r["account_sid"], date.fromisoformat(r["start_date"]))] = (
                int(r["count"]), Decimal(str(r["price"])))
    assert {k: (c, p.normalize()) for k, (c, p) in got.items()} == \
        {k: (c, p.normalize()) for k, (c, p) in want.items()}
    assert not second.full_pull


def test_refresh_everything_pulls_the_whole_window_once(changing, alice):
    dataset = dataset_make(alice, sandbox_account_make(alice), dates=WINDOW,
                           update_method="merge")
    dataset.incremental = True
    dataset.save()
    version_pull(dataset=dataset)
    dataset.full_refresh_requested = True
    dataset.save()
    dataset.refresh_from_db()
    again = version_pull(dataset=dataset)
    dataset.refresh_from_db()
    assert again.full_pull and not dataset.full_refresh_requested
    assert not version_pull(dataset=dataset).full_pull
