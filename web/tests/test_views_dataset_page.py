"""A DataSet's page: header, Overview with live progress, Data, Charts, History, actions."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from datacenter import metrics, tables
from datacenter.models import DataSet, Version
from datacenter.tests.base import call_rows, write_calls
from datacenter.version_figures import CHARTS_KEY
from scheduler.models import Run, RunState, RunTrigger

pytestmark = pytest.mark.django_db


def _run(dataset: DataSet, state: str, *, seconds: int = 10, error: str = "", **extra) -> Run:
    start = timezone.now() - timedelta(minutes=30)
    run = Run.objects.create(
        dataset=dataset,
        trigger=extra.pop("trigger", RunTrigger.SCHEDULED),
        state=state,
        queued_at=start,
        started_at=start,
        finished_at=None if state in ("queued", "running") else start + timedelta(seconds=seconds),
        error=error,
        **extra,
    )
    return run


def _text(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Access ------------------------------------------------------------------------------------


def test_it_answers_404_to_outsiders_on_every_dataset_url(bob_client, make_dataset):
    dataset = make_dataset(rows=3)
    for name in ("dataset", "dataset-progress", "dataset-data", "dataset-charts",
                 "dataset-history", "dataset-delete"):
        assert bob_client.get(reverse(name, args=[dataset.pk])).status_code == 404, name
    for name in ("dataset-run", "dataset-delete"):
        assert bob_client.post(reverse(name, args=[dataset.pk])).status_code == 404, name
    assert DataSet.objects.filter(pk=dataset.pk).exists()
    assert not Run.objects.exists()


# --- Header and Overview ---------------------------------------------------------------------


def test_it_shows_the_header(alice_client, make_dataset):
    dataset = make_dataset("Daily calls", rows=1500, spec={"kind": "manual", "tz": "UTC"})
    html = _text(alice_client.get(reverse("dataset", args=[dataset.pk])))
    assert "Daily calls" in html
    assert "1,500 rows × " in html
    assert "Manually" in html
    for name in ("dataset-run", "dataset-export", "dataset-edit", "dataset-delete"):
        assert reverse(name, args=[dataset.pk]) in html


def test_it_says_what_to_do_before_the_first_run(alice_client, make_dataset):
    dataset = make_dataset()
    html = _text(alice_client.get(reverse("dataset", args=[dataset.pk])))
    assert "Never run" in html and "Run Now" in html
    assert "No data yet" in html
    data = _text(alice_client.get(reverse("dataset-data", args=[dataset.pk])))
    assert "No data yet" in data
    charts = _text(alice_client.get(reverse("dataset-charts", args=[dataset.pk])))
    assert "No charts yet" in charts
    history = _text(alice_client.get(reverse("dataset-history", args=[dataset.pk])))
    assert "No runs yet" in history and "No versions yet" in history


def test_it_shows_headline_numbers_cached_per_version(alice_client, make_dataset, monkeypatch):
    dataset = make_dataset(rows=30)
    html = _text(alice_client.get(reverse("dataset", args=[dataset.pk])))
    assert "Calls (last 7 days)" in html
    monkeypatch.setattr(metrics, "headline", lambda *a, **k: pytest.fail("recomputed"))
    assert alice_client.get(reverse("dataset", args=[dataset.pk])).status_code == 200


def test_it_shows_a_failed_run_in_plain_words(alice_client, make_dataset):
    dataset = make_dataset(rows=3)
    _run(dataset, RunState.FAILED, error="Twilio refused the credentials (20003).")
    html = _text(alice_client.get(reverse("dataset", args=[dataset.pk])))
    assert "Twilio refused the credentials (20003)." in html
    assert "The previous version is unchanged" in html


def test_it_polls_progress_without_inline_script(alice_client, make_dataset):
    dataset = make_dataset()
    _run(dataset, RunState.RUNNING, pages=3, rows=2500)
    html = _text(alice_client.get(reverse("dataset", args=[dataset.pk])))
    assert 'id="progress-data" type="application/json"' in html
    assert "/static/js/progress.js" in html
    assert reverse("dataset-progress", args=[dataset.pk]) in html
    assert "<script>" not in html and " onclick=" not in html
    assert "2,500" in html


def test_it_reports_live_progress_as_json(alice_client, make_dataset):
    dataset = make_dataset()
    run = _run(dataset, RunState.RUNNING, pages=4, rows=3100, retries=2, warnings=["clamped"])
    data = alice_client.get(reverse("dataset-progress", args=[dataset.pk])).json()
    assert data["state"] == "running" and data["active"] is True
    assert (data["pages"], data["rows"], data["retries"]) == (4, 3100, 2)
    assert data["warnings"] == ["clamped"]
    assert 1700 <= data["elapsed_seconds"] <= 1900  # started 30 minutes ago
    assert data["started_at"] == run.started_at.isoformat()
    assert data["version"] is None


def test_it_reports_the_finished_runs_version_in_the_progress(alice_client, make_dataset):
    dataset = make_dataset(rows=2)
    _run(dataset, RunState.SUCCEEDED, seconds=42, version=dataset.current_version, rows=2)
    data = alice_client.get(reverse("dataset-progress", args=[dataset.pk])).json()
    assert data["active"] is False and data["state"] == "succeeded"
    assert data["elapsed_seconds"] == 42 and data["version"] == 1


def test_it_reports_no_run_in_the_progress(alice_client, make_dataset):
    dataset = make_dataset()
    data = alice_client.get(reverse("dataset-progress", args=[dataset.pk])).json()
    assert data == {"state": None, "active": False}


# --- Actions ------------------------------------------------------------------------------------


def test_it_runs_now_once(alice_client, make_dataset):
    dataset = make_dataset()
    url = reverse("dataset-run", args=[dataset.pk])
    assert alice_client.get(url).status_code == 405
    first = alice_client.post(url, follow=True)
    assert "is queued" in " ".join(_messages(first))
    second = alice_client.post(url, follow=True)
    assert "already queued or running" in " ".join(_messages(second))
    assert Run.objects.filter(dataset=dataset).count() == 1


def test_it_confirms_then_deletes(alice_client, make_dataset, django_capture_on_commit_callbacks):
    dataset = make_dataset("Doomed", rows=2)
    folder = Path(tables.table_uri(dataset.pk))
    url = reverse("dataset-delete", args=[dataset.pk])
    confirm = alice_client.get(url)
    assert "Delete “Doomed”?" in _text(confirm)
    assert DataSet.objects.filter(pk=dataset.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("datasets")
    assert not DataSet.objects.filter(pk=dataset.pk).exists()
    assert not folder.exists()


# --- Data ---------------------------------------------------------------------------------------


def _data(client, dataset, **params):
    return client.get(reverse("dataset-data", args=[dataset.pk]), params)


def test_it_pages_the_table(alice_client, make_dataset):
    dataset = make_dataset(rows=120)
    first = _data(alice_client, dataset)
    assert first.status_code == 200
    assert len(first.context["rows"]) == 50 and first.context["last_page"] == 3
    third = _data(alice_client, dataset, page=3)
    assert len(third.context["rows"]) == 20
    assert "Rows 101–120 of 120" in _text(third)


def test_it_sorts_the_table_by_any_column(alice_client, make_dataset):
    dataset = make_dataset(rows=60)
    names = [n for n, _ in dataset.current_version.columns]
    response = _data(alice_client, dataset, sort="duration", desc="1")
    durations = [row[names.index("duration")].text for row in response.context["rows"]]
    assert durations[:2] == ["89", "88"]
    assert 'href="?sort=duration"' in _text(response)  # the header toggles back to ascending


def test_it_searches_the_table(alice_client, make_dataset):
    dataset = make_dataset(rows=60)
    response = _data(alice_client, dataset, q="+15550000042")
    assert response.context["total"] == 1
    none = _data(alice_client, dataset, q="no such thing")
    assert "No rows match" in _text(none)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "abc"}, "whole number"),
        ({"page": "0"}, "whole number"),
        ({"page": "-3"}, "whole number"),
        ({"page": "99"}, "only 1 page"),
        ({"sort": "no_such_column"}, "There is no column"),
        ({"view": "evil"}, "showing the table"),
    ],
)
def test_it_falls_back_on_bad_table_parameters(alice_client, make_dataset, params, message):
    dataset = make_dataset(rows=5)
    response = _data(alice_client, dataset, **params)
    assert response.status_code == 200
    assert message in " ".join(_messages(response))
    assert len(response.context["rows"]) == 5


@pytest.mark.parametrize(("version", "status"), [("abc", 400), ("1.5", 400), ("99", 404)])
def test_it_refuses_a_bad_version(alice_client, make_dataset, version, status):
    dataset = make_dataset(rows=5)
    for name in ("dataset-data", "dataset-charts"):
        response = alice_client.get(reverse(name, args=[dataset.pk]), {"version": version})
        assert response.status_code == status, name


def test_it_browses_an_older_version(alice_client, make_dataset):
    dataset = make_dataset(rows=5)
    write_calls(dataset, call_rows(8))
    assert _data(alice_client, dataset).context["total"] == 8
    old = _data(alice_client, dataset, version=1)
    assert old.context["total"] == 5 and "Version 1" in _text(old)


def test_it_formats_numbers_money_and_times(alice_client, make_dataset):
    dataset = make_dataset(rows=2000)
    alice_client.cookies["tz"] = "Europe/Berlin"
    html = _text(_data(alice_client, dataset, sort="duration", desc="1"))
    assert '<td class="num">2,029</td>' in html  # the longest call, grouped, right-aligned
    assert ">-17.00</td>" in html  # 2000 × -0.0085, decimals kept
    first = _text(_data(alice_client, dataset, sort="start_time"))
    # 12:00 UTC on 1 March is 13:00 in Berlin; UTC on hover.
    assert 'title="2026-03-01 12:00:00 UTC">2026-03-01 13:00:00</td>' in first
    assert ">-0.0085</td>" in first  # a charge below one cent keeps its sign


def test_it_shows_schema_and_stats(alice_client, make_dataset):
    dataset = make_dataset(rows=10)
    schema = _text(_data(alice_client, dataset, view="schema"))
    assert "<code>start_time</code></td><td>timestamp</td>" in schema
    assert "<code>price</code></td><td>decimal</td>" in schema
    stats = _data(alice_client, dataset, view="stats")
    by_name = {s.name: s for s in stats.context["stats"]}
    assert by_name["duration"].min == 30 and by_name["duration"].max == 39
    assert by_name["caller_name"].nulls == 10
    assert "34.5" in _text(stats)  # mean duration


def test_it_says_when_a_version_was_reclaimed(alice_client, make_dataset):
    dataset = make_dataset(rows=3)
    write_calls(dataset, call_rows(4))
    Version.objects.filter(dataset=dataset, number=1).update(reclaimed_at=timezone.now())
    response = _data(alice_client, dataset, version=1)
    assert response.status_code == 200
    assert "removed by the retention policy" in _text(response)


# --- Charts -------------------------------------------------------------------------------------


def test_it_draws_charts_computed_once_per_version(alice_client, make_dataset, monkeypatch):
    dataset = make_dataset(rows=48)
    html = _text(alice_client.get(reverse("dataset-charts", args=[dataset.pk])))
    assert 'id="chart-data" type="application/json"' in html
    assert "/static/js/charts.js" in html and "/static/vendor/plotly.min.js" in html
    assert "Daily call volume by direction" in html
    version = Version.objects.get(pk=dataset.current_version.pk)
    assert version.metrics[CHARTS_KEY]["tz"] == "UTC"
    monkeypatch.setattr(metrics, "compute_metrics", lambda *a, **k: pytest.fail("recomputed"))
    again = alice_client.get(reverse("dataset-charts", args=[dataset.pk]))
    assert "Daily call volume by direction" in _text(again)
    data = json.loads(again.context["charts_json"] and json.dumps(again.context["charts_json"]))
    assert {c["id"] for c in data} >= {"calls-by-direction", "calls-completion-rate"}


def test_it_charts_any_version(alice_client, make_dataset):
    dataset = make_dataset(rows=24)
    write_calls(dataset, call_rows(48))
    response = alice_client.get(reverse("dataset-charts", args=[dataset.pk]), {"version": 1})
    assert response.status_code == 200 and response.context["shown"].number == 1
    assert Version.objects.get(dataset=dataset, number=1).metrics[CHARTS_KEY]


# --- History ------------------------------------------------------------------------------------


def test_it_summarises_the_history(alice_client, make_dataset):
    dataset = make_dataset(rows=3)
    _run(dataset, RunState.SUCCEEDED, seconds=10)
    _run(dataset, RunState.SUCCEEDED, seconds=30)
    _run(dataset, RunState.FAILED, seconds=5, error="Twilio is down (HTTP 503).",
         trigger=RunTrigger.RETRY)
    response = alice_client.get(reverse("dataset-history", args=[dataset.pk]))
    summary = response.context["summary"]
    assert (summary["finished"], summary["succeeded"]) == (3, 2)
    assert summary["average_duration"] == timedelta(seconds=20)
    html = _text(response)
    assert "67%" in html and "(2 of 3 finished runs)" in html
    assert 'data-summary="average">20 s<' in html
    assert "Twilio is down (HTTP 503)." in html and "Retry" in html


def test_it_lists_versions_with_their_source_and_actions(alice_client, make_dataset):
    dataset = make_dataset(rows=3)
    write_calls(dataset, call_rows(5))
    alice_client.post(reverse("version-revert", args=[dataset.pk, 1]))
    Version.objects.filter(dataset=dataset, number=2).update(reclaimed_at=timezone.now())
    html = _text(alice_client.get(reverse("dataset-history", args=[dataset.pk])))
    assert "restored from v1" in html
    assert reverse("version", args=[dataset.pk, 1]) in html
    assert reverse("version-csv", args=[dataset.pk, 1]) in html
    assert reverse("version-revert", args=[dataset.pk, 1]) in html
    # The reclaimed version is greyed out, without actions.
    assert "Data removed by retention" in html
    assert reverse("version-csv", args=[dataset.pk, 2]) not in html


def test_it_shows_accounts_done_of_a_pull_over_subaccounts(alice_client, make_dataset):
    from scheduler.services.runs import _Progress
    from twilio_reports.service import PullStats

    dataset = make_dataset()
    run = _run(dataset, RunState.RUNNING)
    stats = PullStats()
    stats.set_accounts(total=1001)
    stats.add(accounts_done=120, pages=130)
    _Progress(run.pk)(stats, force=True)  # what the worker writes while it pulls
    data = alice_client.get(reverse("dataset-progress", args=[dataset.pk])).json()
    assert (data["accounts_done"], data["accounts_total"]) == (120, 1001)
    html = _text(alice_client.get(reverse("dataset", args=[dataset.pk])))
    assert "Accounts done" in html and "120 / 1,001" in html
