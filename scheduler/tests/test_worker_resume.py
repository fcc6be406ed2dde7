"""Pulls through real workers: a killed backfill resumes, and DataSets of one account share
its request budget across worker processes."""

import time
from datetime import timedelta

import pytest

from connector_site.pytest_plugin import wait_for
from datacenter import tables
from datacenter.pulls import pull_request_for
from datacenter.selectors import credentials_for_account
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import Run, RunState
from scheduler.services import run_request, runs_reap_stale
from scheduler.tests.test_worker import _finished
from twilio_reports.dates import day_bounds_utc
from twilio_reports.sandbox import MAIN_FRIENDLY_NAME, SandboxConfig, start_server
from twilio_reports.service import pull_batches
from twilio_reports.tests.sandbox_truth import truth_sids

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
BACKFILL = {"duration": "range", "start_mode": "relative", "start_days_back": 399,
            "end_mode": "relative", "end_days_back": 0}
MONTH = {"duration": "range", "start_mode": "relative", "start_days_back": 29,
         "end_mode": "relative", "end_days_back": 0}


@pytest.fixture
def own_sandbox(settings, tmp_path):
    """A sandbox of this test's own; tables, staging and request budgets under tmp_path."""
    settings.DATASET_STORAGE_URI = str(tmp_path / "datasets")
    settings.DATASET_STAGING_DIR = tmp_path / "staging"
    settings.TWILIO_BUDGET_URL = str(tmp_path / "budget")
    servers = []

    def start(**config):
        server = start_server(SandboxConfig(**config)).__enter__()
        servers.append(server)
        settings.TWILIO_SANDBOX_URL = server.url
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def _sids(dataset, version) -> list[str]:
    table = tables.read_table(tables.table_uri(dataset.pk), version.delta_version, ["sid"])
    return sorted(table.column("sid").to_pylist())


def test_it_resumes_a_killed_400_day_backfill(own_sandbox, celery_worker, settings):
    sandbox = own_sandbox(calls=200, messages=8000, alerts=10, days=400, latency_ms=120)
    alice = user_make("alice")
    dataset = dataset_make(alice, sandbox_account_make(alice), report="messages",
                           filters={"account_name": MAIN_FRIENDLY_NAME}, dates=BACKFILL)
    # The requests of an uninterrupted pull of the same request, in this process.
    request = pull_request_for(dataset)
    sandbox.app.requests.clear()
    whole = sum(b.num_rows for b in pull_batches(request, credentials_for_account(
        dataset.account)))
    uninterrupted = len(sandbox.app.requests)

    sandbox.app.requests.clear()
    worker = celery_worker()
    run = run_request(dataset=dataset)

    def half_way() -> bool:
        run.refresh_from_db()
        return run.slices_total > 0 and run.slices_done >= run.slices_total // 2

    wait_for(half_way, 120, "the backfill to get half way")
    worker.kill(9)
    settings.RUN_STALE_AFTER = timedelta(seconds=1)
    time.sleep(2)
    assert runs_reap_stale() == 1
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "reuses the slices" in run.error

    celery_worker()
    again = _finished(run_request(dataset=dataset), timeout=180)
    assert again.state == RunState.SUCCEEDED, again.error
    dataset.refresh_from_db()
    want = truth_sids(sandbox.world, "messages", sids=[sandbox.world.accounts[0].sid],
                      span=day_bounds_utc(*request.window, dataset.time_zone))
    assert _sids(dataset, dataset.current_version) == sorted(want) and len(want) == whole
    both = len(sandbox.app.requests)
    assert both <= 1.1 * uninterrupted, (both, uninterrupted)


def test_it_keeps_four_datasets_of_one_account_under_its_cap(broker, own_sandbox, celery_worker,
                                                              settings):
    sandbox = own_sandbox(calls=6000, messages=6000, alerts=10, latency_ms=20,
                          max_in_flight_per_account=3)
    if broker.startswith("redis"):
        settings.TWILIO_BUDGET_URL = broker  # the scale-out path: slots in Redis
    for _ in range(2):
        celery_worker(broker_url=broker, concurrency=2)
    alice = user_make("alice")
    account = sandbox_account_make(alice)
    account.max_in_flight = 3
    account.save()
    sets = [dataset_make(alice, account, name=f"{report} {i}", report=report, dates=MONTH)
            for i, report in enumerate(("calls", "messages", "calls", "messages"))]
    sandbox.app.faults.reset_counts()
    runs = [run_request(dataset=d) for d in sets]
    for run in runs:
        assert _finished(run, timeout=180).state == RunState.SUCCEEDED, run.error
    assert sandbox.app.faults.over_cap == 0  # Twilio never had to say 429
    assert 1 <= max(sandbox.app.faults.peak.values()) <= 3
    for dataset in sets:
        dataset.refresh_from_db()
        window = pull_request_for(dataset).window
        want = truth_sids(sandbox.world, dataset.report,
                          span=day_bounds_utc(*window, dataset.time_zone))
        assert _sids(dataset, dataset.current_version) == sorted(want)
    assert Run.objects.filter(state=RunState.SUCCEEDED).count() == 4
