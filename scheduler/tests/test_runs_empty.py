"""A run that gets no rows from Twilio never silently replaces the DataSet's data."""

import pytest

from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import RunState, RunTrigger, Schedule
from scheduler.selectors import dataset_list, dataset_needs_attention
from scheduler.tests.test_runs import _run

pytestmark = pytest.mark.django_db
NOBODY = "+15550009999"  # no sandbox call is from this number


@pytest.fixture
def alice(db):
    return user_make("alice")


@pytest.fixture
def account(alice, sandbox):
    return sandbox_account_make(alice)


def _filter_to_nobody(dataset) -> None:
    dataset.params = {**dataset.params, "filters": {"from_number": NOBODY}}
    dataset.save(update_fields=["params"])


def test_it_keeps_the_current_version_and_warns_by_default(alice, account):
    dataset = dataset_make(alice, account)
    first = _run(dataset)
    assert first.state == RunState.SUCCEEDED and first.rows > 0
    _filter_to_nobody(dataset)
    empty = _run(dataset, trigger=RunTrigger.SCHEDULED)
    dataset.refresh_from_db()
    assert empty.state == RunState.EMPTY and empty.version_id is None
    assert dataset.current_version_id == first.version_id  # v1 still current
    assert dataset.versions.count() == 1
    assert empty.error.startswith(f"Twilio returned no rows for Calls · From {NOBODY} · ")
    assert empty.error.endswith("The current version was kept.")
    assert dataset_needs_attention(dataset, empty)
    assert [d.pk for d in dataset_list(owner=alice, quick="attention")] == [dataset.pk]
    # Not a failure: nothing is retried.
    assert Schedule.objects.get(dataset=dataset).retry_at is None


def test_it_saves_an_empty_version_when_asked(alice, account):
    dataset = dataset_make(alice, account, on_empty="save")
    _run(dataset)
    _filter_to_nobody(dataset)
    empty = _run(dataset)
    dataset.refresh_from_db()
    assert empty.state == RunState.SUCCEEDED and empty.rows == 0
    assert dataset.current_version.number == 2 and dataset.current_version.rows == 0
    assert not dataset_needs_attention(dataset, empty)
