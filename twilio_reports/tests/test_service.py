"""Pulls through a real HTTP round trip to the sandbox, compared with its ground truth."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from twilio_reports.client import PullConfig, RetryPolicy
from twilio_reports.dates import DateBlock, day_bounds_utc, resolve_window
from twilio_reports.definitions import REPORTS
from twilio_reports.sandbox import (
    MAIN_ACCOUNT_SID,
    MAIN_API_KEY_SECRET,
    MAIN_API_KEY_SID,
    MAIN_AUTH_TOKEN,
    SUBACCOUNTS,
    SandboxConfig,
    start_server,
)
from twilio_reports.service import (
    Credentials,
    PullRequest,
    PullStats,
    TwilioError,
    check_credentials,
    preview,
    pull_batches,
)
from twilio_reports.tests.sandbox_truth import ALL_SIDS, truth_sids, usage_keys

FAST = PullConfig(retry=RetryPolicy(scale=0.001), read_timeout=5, connect_timeout=2)
SMALL_PAGES = PullConfig(retry=RetryPolicy(scale=0.001), read_timeout=5, page_size=4)
SUPPORT_SID, SUPPORT_NAME = SUBACCOUNTS[0][0], SUBACCOUNTS[0][2]


@pytest.fixture(scope="module")
def sandbox():
    with start_server(SandboxConfig(calls=1500, messages=900, alerts=400)) as server:
        yield server


def creds(sandbox, **kw) -> Credentials:
    base = {"account_sid": MAIN_ACCOUNT_SID, "secret": MAIN_AUTH_TOKEN,
            "api_base": sandbox.url, "monitor_base": sandbox.url}
    return Credentials(**{**base, **kw})


def pull(sandbox, report, params=None, window=None, tz="UTC", config=FAST, batch_rows=50_000,
         credentials=None, stats=None) -> pa.Table:
    request = PullRequest(report, params or {}, window, tz)
    batches = list(pull_batches(request, credentials or creds(sandbox), config=config,
                                batch_rows=batch_rows, stats=stats))
    schema = REPORTS[report].arrow_schema()
    assert all(b.schema == schema for b in batches)
    assert all(b.num_rows <= batch_rows for b in batches)
    return pa.Table.from_batches(batches, schema=schema)


def sids_of(table: pa.Table) -> list[str]:
    return table.column("sid").to_pylist()


def assert_same(got: list, want: list) -> None:
    dupes = [k for k, n in Counter(got).items() if n > 1]
    assert not dupes, f"duplicates: {dupes[:3]}"
    assert set(got) == set(want), (len(got), len(want))
    assert len(got) == len(want)


def window_days(sandbox, back_start: int, back_end: int):
    today = sandbox.world.today
    return today - timedelta(days=back_start), today - timedelta(days=back_end)


@pytest.mark.parametrize("report", ["calls", "conferences", "notifications", "messages",
                                    "alerts"])
def test_it_pulls_a_window_exactly_across_pages_slices_and_accounts(sandbox, report):
    window = window_days(sandbox, 12, 3)
    span = day_bounds_utc(*window, "UTC")
    stats = PullStats()
    table = pull(sandbox, report, window=window, config=SMALL_PAGES, batch_rows=17, stats=stats)
    want = truth_sids(sandbox.world, report, span=span)
    # Several pages per account (PageSize 4) and more rows than one batch (17).
    assert len(want) > 17 and stats.pages >= len(want) / 4
    assert_same(sids_of(table), want)
    assert set(table.column("account_sid").to_pylist()) >= {MAIN_ACCOUNT_SID, SUPPORT_SID}


@pytest.mark.parametrize("report", ["calls", "conferences", "notifications", "messages",
                                    "alerts"])
def test_it_pulls_everything_without_a_window(sandbox, report):
    assert_same(sids_of(pull(sandbox, report)), truth_sids(sandbox.world, report))


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_it_drops_rows_outside_a_local_window(sandbox, tz):
    window = window_days(sandbox, 9, 7)
    span = day_bounds_utc(*window, tz)
    table = pull(sandbox, "calls", window=window, tz=tz)
    assert_same(sids_of(table), truth_sids(sandbox.world, "calls", span=span))
    times = table.column("start_time").to_pylist()
    assert min(times) >= span[0] and max(times) < span[1]


@pytest.mark.parametrize("block", [
    DateBlock(duration="specific", report_date_mode="relative", days_back=1),
    DateBlock(duration="range", start_mode="relative", start_days_back=10,
              end_mode="relative", end_days_back=5),
    DateBlock(duration="range", start_mode="relative", start_days_back=4, end_mode="relative",
              end_days_back=0),
])
def test_it_honours_each_date_mode(sandbox, block):
    window = resolve_window(block, "Europe/Berlin", sandbox.world.today)
    span = day_bounds_utc(*window, "Europe/Berlin")
    table = pull(sandbox, "messages", window=window, tz="Europe/Berlin")
    assert_same(sids_of(table), truth_sids(sandbox.world, "messages", span=span))


def test_it_honours_a_specific_date_block(sandbox):
    day = sandbox.world.today - timedelta(days=6)
    block = DateBlock(duration="specific", report_date_mode="specific", report_date=day)
    window = resolve_window(block, "UTC", sandbox.world.today)
    table = pull(sandbox, "notifications", window=window)
    assert_same(sids_of(table),
                truth_sids(sandbox.world, "notifications", span=day_bounds_utc(day, day, "UTC")))


def _pick(sandbox, report, field):
    """A value of `field` that actually occurs, so the filter test is not vacuous."""
    values = Counter(r[field] for r in sandbox.world.records(report, MAIN_ACCOUNT_SID))
    return values.most_common(1)[0][0]


@pytest.mark.parametrize(("report", "param", "field"), [
    ("calls", "to_number", "to"),
    ("calls", "from_number", "from"),
    ("messages", "to_number", "to"),
    ("messages", "from_number", "from"),
])
def test_it_filters_by_number(sandbox, report, param, field):
    value = _pick(sandbox, report, field)
    table = pull(sandbox, report, {param: value})
    want = truth_sids(sandbox.world, report, where=lambda r: r[field] == value)
    assert want
    assert_same(sids_of(table), want)


@pytest.mark.parametrize(("report", "param", "field", "values"), [
    ("calls", "call_status", "status", ["completed", "busy", "no-answer"]),
    ("conferences", "conference_status", "status", ["init", "in-progress", "completed"]),
    ("notifications", "log", "log", ["0", "1"]),
    ("alerts", "log_level", "log_level", ["error", "warning", "notice", "debug"]),
])
def test_it_filters_by_choice(sandbox, report, param, field, values):
    window = window_days(sandbox, 20, 0)
    span = day_bounds_utc(*window, "UTC")
    for value in values:
        table = pull(sandbox, report, {param: value}, window=window)
        want = truth_sids(sandbox.world, report, span=span, where=lambda r, v=value: r[field] == v)
        assert_same(sids_of(table), want)


def test_it_asks_for_every_conference_status_when_none_is_chosen(sandbox):
    table = pull(sandbox, "conferences")
    assert set(table.column("status").to_pylist()) == {"init", "in-progress", "completed"}


def test_it_pulls_one_subaccount_by_name(sandbox):
    for report in ("calls", "alerts"):
        table = pull(sandbox, report, {"account_name": SUPPORT_NAME})
        assert_same(sids_of(table), truth_sids(sandbox.world, report, sids=[SUPPORT_SID]))


def test_it_explains_an_unknown_account_name(sandbox):
    with pytest.raises(TwilioError, match='No Twilio account named "Nobody" is visible'):
        pull(sandbox, "calls", {"account_name": "Nobody"})


def test_it_lists_and_filters_accounts_without_tokens(sandbox):
    table = pull(sandbox, "accounts")
    assert_same(sids_of(table), ALL_SIDS)
    assert "auth_token" not in table.schema.names
    assert MAIN_AUTH_TOKEN not in str(table.to_pylist())
    named = pull(sandbox, "accounts", {"account_name": SUPPORT_NAME})
    assert sids_of(named) == [SUPPORT_SID]
    assert pull(sandbox, "accounts", {"account_status": "closed"}).num_rows == 0


@pytest.mark.parametrize("granularity", ["all", "daily", "monthly", "yearly"])
def test_it_pulls_usage_per_account_without_double_counting(sandbox, granularity):
    window = window_days(sandbox, 45, 2)
    table = pull(sandbox, "usage-records", {"granularity": granularity}, window=window)
    got = list(zip(*(table.column(c).to_pylist() for c in
                     ("account_sid", "category", "start_date", "end_date")), strict=True))
    got = [(a, c, s.isoformat(), e.isoformat()) for a, c, s, e in got]
    want = usage_keys(sandbox.world, "records" if granularity == "all" else granularity,
                      window=window)
    assert want and sorted(got) == sorted(want)


@pytest.mark.parametrize("granularity", ["today", "yesterday", "this-month", "last-month",
                                         "all-time"])
def test_it_pulls_fixed_usage_periods(sandbox, granularity):
    table = pull(sandbox, "usage-records", {"granularity": granularity, "category": "calls"},
                 window=window_days(sandbox, 3, 1))  # ignored by the fixed periods
    want = usage_keys(sandbox.world, granularity, category="calls")
    assert table.num_rows == len(want) > 0
    assert set(table.column("category").to_pylist()) == {"calls"}


def test_it_treats_a_subaccount_without_usage_as_empty(sandbox):
    archive_name = SUBACCOUNTS[2][2]
    table = pull(sandbox, "usage-records", {"account_name": archive_name})
    assert table.num_rows == 0


def test_it_clamps_old_message_windows_and_says_so(sandbox):
    stats = PullStats()
    today = sandbox.world.today
    weekly = PullConfig(retry=RetryPolicy(scale=0.001), days_per_slice=7)
    table = pull(sandbox, "messages", window=(today - timedelta(days=500), today), stats=stats,
                 config=weekly)
    # A window keeps dated rows only: messages never sent (no date_sent) are not in it.
    ever = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    assert_same(sids_of(table), truth_sids(sandbox.world, "messages", span=ever))
    assert any("400 days" in w for w in stats.warnings)


def test_it_works_with_an_api_key(sandbox):
    key = creds(sandbox, key_sid=MAIN_API_KEY_SID, secret=MAIN_API_KEY_SECRET)
    assert check_credentials(key, config=FAST) == "Sandbox Main"
    assert_same(sids_of(pull(sandbox, "notifications", credentials=key)),
                truth_sids(sandbox.world, "notifications"))


def test_it_fails_at_once_on_bad_credentials(sandbox):
    bad = creds(sandbox, secret="0" * 32)
    stats = PullStats()
    with pytest.raises(TwilioError) as err:
        pull(sandbox, "calls", credentials=bad, stats=stats)
    assert err.value.message == (
        'Calls: Twilio rejected the credentials (20003). Twilio said: "Authenticate"'
    )
    assert stats.retries == 0 and "0" * 32 not in repr(err.value)
    with pytest.raises(TwilioError, match="rejected the credentials"):
        check_credentials(bad, config=FAST)


def test_it_previews_the_first_rows(sandbox):
    table = preview(PullRequest("calls", {}, window_days(sandbox, 5, 0)), creds(sandbox),
                    limit=20, config=FAST)
    assert table.num_rows == 20 and table.schema == REPORTS["calls"].arrow_schema()


def test_it_reports_progress(sandbox):
    seen = []
    stats = PullStats()
    request = PullRequest("calls", {}, window_days(sandbox, 3, 0))
    config = PullConfig(retry=RetryPolicy(scale=0.001), page_size=50, progress_interval=0)
    rows = sum(b.num_rows for b in pull_batches(request, creds(sandbox), config=config,
                                                stats=stats, on_progress=lambda s: seen.append(
                                                    (s.pages, s.rows))))
    assert len(seen) >= 3 and seen[-1] == (stats.pages, rows) and stats.rows == rows


def test_it_stops_fetch_threads_when_the_consumer_stops(sandbox):
    gen = pull_batches(PullRequest("calls"), creds(sandbox), config=SMALL_PAGES, batch_rows=10)
    next(gen)
    gen.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("twilio-pull")]


def test_it_splits_alert_windows_twilio_refuses():
    with start_server(SandboxConfig(calls=30, messages=0, alerts=21_000)) as server:
        today = server.world.today
        window = (today - timedelta(days=29), today)
        config = PullConfig(retry=RetryPolicy(scale=0.001), days_per_slice=60)
        table = pull(server, "alerts", {"account_name": "Sandbox Main"}, window=window,
                     config=config)
        want = truth_sids(server.world, "alerts", sids=[MAIN_ACCOUNT_SID],
                          span=day_bounds_utc(*window, "UTC"))
        assert len(want) > 10_000
        assert_same(sids_of(table), want)


def test_it_returns_ground_truth_despite_faults():
    config = SandboxConfig(calls=1200, messages=300, alerts=150, rate_429=0.3, rate_5xx=0.05,
                           stall_next=1, stall_seconds=2.0, truncate_rate=0.02,
                           reset_rate=0.02)
    with start_server(config) as server:
        flaky = PullConfig(retry=RetryPolicy(scale=0.002, max_retries=8), read_timeout=0.5,
                           page_size=100)
        for report in ("calls", "conferences", "alerts", "usage-records"):
            stats = PullStats()
            window = window_days(server, 15, 1)
            table = pull(server, report, window=window, config=flaky, stats=stats)
            assert stats.retries > 0, report
            if report == "usage-records":
                assert table.num_rows == len(usage_keys(server.world, "daily", window=window))
            else:
                assert_same(sids_of(table), truth_sids(server.world, report,
                                                       span=day_bounds_utc(*window, "UTC")))
