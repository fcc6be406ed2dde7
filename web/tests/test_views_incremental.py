"""Incremental refresh and Append's key check on the connector page and the DataSet page."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from datacenter.models import DataSet
from datacenter.tests.base import connector_post
from scheduler.models import Run, RunState, RunTrigger

pytestmark = pytest.mark.django_db
URL = "/connect/twilio-advanced/"


def _shown(html: str, name: str) -> bool:
    match = re.search(rf'class="[^"]*dc-field([^"]*)"[^>]*data-field="{name}"', html)
    assert match, name
    return "dc-hidden" not in match.group(1)


def test_it_offers_fetching_only_changes_with_merge_and_key_checks_with_append(
        alice_client, alice_account):
    merge = alice_client.post(URL, connector_post(**{
        "cred-account": alice_account.pk, "schedule-update_method": "merge",
        "schedule-incremental": "on", "_refresh": "1"})).content.decode()
    assert _shown(merge, "incremental") and _shown(merge, "lookback_days")
    assert not _shown(merge, "append_skip_existing")
    append = alice_client.post(URL, connector_post(**{
        "cred-account": alice_account.pk, "schedule-update_method": "append",
        "_refresh": "1"})).content.decode()
    assert _shown(append, "append_skip_existing") and not _shown(append, "incremental")
    assert "overlapping windows repeat rows" in append


def test_it_saves_the_incremental_setting_only_for_merge(alice_client, alice_account):
    post = connector_post(**{"cred-account": alice_account.pk, "schedule-update_method": "merge",
                             "schedule-incremental": "on", "schedule-lookback_days": "5"})
    assert alice_client.post(URL, post).status_code == 302
    saved = DataSet.objects.get()
    assert saved.incremental and saved.lookback_days == 5
    post = connector_post(**{"cred-account": alice_account.pk, "ds-name": "Replace",
                             "schedule-update_method": "replace", "schedule-incremental": "on"})
    assert alice_client.post(URL, post).status_code == 302
    assert not DataSet.objects.get(name="Replace").incremental


def test_refresh_everything_queues_one_full_pull(alice_client, make_dataset):
    dataset = make_dataset(update_method="merge")
    DataSet.objects.filter(pk=dataset.pk).update(incremental=True)
    page = alice_client.get(reverse("dataset", args=[dataset.pk])).content.decode()
    assert "Refresh everything" in page
    response = alice_client.post(reverse("dataset-refresh-everything", args=[dataset.pk]))
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert dataset.full_refresh_requested
    assert Run.objects.filter(dataset=dataset, state=RunState.QUEUED).count() == 1


def test_history_says_what_an_incremental_run_fetched(alice_client, make_dataset):
    dataset = make_dataset(rows=3)
    version = dataset.current_version
    version.fetched_from, version.fetched_to = "2026-11-26", "2026-12-01"
    version.full_pull, version.rows_new, version.rows_changed, version.rows_removed = (
        False, 2900, 220, 14)
    version.save()
    now = timezone.now()
    Run.objects.create(dataset=dataset, trigger=RunTrigger.SCHEDULED, state=RunState.SUCCEEDED,
                       started_at=now, finished_at=now, rows=3120, version=version)
    html = alice_client.get(reverse("dataset-history", args=[dataset.pk])).content.decode()
    assert "fetched Nov 26–Dec 1, 3,120 rows: 2,900 new, 220 changed," in html
    assert "14 removed" in html
