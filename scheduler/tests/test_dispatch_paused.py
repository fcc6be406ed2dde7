"""A DataSet whose account was deleted is paused: the dispatcher skips it, and choosing an
account (Edit saves the schedule again) resumes it."""

from datetime import UTC, datetime, timedelta

import pytest

from datacenter import services
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import Run, Schedule
from scheduler.services import dispatch_due, schedule_save

DAILY = {"kind": "daily", "tz": "UTC", "at": "06:00", "every": 1}


@pytest.mark.django_db
def test_it_skips_a_dataset_without_account_until_one_is_chosen():
    alice = user_make("alice")
    account = sandbox_account_make(alice)
    paused = dataset_make(alice, account, name="paused")
    running = dataset_make(alice, sandbox_account_make(alice, name="other"), name="running")
    now = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    for d in (paused, running):
        schedule_save(dataset=d, spec=DAILY, now=now - timedelta(minutes=1))
    services.account_delete(account=account)
    assert dispatch_due(now=now) == 1
    assert list(Run.objects.values_list("dataset__name", flat=True)) == ["running"]
    assert Schedule.objects.get(dataset=paused).next_run_at == now  # still due, not advanced
    paused.refresh_from_db()
    paused.account = sandbox_account_make(alice, name="new")
    paused.save(update_fields=["account"])
    Run.objects.update(state="succeeded")
    later = now + timedelta(hours=1)
    schedule_save(dataset=paused, spec=DAILY, now=later)
    assert dispatch_due(now=now + timedelta(days=1)) == 2
    assert Run.objects.filter(dataset=paused).count() == 1
