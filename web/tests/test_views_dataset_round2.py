"""A DataSet's page, round 2 (issue 16): the header's description and table location, a
paused DataSet, a revert's label, the Excel download, the Data tab's order, filters and
two-column sort, the charts' words and colours, Daily rows figures, rounded means."""

import io
import re
from datetime import UTC
from decimal import Decimal

import pytest

from datacenter import services, tables
from datacenter.models import DataSet
from datacenter.tests.base import call_rows, write_calls
from scheduler.models import Run

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_it_says_what_the_dataset_asks_for_and_where_its_table_is(alice_client, make_dataset):
    dataset = make_dataset(
        rows=3, filters={"from_number": "+15551230001"}, time_zone="America/Los_Angeles",
        dates={"duration": "range", "start_mode": "relative", "start_days_back": 20,
               "end_mode": "relative", "end_days_back": 10})
    html = _html(alice_client.get(f"/datasets/{dataset.pk}/"))
    words = re.search(r"<p[^>]*data-asks-for>([^<]+)</p>", html).group(1)
    assert re.fullmatch(r"Calls · From \+15551230001 · 20 to 10 days ago \(\w{3} \d+(, \d{4})?"
                        r"–\w{3} \d+, \d{4}\) · America/Los_Angeles", words), words
    assert f"<code data-table-location>{tables.table_uri(dataset.pk)}</code>" in html


def test_it_pauses_a_dataset_whose_account_was_deleted(alice_client, make_dataset, alice_account):
    dataset = make_dataset(rows=2)
    services.account_delete(account=alice_account)
    html = _html(alice_client.get(f"/datasets/{dataset.pk}/"))
    assert re.search(r"<button[^>]*disabled aria-describedby=\"run-paused-reason\"[^>]*>Run Now",
                     html)
    assert "Cannot run: its Twilio account was deleted" in html
    assert "paused: no account" in html
    assert "paused: no account" in _html(alice_client.get("/datasets/"))
    alice_client.post(f"/datasets/{dataset.pk}/run/")
    assert not Run.objects.exists()


def test_it_labels_a_revert_and_keeps_the_last_successful_update(alice_client, make_dataset):
    dataset = make_dataset(rows=3)
    write_calls(dataset, call_rows(5, start=100))
    dataset.refresh_from_db()
    before = dataset.last_success_at
    alice_client.post(f"/datasets/{dataset.pk}/versions/1/revert/")
    dataset.refresh_from_db()
    assert dataset.current_version.number == 3 and dataset.last_success_at == before
    html = _html(alice_client.get(f"/datasets/{dataset.pk}/"))
    assert re.search(r"data-reverted>· Reverted to v1 on <time", html)


def test_it_downloads_a_version_as_an_excel_file_equal_to_it(alice_client, make_dataset):
    from openpyxl import load_workbook

    dataset = make_dataset(rows=30)
    response = alice_client.get(f"/datasets/{dataset.pk}/versions/1/xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('calls-v1.xlsx"')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    expected = call_rows(30)
    names = list(rows[0])
    assert names == [name for name, _ in dataset.current_version.columns]
    assert len(rows) == 31
    for got, want in zip(rows[1:], expected, strict=True):
        # Empty cells at the end of a row are not stored: pad them back.
        record = dict(zip(names, [*got, *[None] * (len(names) - len(got))], strict=True))
        assert record["sid"] == want["sid"] and record["duration"] == want["duration"]
        assert record["start_time"] == want["start_time"].astimezone(UTC).replace(tzinfo=None)
        assert Decimal(str(record["price"])) == want["price"]


def test_it_refuses_an_excel_file_past_the_sheet_limit(alice_client, make_dataset, monkeypatch):
    dataset = make_dataset(rows=3)
    write_xlsx = tables.write_xlsx
    monkeypatch.setattr(tables, "write_xlsx", lambda uri, v: write_xlsx(uri, v, max_rows=2))
    response = alice_client.get(f"/datasets/{dataset.pk}/versions/1/xlsx", follow=True)
    assert "an Excel sheet holds at most 2" in response.content.decode()


def test_it_lists_newest_first_filters_by_value_and_sorts_by_two_columns(
    alice_client, make_dataset
):
    dataset = make_dataset(rows=60)
    url = f"/datasets/{dataset.pk}/data/"
    names = [name for name, _ in dataset.current_version.columns]
    status, duration = names.index("status"), names.index("duration")
    first = alice_client.get(url).context["rows"][0]
    assert first[0].text == call_rows(60)[-1]["sid"]  # newest start_time first
    added = alice_client.get(url, {"view": "table", "fcol": "status", "fval": "busy"})
    assert added.status_code == 302 and "f=status%3Abusy" in added["Location"]
    page = alice_client.get(added["Location"])
    assert page.context["total"] == 12
    assert {row[status].text for row in page.context["rows"]} == {"busy"}
    both = alice_client.get(url, {"sort": "status", "then": "duration", "then_desc": "1"})
    statuses = [row[status].text for row in both.context["rows"]]
    assert statuses == sorted(statuses)
    durations = [int(row[duration].text.replace(",", "")) for row in both.context["rows"]
                 if row[status].text == statuses[0]]
    assert durations == sorted(durations, reverse=True)
    bad = alice_client.get(url, {"f": "duration:abc"})
    assert "“abc” is not an int value" in bad.content.decode()


def test_it_describes_charts_in_plain_words_with_a_colour_per_direction(
    alice_client, make_dataset
):
    dataset = make_dataset(rows=48)
    response = alice_client.get(f"/datasets/{dataset.pk}/charts/")
    html = _html(response)
    plain = re.findall(r"data-chart-plain>([^<]+)</p>", html)
    assert plain and not [p for p in plain if "`" in p or "parent_call_sid" in p]
    assert "How this is computed" in html and "<code>parent_call_sid</code>" in html
    by_direction = next(c for c in response.context["charts_json"]
                        if c["id"] == "calls-by-direction")
    colours = {s["name"]: s["color"] for s in by_direction["series"]}
    assert len(set(colours.values())) == len(colours) >= 2


def test_it_shows_daily_row_figures_and_rounds_means(alice_client, make_dataset):
    dataset = make_dataset(rows=10)
    listing = _html(alice_client.get("/datasets/"))
    assert re.search(r"data-daily-figures>last day [\d,]+ · peak [\d,]+<", listing)
    stats = _html(alice_client.get(f"/datasets/{dataset.pk}/data/", {"view": "stats"}))
    assert '<span title="34.5">34.50</span>' in stats
    assert DataSet.objects.count() == 1
