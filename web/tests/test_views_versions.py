"""Versions: CSV export and download (streamed), preview, revert."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from datacenter import tables
from datacenter.models import Version
from datacenter.tests.base import call_rows, write_calls
from scheduler.models import Run, RunState, RunTrigger

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict[str, str]]:
    assert response.streaming, "CSV must be streamed, not built in memory"
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_it_answers_404_to_outsiders_on_every_version_url(bob_client, make_dataset):
    dataset = make_dataset(rows=3)
    for name, args in (
        ("dataset-export", [dataset.pk]),
        ("version", [dataset.pk, 1]),
        ("version-csv", [dataset.pk, 1]),
    ):
        assert bob_client.get(reverse(name, args=args)).status_code == 404, name
    assert bob_client.post(reverse("version-revert", args=[dataset.pk, 1])).status_code == 404
    assert dataset.versions.count() == 1


def test_it_answers_404_for_a_version_that_does_not_exist(alice_client, make_dataset):
    dataset = make_dataset(rows=3)
    for name in ("version", "version-csv"):
        assert alice_client.get(reverse(name, args=[dataset.pk, 7])).status_code == 404


def test_it_exports_the_current_version_as_csv(alice_client, make_dataset):
    dataset = make_dataset("Calls: March / EU", rows=3)
    write_calls(dataset, call_rows(130))
    response = alice_client.get(reverse("dataset-export", args=[dataset.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="calls-march-eu-v2.csv"'
    rows = _csv(response)
    assert [r["sid"] for r in rows] == [r["sid"] for r in call_rows(130)]
    assert list(rows[0]) == [n for n, _ in dataset.current_version.columns]
    assert rows[0]["duration"] == "30" and rows[0]["start_time"] == "2026-03-01T12:00:00Z"


def test_it_never_puts_secrets_in_the_csv(alice_client, make_dataset, alice_account):
    dataset = make_dataset(rows=2)
    response = alice_client.get(reverse("dataset-export", args=[dataset.pk]))
    body = b"".join(response.streaming_content)
    assert b"s" * 32 not in body
    assert alice_account.secret_encrypted.encode() not in body


def test_it_explains_there_is_nothing_to_export_yet(alice_client, make_dataset):
    dataset = make_dataset()
    response = alice_client.get(reverse("dataset-export", args=[dataset.pk]), follow=True)
    assert "Nothing to export yet" in " ".join(_messages(response))


def test_it_downloads_any_version(alice_client, make_dataset):
    dataset = make_dataset(rows=4)
    write_calls(dataset, call_rows(9))
    response = alice_client.get(reverse("version-csv", args=[dataset.pk, 1]))
    assert response["Content-Disposition"] == 'attachment; filename="calls-v1.csv"'
    assert len(_csv(response)) == 4


def test_it_refuses_to_download_a_reclaimed_version(alice_client, make_dataset):
    dataset = make_dataset(rows=4)
    write_calls(dataset, call_rows(9))
    Version.objects.filter(dataset=dataset, number=1).update(reclaimed_at=timezone.now())
    response = alice_client.get(reverse("version-csv", args=[dataset.pk, 1]), follow=True)
    assert "removed by the retention policy" in " ".join(_messages(response))


def test_it_previews_the_first_fifty_rows(alice_client, make_dataset):
    dataset = make_dataset(rows=120)
    response = alice_client.get(reverse("version", args=[dataset.pk, 1]))
    assert response.status_code == 200
    assert len(response.context["rows"]) == 50
    assert "The first 50 of 120 rows" in response.content.decode()


def test_it_reverts_to_an_older_version(alice_client, make_dataset):
    dataset = make_dataset(rows=4)
    write_calls(dataset, call_rows(9))
    url = reverse("version-revert", args=[dataset.pk, 1])
    assert alice_client.get(url).status_code == 405
    response = alice_client.post(url, follow=True)
    assert "Version 3 now equals version 1" in _messages(response)
    dataset.refresh_from_db()
    current = dataset.current_version
    assert current.number == 3 and current.restored_from.number == 1 and current.rows == 4
    uri = tables.table_uri(dataset.pk)
    v1 = Version.objects.get(dataset=dataset, number=1)
    assert b"".join(tables.iter_csv(uri, current.delta_version)) == b"".join(
        tables.iter_csv(uri, v1.delta_version)
    )


def test_it_does_not_revert_while_a_run_is_active(alice_client, make_dataset):
    dataset = make_dataset(rows=4)
    write_calls(dataset, call_rows(9))
    Run.objects.create(dataset=dataset, trigger=RunTrigger.MANUAL, state=RunState.RUNNING)
    response = alice_client.post(reverse("version-revert", args=[dataset.pk, 1]), follow=True)
    assert "revert once it has finished" in " ".join(_messages(response))
    assert dataset.versions.count() == 2


def test_it_does_not_revert_to_a_reclaimed_version(alice_client, make_dataset):
    dataset = make_dataset(rows=4)
    write_calls(dataset, call_rows(9))
    Version.objects.filter(dataset=dataset, number=1).update(reclaimed_at=timezone.now())
    response = alice_client.post(reverse("version-revert", args=[dataset.pk, 1]), follow=True)
    assert "Could not revert to version 1" in " ".join(_messages(response))
    assert dataset.versions.count() == 2
