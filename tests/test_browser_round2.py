"""End to end in headless Chromium, round 2 (issue 16): a DataSet saved and run at once, its
header saying what it asks for, the Account Name refused on Save, the time zone search and
the browser's zone on a first visit, every control named by its label, the Data tab's filter
and two-column sort, the Excel download held against the version, the report fixed once
there is data, a DataSet paused by its account's deletion and resumed, and the Overview's
badge following a run from Queued to Running without a reload."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Locator, Page, expect

from datacenter import tables
from datacenter.models import DataSet
from scheduler.models import Run, RunState
from tests.browser import BROWSER_ZONE, WAIT_MS, log_in, number, open_tab, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "round2-Pw-5518!"  # noqa: S105 - a test user's password
URL = "/connect/twilio-advanced/"
ZONE = "America/Los_Angeles"



def _column(table: Locator, name: str) -> list[str]:
    headers = [h.strip(" ▲▼") for h in table.locator("thead th").all_inner_texts()]
    index = headers.index(name)
    return table.locator("tbody tr").evaluate_all(
        "(rows, i) => rows.map(r => r.cells[i].textContent.trim())", index)


def _controls_named_by_their_labels(page: Page) -> int:
    """Every visible control of the form: its accessible name is its label's text."""
    checked = 0
    for label in page.locator("#connector-form label[for]").all():
        control = page.locator(f"[id='{label.get_attribute('for')}']")
        if not control.count() or not control.is_visible():
            continue
        expect(control).to_have_accessible_name(label.inner_text().strip())
        checked += 1
    return checked


