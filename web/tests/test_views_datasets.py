"""The DataSets tab: list, quick filters, search, sort, sparklines, bulk Run Now."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from datacenter import tables
from datacenter.models import DataSet
from datacenter.tests.factories import dataset_make
from datacenter.version_figures import SPARK_KEY
from scheduler.models import Run, RunState, RunTrigger

pytestmark = pytest.mark.django_db
URL = "/datasets/"


def _names(response) -> list[str]:
    return [row.dataset.name for row in response.context["rows"]]


def _finish(dataset: DataSet, state: str, *, ago: timedelta = timedelta(0), error: str = "") -> Run:
    """A finished run of `dataset`, recorded as its last run."""
    when = timezone.now() - ago
    run = Run.objects.create(
        dataset=dataset,
        trigger=RunTrigger.SCHEDULED,
        state=state,
        queued_at=when,
        started_at=when,
        finished_at=when + timedelta(seconds=5),
        error=error,
    )
    return run


def test_it_says_what_to_do_when_there_are_no_datasets(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 200
    assert "No DataSets yet — Connect Data to create one" in response.content.decode()


def test_it_lists_only_the_owners_datasets(alice_client, bob_client, make_dataset):
    make_dataset("Alice calls", rows=3)
    assert _names(alice_client.get(URL)) == ["Alice calls"]
    bob_page = bob_client.get(URL).content.decode()
    assert "Alice calls" not in bob_page
    assert "No DataSets yet" in bob_page


def test_it_shows_rows_columns_and_the_last_result(alice_client, make_dataset):
    dataset = make_dataset("Calls", rows=1234)
    _finish(dataset, RunState.FAILED, error="Twilio said: Authenticate")
    html = alice_client.get(URL).content.decode()
    assert "1,234" in html
    assert f">{len(dataset.current_version.columns)}<" in html
    assert 'title="Twilio said: Authenticate"' in html  # the error on hover


def test_it_flags_datasets_whose_account_was_deleted(alice_client, make_dataset, alice_account):
    make_dataset("Orphan")
    alice_account.delete()
    assert "Account deleted" in alice_client.get(URL).content.decode()


def test_it_filters_datasets_needing_attention(alice_client, make_dataset):
    healthy, broken = make_dataset("Healthy"), make_dataset("Broken")
    orphan = make_dataset("Orphan")
    _finish(healthy, RunState.SUCCEEDED)
    _finish(broken, RunState.FAILED, error="boom")
    DataSet.objects.filter(pk=orphan.pk).update(account=None)
    assert _names(alice_client.get(URL, {"quick": "attention"})) == ["Broken", "Orphan"]


def test_it_filters_recently_run_datasets(alice_client, make_dataset):
    recent, old = make_dataset("Recent"), make_dataset("Old")
    make_dataset("Never")
    _finish(recent, RunState.SUCCEEDED, ago=timedelta(hours=2))
    _finish(old, RunState.SUCCEEDED, ago=timedelta(days=3))
    assert _names(alice_client.get(URL, {"quick": "recent"})) == ["Recent"]


def test_it_searches_by_name(alice_client, make_dataset):
    for name in ("Daily calls", "SMS", "Weekly CALLS"):
        make_dataset(name)
    assert _names(alice_client.get(URL, {"q": "calls"})) == ["Daily calls", "Weekly CALLS"]
    empty = alice_client.get(URL, {"q": "nothing"}).content.decode()
    assert "No DataSets match" in empty


def test_it_sorts_by_name_rows_last_run_and_status(alice_client, make_dataset):
    small, big, none = make_dataset("B", rows=2), make_dataset("A", rows=9), make_dataset("C")
    _finish(small, RunState.SUCCEEDED, ago=timedelta(hours=1))
    _finish(big, RunState.FAILED, ago=timedelta(hours=5))
    assert _names(alice_client.get(URL, {"sort": "-name"})) == ["C", "B", "A"]
    # DataSets never run (or without a version) come last in both directions.
    assert _names(alice_client.get(URL, {"sort": "-rows"})) == ["A", "B", "C"]
    assert _names(alice_client.get(URL, {"sort": "rows"})) == ["B", "A", "C"]
    assert _names(alice_client.get(URL, {"sort": "-last_run"})) == ["B", "A", "C"]
    assert _names(alice_client.get(URL, {"sort": "last_run"})) == ["A", "B", "C"]
    # "failed" sorts before "succeeded".
    assert _names(alice_client.get(URL, {"sort": "status"})) == ["A", "B", none.name]
    # Unknown sorts and filters fall back instead of failing.
    assert alice_client.get(URL, {"sort": "evil", "quick": "x"}).status_code == 200


def test_it_paginates_fifty_per_page(alice_client, alice, alice_account, storage):
    for i in range(51):
        dataset_make(alice, alice_account, name=f"DS {i:02d}")
    first = alice_client.get(URL)
    assert len(first.context["rows"]) == 50
    assert len(alice_client.get(URL, {"page": 2}).context["rows"]) == 1
    assert alice_client.get(URL, {"page": "nonsense"}).status_code == 200


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_it_uses_a_constant_number_of_queries(alice_client, make_dataset):
    first = make_dataset("DS 00", rows=3)
    _finish(first, RunState.FAILED, error="x")
    cold_one = _count_queries(alice_client)  # fills the sparkline cache
    warm_one = _count_queries(alice_client)
    for i in range(1, 30):
        dataset = make_dataset(f"DS {i:02d}", rows=2 + i % 3)
        _finish(dataset, RunState.SUCCEEDED if i % 2 else RunState.FAILED, error="e")
    cold_many = _count_queries(alice_client)
    warm_many = _count_queries(alice_client)
    assert cold_many == cold_one
    assert warm_many == warm_one
    # Session, user, page count, the page itself; the first view adds one cache UPDATE.
    assert warm_many <= 4 and cold_many <= warm_many + 1


def test_it_draws_each_sparkline_from_the_version_once(alice_client, make_dataset, monkeypatch):
    dataset = make_dataset("Calls", rows=48)  # two days of hourly calls
    html = alice_client.get(URL).content.decode()
    assert "<svg" in html and "3 days" in html
    dataset.current_version.refresh_from_db()
    assert dataset.current_version.metrics[SPARK_KEY]["counts"] == [12, 24, 12]

    def unreachable(*args, **kwargs):
        raise AssertionError("the cached sparkline must not read the table again")

    monkeypatch.setattr(tables, "read_table", unreachable)
    assert "<svg" in alice_client.get(URL).content.decode()


def test_it_bulk_runs_once_then_says_already_running(alice_client, make_dataset):
    one, two = make_dataset("One"), make_dataset("Two")
    url = reverse("datasets-bulk-run")
    response = alice_client.post(url, {"ids": [one.pk, two.pk]}, follow=True)
    assert "Queued 2 run(s)" in response.content.decode()
    assert Run.objects.filter(state=RunState.QUEUED).count() == 2

    again = alice_client.post(url, {"ids": [one.pk]}, follow=True).content.decode()
    assert "Already running" in again and "One" in again
    assert Run.objects.filter(dataset=one).count() == 1


def test_it_ignores_other_users_ids_in_bulk_run(bob_client, make_dataset):
    dataset = make_dataset("Alice's")
    response = bob_client.post(reverse("datasets-bulk-run"), {"ids": [dataset.pk, "x"]})
    assert response.status_code == 302
    assert not Run.objects.exists()


def test_it_only_accepts_posts_for_bulk_run(alice_client):
    assert alice_client.get(reverse("datasets-bulk-run")).status_code == 405


def test_it_returns_to_the_filtered_list_after_bulk_run(alice_client, make_dataset):
    dataset = make_dataset("One")
    back = URL + "?quick=attention"
    response = alice_client.post(reverse("datasets-bulk-run"), {"ids": [dataset.pk], "next": back})
    assert response["Location"] == back
    evil = alice_client.post(
        reverse("datasets-bulk-run"), {"ids": [dataset.pk], "next": "https://evil.example/"}
    )
    assert evil["Location"] == URL
