"""Operators' commands: dataset_run (with --wait through a real worker) and dispatch_due."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import Run, RunState, RunTrigger, Schedule


@pytest.mark.django_db
def test_it_queues_a_run_by_name_and_refuses_a_second():
    dataset = dataset_make(user_make("ops"), None, name="Nightly calls")
    out = StringIO()
    call_command("dataset_run", "Nightly calls", stdout=out)
    run = Run.objects.get(dataset=dataset)
    assert run.state == RunState.QUEUED and run.trigger == RunTrigger.MANUAL
    assert f"Queued run {run.pk}" in out.getvalue()
    with pytest.raises(CommandError, match="already queued or running"):
        call_command("dataset_run", str(dataset.pk))


@pytest.mark.django_db
def test_it_names_a_missing_dataset():
    with pytest.raises(CommandError, match="No single DataSet"):
        call_command("dataset_run", "nothing by this name")


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_it_waits_for_the_run_through_a_real_worker(celery_worker, sandbox, settings):
    celery_worker(broker_url=settings.CELERY_BROKER_URL)
    user = user_make("ops")
    dataset = dataset_make(user, sandbox_account_make(user), name="Calls")
    out = StringIO()
    call_command("dataset_run", "Calls", "--wait", "--timeout", "90", stdout=out, stderr=StringIO())
    run = Run.objects.get(dataset=dataset)
    assert run.state == RunState.SUCCEEDED
    assert f"Succeeded: {run.rows} rows, version 1." in out.getvalue()


@pytest.mark.django_db
def test_it_dispatches_due_datasets_once():
    ops = user_make("ops")
    # With an account: a DataSet without one is paused and never dispatched.
    dataset = dataset_make(ops, sandbox_account_make(ops))
    Schedule.objects.filter(dataset=dataset).update(
        retry_at=timezone.now() - timedelta(minutes=1)
    )
    out = StringIO()
    call_command("dispatch_due", stdout=out)
    assert "Queued 1 run(s)." in out.getvalue()
    call_command("dispatch_due", stdout=out)
    assert Run.objects.filter(dataset=dataset).count() == 1