def test_it_saves_runs_and_browses_a_dataset_as_round_two_promises(
    browser: Browser, live_server, sandbox, settings, celery_worker
) -> None:
    celery_worker(broker_url=settings.CELERY_BROKER_URL)
    get_user_model().objects.create_user("carol", password=PASSWORD)
    tab = open_tab(browser, live_server.url)
    page = tab.page
    log_in(tab, "carol", PASSWORD)

    # A first visit (no `tz` cookie yet): the zone menu starts at the browser's zone.
    tab.context.clear_cookies(name="tz")
    tab.goto(URL)
    expect(page.get_by_label("Time zone", exact=True)).to_have_value(BROWSER_ZONE)
    page.get_by_role("button", name="Use the sandbox account").click()
    expect(page.locator("#pane-credentials .alert-success")).to_contain_text("Connected")
    assert page.get_by_role("button", name="Save", exact=True).count() == 1
    assert _controls_named_by_their_labels(page) > 15

    # Details: every account's calls from 7 to 2 days ago, of one (mistyped) account name.
    page.get_by_label("Account Name (Optional)", exact=True).fill("Sandbox Mian")
    page.get_by_label("Days Back to Start From", exact=True).fill("7")
    page.get_by_label("Days Back to End At", exact=True).fill("2")
    # The time zone search narrows the menu on the server as one types.
    zone_menu = page.get_by_label("Time zone", exact=True)
    page.get_by_label("Search time zones", exact=True).fill("los ang")
    expect(zone_menu.locator("option")).to_have_count(2)  # the match and the chosen zone
    zone_menu.select_option(ZONE)
    page.get_by_label("Update", exact=True).select_option("manual")
    page.get_by_label("DataSet name", exact=True).fill("Main calls")
    expect(page.get_by_label("Run after saving")).to_be_checked()
    page.get_by_role("button", name="Save", exact=True).click()
    name_field = page.locator('#pane-details div.dc-field[data-field="account_name"]')
    expect(name_field.locator(".invalid-feedback")).to_contain_text(
        "No Twilio account named “Sandbox Mian” is visible to these credentials")
    expect(name_field.locator(".invalid-feedback")).to_contain_text("Sandbox Main")
    assert not DataSet.objects.exists()
    page.get_by_label("Account Name (Optional)", exact=True).fill("Sandbox Main")
    shot(page, "r2-01-connector", docs="connector")

    # Save runs it: the page follows the run without anyone pressing Run Now.
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/datasets/\d+/$"))
    dataset = DataSet.objects.get()
    assert dataset.time_zone == ZONE
    progress = page.locator("#run-progress")
    expect(progress.locator(".badge")).to_have_text("Succeeded", timeout=WAIT_MS)
    run = Run.objects.get(dataset=dataset)
    dataset.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and run.rows > 50
    asks = page.locator("[data-asks-for]")
    expect(asks).to_have_text(re.compile(
        r"^Calls · Account Name Sandbox Main · 7 to 2 days ago \(\w{3} \d+(, \d{4})?–\w{3} \d+, "
        rf"\d{{4}}\) · {ZONE}$"))
    expect(page.locator("[data-table-location]")).to_have_text(tables.table_uri(dataset.pk))
    shot(page, "r2-02-overview", docs="dataset-overview")

    # Data: newest first, then a filter by value and a sort by two columns.
    page.locator(".nav-tabs").get_by_role("link", name="Data").click()
    table = page.locator("table.table-data")
    times = [t for t in _column(table, "start_time") if t != "—"]
    assert times == sorted(times, reverse=True)
    page.get_by_label("Filter column", exact=True).select_option("status")
    page.get_by_label("equals", exact=True).fill("completed")
    page.get_by_role("button", name="Add filter").click()
    page.wait_for_url(re.compile(r"f=status%3Acompleted"))
    assert set(_column(table, "status")) == {"completed"}
    completed = tables.read_table(tables.table_uri(dataset.pk),
                                  dataset.current_version.delta_version, ["status"])
    expect(page.get_by_text(re.compile(r"Rows 1–\d+ of [\d,]+ \(filtered\)"))).to_have_text(
        re.compile(f"of {completed['status'].to_pylist().count('completed'):,}"))
    page.get_by_role("link", name="Remove filters").click()
    page.get_by_label("Sort by", exact=True).select_option("direction")
    page.get_by_label("Then by", exact=True).select_option("duration")
    page.get_by_label("Then order", exact=True).select_option("1")
    page.get_by_role("button", name="Sort", exact=True).click()
    page.wait_for_url(re.compile(r"then=duration"))
    pairs = list(zip(_column(table, "direction"), _column(table, "duration"), strict=True))
    keys = [(d, -number(s) if s != "—" else 1) for d, s in pairs]
    assert keys == sorted(keys)
    shot(page, "r2-03-data-filter-sort", docs="data")

    # History → Download Excel: the file holds the version's rows.
    from openpyxl import load_workbook

    page.locator(".nav-tabs").get_by_role("link", name="History").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download Excel").first.click()
    assert info.value.suggested_filename == "main-calls-v1.xlsx"
    # The download's temporary file has no extension, which openpyxl insists on: bytes, then.
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    version = tables.read_table(tables.table_uri(dataset.pk), run.version.delta_version)
    assert list(rows[0]) == version.column_names
    assert len(rows) - 1 == version.num_rows == run.rows
    sid = rows[0].index("sid")
    assert sorted(r[sid] for r in rows[1:]) == sorted(version["sid"].to_pylist())

    # Edit: the report is fixed now; "Save as a new DataSet" opens a copy to change it.
    page.get_by_role("link", name="Edit", exact=True).first.click()
    expect(page.get_by_label("Report", exact=True)).to_be_disabled()
    page.get_by_role("link", name="Save as a new DataSet").click()
    expect(page.get_by_label("Report", exact=True)).to_be_enabled()
    expect(page.get_by_label("DataSet name", exact=True)).to_have_value("Main calls (copy)")

    # Its account deleted, the DataSet is paused; choosing an account resumes it.
    tab.goto("/accounts/")
    page.get_by_role("link", name="Delete").first.click()
    page.get_by_role("button", name="Delete account").click()
    tab.goto(f"/datasets/{dataset.pk}/")
    expect(page.get_by_role("button", name="Run Now")).to_be_disabled()
    expect(page.locator("[data-paused-reason]")).to_contain_text("account was deleted")
    expect(page.locator("[data-next-run-paused]")).to_have_text("paused: no account")
    shot(page, "r2-04-paused")
    page.get_by_role("link", name="Edit", exact=True).first.click()
    page.get_by_role("button", name="Use the sandbox account").click()
    expect(page.locator("#pane-credentials .alert-success")).to_contain_text("Connected")
    page.get_by_label("Update", exact=True).select_option("daily")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(rf"/datasets/{dataset.pk}/$"))
    expect(page.get_by_role("button", name="Run Now")).to_be_enabled()
    expect(page.locator("[data-next-run-paused]")).to_have_count(0)
    dataset.refresh_from_db()
    assert dataset.account is not None and dataset.schedule.next_run_at is not None

    # The Twilio Advanced tile keeps its text inside its card from 1024 px up.
    for width in (1024, 1280, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        tab.goto("/connect/")
        tile = page.locator("[data-tile=twilio-advanced]")
        card = tile.bounding_box()
        for text in tile.locator(".card-body div div").all():
            box = text.bounding_box()
            assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
            assert box["y"] + box["height"] <= card["y"] + card["height"], (width, text)
    tab.assert_no_js_errors()


def test_it_turns_the_badge_to_running_when_a_worker_takes_the_run(
    browser: Browser, live_server
) -> None:
    """static/js/progress.js: the Overview's badge and counters follow the run without a
    reload, from Queued ("Waiting for a worker…") to Running ("Pulling from Twilio…")."""
    from django.utils import timezone

    from datacenter.tests.factories import dataset_make, sandbox_account_make
    from scheduler.models import RunTrigger

    user = get_user_model().objects.create_user("dora", password=PASSWORD)
    dataset = dataset_make(user, sandbox_account_make(user))
    run = Run.objects.create(dataset=dataset, trigger=RunTrigger.MANUAL, state=RunState.QUEUED)
    tab = open_tab(browser, live_server.url)
    page = tab.page
    log_in(tab, "dora", PASSWORD)
    tab.goto(f"/datasets/{dataset.pk}/")
    badge = page.locator("#run-progress .badge")
    status = page.locator("#run-progress [data-field='status']")
    expect(badge).to_have_text("Queued")
    expect(status).to_have_text("Waiting for a worker…")

    # A worker claims the run and reports its first pages (what run_execute writes).
    Run.objects.filter(pk=run.pk).update(state=RunState.RUNNING, started_at=timezone.now(),
                                         pages=3, rows=2500)
    expect(badge).to_have_text("Running")
    expect(badge).to_have_class(re.compile(r"\btext-bg-primary\b"))
    expect(status).to_have_text("Pulling from Twilio…")
    expect(page.locator("#run-progress [data-field='rows']")).to_have_text("2,500")
    tab.assert_no_js_errors()
