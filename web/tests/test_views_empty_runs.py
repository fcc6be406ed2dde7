"""A run that got no rows: the setting on the connector page, and how the pages show it."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from datacenter.models import DataSet, EmptyResult
from datacenter.tests.base import connector_post
from scheduler.models import Run, RunState, RunTrigger

pytestmark = pytest.mark.django_db
SENTENCE = ("Twilio returned no rows for Calls · From +15550009999 · Nov 11–Nov 21, 2026 · "
            "America/Los_Angeles. The current version was kept.")


def _empty_run(dataset) -> Run:
    now = timezone.now()
    return Run.objects.create(dataset=dataset, trigger=RunTrigger.SCHEDULED,
                              state=RunState.EMPTY, started_at=now, finished_at=now,
                              error=SENTENCE)


def test_it_offers_and_saves_what_a_run_without_rows_does(alice_client, alice_account):
    url = reverse("connect-twilio")
    page = alice_client.get(url).content.decode()
    assert "When a run returns no rows" in page
    assert "Keep the current version and warn" in page and "Save an empty version" in page
    post = connector_post(**{"cred-account": alice_account.pk, "schedule-on_empty": "save"})
    assert alice_client.post(url, post).status_code == 302
    dataset = DataSet.objects.get()
    assert dataset.on_empty == EmptyResult.SAVE
    edit = alice_client.get(reverse("dataset-edit", args=[dataset.pk])).content.decode()
    assert re.search(r'<input[^>]*name="schedule-on_empty" value="save"[^>]*checked', edit)


def test_it_keeps_the_current_version_by_default(alice_client, alice_account):
    post = connector_post(**{"cred-account": alice_account.pk})
    assert alice_client.post(reverse("connect-twilio"), post).status_code == 302
    assert DataSet.objects.get().on_empty == EmptyResult.KEEP


def test_it_shows_an_empty_run_on_overview_history_and_needs_attention(alice_client,
                                                                        make_dataset):
    dataset = make_dataset(rows=3)
    _empty_run(dataset)
    overview = alice_client.get(reverse("dataset", args=[dataset.pk])).content.decode()
    assert "No rows" in overview and SENTENCE in overview
    history = alice_client.get(reverse("dataset-history", args=[dataset.pk])).content.decode()
    assert "⚠ No rows" in history and SENTENCE in history
    listed = alice_client.get(reverse("datasets") + "?quick=attention").content.decode()
    assert dataset.name in listed
