"""Runs through a real Celery worker process, on the filesystem broker and on Redis."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from deltalake import DeltaTable

from connector_site.pytest_plugin import wait_for
from datacenter import tables
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import ACTIVE_STATES, Run, RunState, RunTrigger, Schedule
from scheduler.services import dispatch_due, run_request, runs_reap_stale, schedule_save

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _finished(run: Run, timeout: float = 90) -> Run:
    def done():
        run.refresh_from_db()
        return run.state not in ACTIVE_STATES

    wait_for(done, timeout, f"run {run.pk} to finish")
    return run


def test_it_versions_replace_append_and_merge_through_the_worker(broker, celery_worker, sandbox):
    celery_worker(broker_url=broker)
    alice = user_make("alice")
    account = sandbox_account_make(alice)
    sets = {
        m: dataset_make(alice, account, name=m, update_method=m)
        for m in ("replace", "append", "merge")
    }
    for _ in range(2):
        runs = [run_request(dataset=d) for d in sets.values()]
        for run in runs:
            assert _finished(run).state == RunState.SUCCEEDED, run.error
    rows = {m: d.versions.get(number=2).rows for m, d in sets.items()}
    one = sets["replace"].versions.get(number=1).rows
    assert one > 0
    assert rows == {"replace": one, "append": 2 * one, "merge": one}


def test_it_runs_scheduled_datasets_at_the_right_minute_across_dst(broker, celery_worker, sandbox):
    celery_worker(broker_url=broker)
    alice = user_make("alice")
    dataset = dataset_make(alice, sandbox_account_make(alice), time_zone="America/New_York")
    spec = {"kind": "daily", "tz": "America/New_York", "at": "01:30", "every": 1}
    start = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    schedule_save(dataset=dataset, spec=spec, now=start)
    fired = []
    t = start
    while t < datetime(2026, 11, 2, 12, 0, tzinfo=UTC):
        if dispatch_due(now=t):
            fired.append(t)
            _finished(Run.objects.filter(dataset=dataset).first())
        t += timedelta(minutes=1)
    # 01:30 EDT = 05:30 UTC; on 1 November 01:30 happens twice: once, the first (EDT) pass.
    assert fired == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
    ]
    assert (
        list(Run.objects.filter(dataset=dataset).values_list("state", flat=True))
        == [RunState.SUCCEEDED] * 2
    )


def test_it_keeps_the_version_and_retries_when_a_pull_fails(broker, celery_worker, sandbox):
    celery_worker(broker_url=broker)
    alice = user_make("alice")
    good = sandbox_account_make(alice)
    dataset = dataset_make(alice, good, retry_every_minutes=5, retry_max=1)
    first = _finished(run_request(dataset=dataset))
    assert first.state == RunState.SUCCEEDED
    dataset.account = sandbox_account_make(alice, name="Bad", token="f" * 32)
    dataset.save(update_fields=["account"])
    Schedule.objects.filter(dataset=dataset).update(next_run_at=datetime(2026, 1, 1, tzinfo=UTC))
    dispatch_due(now=datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
    failed = _finished(Run.objects.get(dataset=dataset, trigger=RunTrigger.SCHEDULED))
    assert failed.state == RunState.FAILED and "20003" in failed.error
    # The worker writes the retry just after the run's state: wait for it, do not race it.
    wait_for(lambda: Schedule.objects.get(dataset=dataset).retry_at is not None, 30,
             "the retry to be scheduled")
    dataset.refresh_from_db()
    assert dataset.current_version.number == 1
    assert tables.read_table(tables.table_uri(dataset.pk), first.version.delta_version).num_rows > 0


def test_it_fails_the_run_of_a_killed_worker_and_keeps_the_table(
    broker, celery_worker, sandbox, settings
):
    worker = celery_worker(broker_url=broker)
    alice = user_make("alice")
    dataset = dataset_make(alice, sandbox_account_make(alice))
    first = _finished(run_request(dataset=dataset))
    uri = tables.table_uri(dataset.pk)
    delta_before = DeltaTable(uri).version()
    # Pages so slow that the kill lands mid-pull, before anything can be written.
    sandbox.config.latency_ms = 4000
    run = run_request(dataset=dataset)
    wait_for(
        lambda: Run.objects.filter(pk=run.pk, state=RunState.RUNNING).exists(),
        60,
        "the worker to start the run",
    )

    worker.kill(9)
    settings.RUN_STALE_AFTER = timedelta(seconds=2)
    time.sleep(3)
    assert runs_reap_stale() == 1
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "worker" in run.error
    assert DeltaTable(uri).version() == delta_before
    dataset.refresh_from_db()
    assert dataset.current_version.number == 1
    assert tables.read_table(uri, first.version.delta_version).num_rows == first.version.rows
