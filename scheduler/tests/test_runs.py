"""Runs executed in-process against the sandbox over HTTP: versions, failures, retries."""

from datetime import timedelta

import pyarrow as pa
import pytest
from django.core import mail
from django.utils import timezone

from datacenter import tables
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import Run, RunState, RunTrigger, Schedule
from scheduler.services import RunAlreadyActive, run_execute, run_request, runs_reap_stale

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    return user_make("alice")


@pytest.fixture
def account(alice, sandbox):
    return sandbox_account_make(alice)


def _run(dataset, trigger=RunTrigger.MANUAL) -> Run:
    run = run_request(dataset=dataset, trigger=trigger)
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def _sids(dataset, delta_version) -> list[str]:
    table = tables.read_table(tables.table_uri(dataset.pk), delta_version, columns=["sid"])
    return table.column("sid").to_pylist()


def test_it_makes_exactly_one_version_per_successful_run(alice, account):
    dataset = dataset_make(alice, account)
    run = _run(dataset)
    assert run.state == RunState.SUCCEEDED, run.error
    dataset.refresh_from_db()
    version = dataset.current_version
    assert version.number == 1 and run.version_id == version.pk
    assert version.rows == run.rows > 0
    assert [c[0] for c in version.columns][:1] and version.bytes > 0
    assert run.pages >= 1 and run.finished_at >= run.started_at


def test_it_replaces_appends_and_merges(alice, account):
    replace = dataset_make(alice, account, name="r", update_method="replace")
    append = dataset_make(alice, account, name="a", update_method="append")
    merge = dataset_make(alice, account, name="m", update_method="merge")
    for ds in (replace, append, merge):
        _run(ds)
        _run(ds)
        ds.refresh_from_db()
        assert ds.current_version.number == 2
    one = len(_sids(replace, replace.current_version.delta_version))
    assert one > 0
    # Replace: the run's rows; Append: added to the previous version; Merge: upsert on sid.
    assert replace.current_version.rows == one
    assert append.current_version.rows == 2 * one
    merged = _sids(merge, merge.current_version.delta_version)
    assert len(merged) == len(set(merged)) == one


def test_it_refuses_run_now_while_a_run_is_active(alice, account):
    dataset = dataset_make(alice, account)
    run_request(dataset=dataset)
    with pytest.raises(RunAlreadyActive):
        run_request(dataset=dataset)
    assert Run.objects.filter(dataset=dataset).count() == 1


def test_it_keeps_the_previous_version_when_a_pull_fails(alice, account, sandbox):
    dataset = dataset_make(alice, account)
    first = _run(dataset)
    before = _sids(dataset, first.version.delta_version)
    bad = sandbox_account_make(alice, name="Bad", token="0" * 32)
    dataset.account = bad
    dataset.save(update_fields=["account"])
    failed = _run(dataset)
    assert failed.state == RunState.FAILED
    assert "credentials" in failed.error and "20003" in failed.error
    dataset.refresh_from_db()
    assert dataset.current_version.number == 1
    assert _sids(dataset, dataset.current_version.delta_version) == before


def test_it_retries_scheduled_runs_per_policy_then_mails_once(alice, sandbox):
    bad = sandbox_account_make(alice, name="Bad", token="0" * 32)
    dataset = dataset_make(alice, bad, retry_every_minutes=10, retry_max=2)
    first = _run(dataset, RunTrigger.SCHEDULED)
    assert first.state == RunState.FAILED
    schedule = Schedule.objects.get(dataset=dataset)
    assert schedule.retries_made == 1
    assert abs((schedule.retry_at - first.finished_at) - timedelta(minutes=10)) < timedelta(
        seconds=5
    )
    _run(dataset, RunTrigger.RETRY)
    assert Schedule.objects.get(dataset=dataset).retries_made == 2
    assert mail.outbox == []
    _run(dataset, RunTrigger.RETRY)
    schedule.refresh_from_db()
    assert schedule.retry_at is None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Calls" in message.subject and "20003" in message.body
    assert f"/datasets/{dataset.pk}/" in message.body
    assert "0" * 32 not in message.body


def test_it_does_not_retry_manual_runs(alice, sandbox):
    bad = sandbox_account_make(alice, name="Bad", token="0" * 32)
    dataset = dataset_make(alice, bad)
    _run(dataset, RunTrigger.MANUAL)
    assert Schedule.objects.get(dataset=dataset).retry_at is None
    assert mail.outbox == []


def test_it_fails_a_dataset_whose_account_was_deleted(alice, account):
    dataset = dataset_make(alice, account)
    account.delete()
    dataset.refresh_from_db()
    run = _run(dataset)
    assert run.state == RunState.FAILED
    assert "account was deleted" in run.error


def test_it_marks_runs_of_dead_workers_failed(alice, account, settings):
    dataset = dataset_make(alice, account)
    run = run_request(dataset=dataset)
    old = timezone.now() - settings.RUN_STALE_AFTER - timedelta(seconds=5)
    Run.objects.filter(pk=run.pk).update(state=RunState.RUNNING, started_at=old, heartbeat_at=old)
    assert runs_reap_stale() == 1
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "worker" in run.error
    # The next run proceeds.
    assert run_request(dataset=dataset).state == RunState.QUEUED


def test_it_writes_typed_columns(alice, account):
    dataset = dataset_make(alice, account)
    run = _run(dataset)
    table = tables.read_table(tables.table_uri(dataset.pk), run.version.delta_version)
    assert table.schema.field("start_time").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_decimal(table.schema.field("price").type)


def test_it_ignores_a_table_commit_that_was_never_recorded(alice, account):
    dataset = dataset_make(alice, account, update_method="append")
    first = _run(dataset)
    uri = tables.table_uri(dataset.pk)
    # A write that committed to the table while the database failed to record it.
    schema = tables.read_table(uri, first.version.delta_version).schema
    extra = pa.RecordBatch.from_pylist([{"sid": "CA" + "f" * 32}], schema=schema)
    tables.write_version(uri, iter([extra]), schema, mode="append", merge_key=("sid",))
    second = _run(dataset)
    assert second.state == RunState.SUCCEEDED, second.error
    sids = _sids(dataset, second.version.delta_version)
    assert "CA" + "f" * 32 not in sids
    assert len(sids) == 2 * first.version.rows
