"""The dispatcher: due DataSets are claimed once, their next run advances."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import Run, RunTrigger, Schedule
from scheduler.services import dispatch_due, schedule_save

DAILY_0630_BERLIN = {"kind": "daily", "tz": "Europe/Berlin", "at": "06:30", "every": 1}


@pytest.fixture
def alice(db):
    return user_make("alice")


def _account(owner):
    # A DataSet without an account is paused (its account was deleted): never dispatched.
    found = owner.twilio_accounts.first()
    return found or sandbox_account_make(owner)


@pytest.mark.django_db
def test_it_queues_due_datasets_once_and_advances_them(alice):
    ds = [dataset_make(alice, _account(alice), name=f"d{i}") for i in range(3)]
    now = datetime(2026, 11, 27, 5, 30, tzinfo=UTC)  # 06:30 in Berlin
    for d in ds:
        schedule_save(dataset=d, spec=DAILY_0630_BERLIN, now=now - timedelta(minutes=1))
    assert Schedule.objects.filter(next_run_at=now).count() == 3
    assert dispatch_due(now=now) == 3
    assert dispatch_due(now=now) == 0
    assert Run.objects.filter(trigger=RunTrigger.SCHEDULED).count() == 3
    assert set(Schedule.objects.values_list("next_run_at", flat=True)) == {now + timedelta(days=1)}


@pytest.mark.django_db
def test_it_skips_manual_and_not_yet_due(alice):
    manual = dataset_make(alice, _account(alice), name="m")
    later = dataset_make(alice, _account(alice), name="l")
    now = datetime(2026, 11, 27, 5, 29, tzinfo=UTC)
    schedule_save(dataset=later, spec=DAILY_0630_BERLIN, now=now)
    assert dispatch_due(now=now) == 0
    assert not Run.objects.filter(dataset__in=[manual, later]).exists()


@pytest.mark.django_db
def test_it_runs_once_per_day_across_dst_in_a_non_utc_zone(alice):
    d = dataset_make(alice, _account(alice))
    spec = {"kind": "daily", "tz": "Europe/Berlin", "at": "02:30", "every": 1}
    start = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
    schedule_save(dataset=d, spec=spec, now=start)
    fired = []
    t = start
    while t < datetime(2026, 3, 31, 0, 0, tzinfo=UTC):
        if dispatch_due(now=t):
            fired.append(t)
            Run.objects.update(state="succeeded")
        t += timedelta(minutes=1)
    # 02:30 CET = 01:30 UTC; on 29 March 02:30 does not exist: once at 03:00 CEST = 01:00 UTC.
    assert fired == [
        datetime(2026, 3, 27, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 28, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
    ]


@pytest.mark.django_db
def test_it_queues_a_retry_when_it_is_due(alice):
    d = dataset_make(alice, _account(alice))
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    Schedule.objects.filter(dataset=d).update(retry_at=now - timedelta(seconds=1))
    assert dispatch_due(now=now) == 1
    assert Run.objects.get(dataset=d).trigger == RunTrigger.RETRY
    assert Schedule.objects.get(dataset=d).retry_at is None


@pytest.mark.django_db(transaction=True)
def test_it_never_queues_a_dataset_twice_when_two_ticks_race(alice):
    ds = [dataset_make(alice, _account(alice), name=f"d{i}") for i in range(60)]
    now = datetime(2026, 11, 27, 5, 30, tzinfo=UTC)
    for d in ds:
        schedule_save(dataset=d, spec=DAILY_0630_BERLIN, now=now - timedelta(minutes=1))
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            barrier.wait()
            counts.append(dispatch_due(now=now))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert sum(counts) == 60
    assert Run.objects.count() == 60
    assert Run.objects.values("dataset").distinct().count() == 60
