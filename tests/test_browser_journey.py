"""End to end in headless Chromium: a new user's path through the Data Center.

Everything runs for real: pytest-django's live_server (a thread of this process), the Twilio
sandbox on a loopback port, and a Celery worker process on the test database. Where the
product promises live updates (Run Now progress) the test never reloads the page itself.
Screenshots go to artifacts/screenshots/ (CI artifacts) and, for the README, to
docs/screenshots/ (see tests/browser.py).
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from playwright.sync_api import Browser, Locator, expect

from connector_site.pytest_plugin import wait_for
from datacenter.models import DataSet, TwilioAccount
from datacenter.tests.factories import dataset_make, sandbox_account_make
from scheduler.models import ACTIVE_STATES, Run, RunState, RunTrigger
from scheduler.services import run_request
from tests.browser import BROWSER_ZONE, WAIT_MS, Tab, log_in, number, open_tab, shot
from twilio_reports.dates import day_bounds_utc, today_in
from twilio_reports.sandbox import SandboxWorld
from twilio_reports.sandbox.accounts import ACCOUNTS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "journey-Pw-7731!"  # noqa: S105 - a test user's password
DAYS_BACK = 7  # the DataSet's window: Date range, start 7 days back, end 0 days back
DATA_PAGE_SIZE = 50  # rows per page of the Data tab (web.views.dataset_page)
ROWS_TEXT = re.compile(r"Rows ([\d,]+)–([\d,]+) of ([\d,]+)")



@pytest.fixture
def session_broker(settings) -> str:
    """The configured broker (Redis in CI, the session's filesystem folder elsewhere: the
    plugin points this process at it when the session starts), where the worker listens."""
    return settings.CELERY_BROKER_URL


def _person(username: str) -> AbstractBaseUser:
    return get_user_model().objects.create_user(
        username, email=f"{username}@example.com", password=PASSWORD
    )


def _window(tz: str, today: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of the DataSet's relative window on `today`."""
    return day_bounds_utc(today - timedelta(days=DAYS_BACK), today, tz)


def _calls_by_from(world: SandboxWorld, tz: str, today: date) -> dict[str, set[str]]:
    """Ground truth: the sids of every account's calls in the window, by `from`."""
    start, end = _window(tz, today)
    found: dict[str, set[str]] = {}
    for account in ACCOUNTS:
        for call in world.records("calls", account.sid):
            if not call["start_time"]:
                continue
            if start <= parsedate_to_datetime(call["start_time"]) < end:
                found.setdefault(call["from"], set()).add(call["sid"])
    return found


def _column(table: Locator, name: str) -> list[str]:
    """The texts of one column of a displayed table, found by its header."""
    headers = [h.strip(" ▲▼") for h in table.locator("thead th").all_inner_texts()]
    index = headers.index(name)
    return table.locator("tbody tr").evaluate_all(
        "(rows, i) => rows.map(r => r.cells[i].textContent.trim())", index
    )


def _rows_summary(tab: Tab) -> tuple[int, int, int]:
    text = tab.page.get_by_text(ROWS_TEXT).inner_text()
    match = ROWS_TEXT.search(text)
    assert match, text
    first, last, total = (number(g) for g in match.groups())
    return first, last, total


def _finished(run: Run, timeout: float = 90) -> Run:
    def done() -> bool:
        run.refresh_from_db()
        return run.state not in ACTIVE_STATES

    wait_for(done, timeout, f"run {run.pk} to finish")
    return run


def test_it_walks_a_new_user_from_login_to_a_scheduled_dataset(
    browser: Browser, live_server, sandbox, session_broker, celery_worker
) -> None:
    # After `sandbox`: the worker's environment is read from the settings it just set.
    celery_worker(broker_url=session_broker)
    _person("alice")
    tab = open_tab(browser, live_server.url)
    page = tab.page
    # The From number with the most calls in the window: enough rows for two Data pages.
    today = today_in(BROWSER_ZONE)
    by_from = _calls_by_from(sandbox.world, BROWSER_ZONE, today)
    caller = max((n for n in by_from if n.startswith("+")), key=lambda n: len(by_from[n]))
    assert len(by_from[caller]) > DATA_PAGE_SIZE, "the sandbox has too few calls to page"
    name = f"Calls from {caller}"

    # 1. Log in through the login page.
    tab.goto("/login/")
    expect(page.get_by_role("heading", name="Sign in to Data Center")).to_be_visible()
    shot(page, "01-login")
    log_in(tab, "alice", PASSWORD)
    expect(page.get_by_text("No DataSets yet")).to_be_visible()

    # 2. Connect Data → Twilio Advanced → the sandbox account, checked and saved at once.
    page.locator("#dc-nav").get_by_role("link", name="Connect Data").click()
    page.locator("[data-tile=twilio-advanced]").click()
    page.wait_for_url(re.compile(r"/connect/twilio-advanced/$"))
    page.get_by_role("button", name="Use the sandbox account").click()
    credentials = page.locator("#pane-credentials")
    expect(credentials.locator(".alert-success")).to_contain_text("Connected to Twilio")
    expect(page.locator("select[name=cred-account]")).not_to_have_value("")
    expect(credentials.locator("[data-new-account]")).to_be_hidden()

    # 3. Details: the fields follow the report, without a round trip.
    details = page.locator("#pane-details")
    report = page.locator("select[name=details-report]")

    def field(name: str) -> Locator:
        return details.locator(f'div.dc-field[data-field="{name}"]')

    expectations = {
        "messages": ({"to_number", "from_number"}, {"call_status", "category", "log_level"}),
        "usage-records": ({"category", "granularity"}, {"to_number", "from_number"}),
        "alerts": ({"log_level"}, {"to_number", "from_number", "category"}),
        "calls": ({"to_number", "from_number", "call_status"}, {"category", "log_level"}),
    }
    for slug, (shown, hidden) in expectations.items():
        report.select_option(slug)
        for name_ in shown:
            expect(field(name_), f"{slug}: {name_}").to_be_visible()
        for name_ in hidden:
            expect(field(name_), f"{slug}: {name_}").to_be_hidden()
    page.locator("input[name=details-from_number]").fill(caller)
    page.locator("select[name=details-duration]").select_option("range")
    page.locator("select[name=details-start_mode]").select_option("relative")
    page.locator("input[name=details-start_days_back]").fill(str(DAYS_BACK))
    page.locator("select[name=details-end_mode]").select_option("relative")
    page.locator("input[name=details-end_days_back]").fill("0")
    # Load Preview: the first rows live from the sandbox, all from the chosen number.
    details.get_by_role("button", name="Load Preview").click()
    preview = details.locator("[data-preview-output] table")
    expect(preview.locator("tbody tr").first).to_be_visible(timeout=WAIT_MS)
    assert set(_column(preview, "from")) == {caller}
    # Scheduling: by hand for now (step 7 changes it), so nothing runs behind the test's back.
    page.locator("select[name=schedule-kind]").select_option("manual")
    expect(page.locator("[data-schedule-words]")).to_have_text("Manually")
    page.locator("input[name=ds-name]").fill(name)
    page.locator("[name=ds-description]").fill("Calls of the last week from one number")
    # This walk presses Run Now itself (test_browser_round2 follows Save's own run).
    page.get_by_label("Run after saving").uncheck()
    for pane in ("credentials", "details", "scheduling", "naming"):
        expect(page.locator(f"#pane-{pane}")).to_be_visible()
    shot(page, "02-connector")

    # 4. Save → the DataSet's page; Run Now; the Overview follows the run by itself.
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/datasets/\d+/$"))
    pk = int(re.search(r"/datasets/(\d+)/$", page.url).group(1))
    dataset = DataSet.objects.get(pk=pk)
    assert dataset.report == "calls" and dataset.time_zone == BROWSER_ZONE
    assert dataset.params["filters"] == {"from_number": caller}
    # Slow pages a little so the in-flight state is on screen long enough to be seen.
    sandbox.config.latency_ms = 150
    page.get_by_role("button", name="Run Now").click()
    progress = page.locator("#run-progress")
    expect(progress.locator(".badge")).to_have_text(re.compile("Queued|Running"))
    expect(progress.locator('[data-field="status"]')).to_be_visible()
    shot(page, "05-overview-running")
    # progress.js polls and reloads the page itself when the run ends: no page.reload() here.
    expect(progress.locator(".badge")).to_have_text("Succeeded", timeout=WAIT_MS)
    sandbox.config.latency_ms = 0
    run = Run.objects.get(dataset=dataset)
    assert run.state == RunState.SUCCEEDED and run.trigger == RunTrigger.MANUAL
    assert number(progress.locator('[data-field="rows"]').inner_text()) == run.rows
    expect(page.locator("dd").filter(has_text="rows ×")).to_contain_text(f"{run.rows} rows")
    shot(page, "06-overview")

    # 5. Data tab: paged, and sorted by a click on a column header.
    page.locator(".nav-tabs").get_by_role("link", name="Data").click()
    table = page.locator("table.table-data")
    first, last, total = _rows_summary(tab)
    assert (first, last, total) == (1, DATA_PAGE_SIZE, run.rows)
    page_one = _column(table, "sid")
    assert len(page_one) == DATA_PAGE_SIZE
    shot(page, "07-data")
    page.get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert _rows_summary(tab)[:2] == (DATA_PAGE_SIZE + 1, min(2 * DATA_PAGE_SIZE, total))
    assert not set(_column(table, "sid")) & set(page_one)
    table.locator("thead").get_by_role("link", name="sid", exact=True).click()
    page.wait_for_url(re.compile(r"sort=sid"))
    ascending = _column(table, "sid")
    assert ascending == sorted(ascending)
    assert _rows_summary(tab)[0] == 1, "sorting starts again at the first page"
    table.locator("thead").get_by_role("link", name=re.compile(r"^sid ▲$")).click()
    page.wait_for_url(re.compile(r"desc=1"))
    descending = _column(table, "sid")
    assert descending == sorted(descending, reverse=True)
    assert set(_column(table, "from")) == {caller}

    # 6. Export the CSV and hold it against the sandbox's own records.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-v1.csv")
    with open(download.path(), newline="", encoding="utf-8-sig") as handle:
        exported = list(csv.DictReader(handle))
    assert len(exported) == total
    # Cells equal the stored values: an E.164 number is a number to a spreadsheet, not a
    # formula, so it is exported as it is (formulas are neutralised, see test_csv_cells).
    assert {row["from"] for row in exported} == {caller}
    sids = {row["sid"] for row in exported}
    # "Today" is the DataSet's zone's today when the run started.
    truth = _calls_by_from(
        sandbox.world, dataset.time_zone, today_in(dataset.time_zone, run.started_at)
    )
    assert sids == truth[caller]
    assert ascending[0] == min(sids) and descending[0] == max(sids)

    # 7. Edit → Scheduling: every day at 06:00, in words on the DataSet's header.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url(re.compile(rf"/datasets/{pk}/edit/$"))
    expect(page.locator("input[name=details-from_number]")).to_have_value(caller)
    page.locator("select[name=schedule-kind]").select_option("daily")
    page.locator("input[name=schedule-every]").fill("1")
    page.locator("input[name=schedule-at]").fill("06:00")
    words = f"Every day at 06:00 {BROWSER_ZONE}"
    expect(page.locator("[data-schedule-words]")).to_have_text(words)
    expect(page.locator("[data-schedule-next] li")).to_have_count(3)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(rf"/datasets/{pk}/$"))
    header = page.locator("dl")
    expect(header.locator("dt:text-is('Schedule') + dd")).to_have_text(words)
    expect(header.locator("dt:text-is('Next run') + dd")).not_to_have_text("Not scheduled")

    # 8. History: the manual run, succeeded, with its rows and version.
    page.locator(".nav-tabs").get_by_role("link", name="History").click()
    runs = page.locator("table").first.locator("tbody tr")
    expect(runs).to_have_count(1)
    cells = runs.first.locator("td").all_inner_texts()
    assert (cells[3], cells[4], number(cells[5]), cells[7]) == (
        "Manual",
        "Succeeded",
        run.rows,
        "v1",
    )
    shot(page, "09-history")

    # The DataSets and Accounts tabs list what was made.
    page.locator("#dc-nav").get_by_role("link", name="DataSets").click()
    row = page.locator("tbody tr").filter(has_text=name)
    expect(row.locator(".badge")).to_have_text("Succeeded")
    expect(row.locator("td.num").first).to_have_text(str(run.rows))
    shot(page, "04-datasets")
    page.locator("#dc-nav").get_by_role("link", name="Accounts").click()
    account_row = page.locator("#accounts-table tbody tr")
    expect(account_row).to_have_count(1)
    expect(account_row).to_contain_text("Twilio Sandbox")
    expect(account_row).to_contain_text("1 DataSet")
    expect(account_row.locator(".badge")).to_have_text("Valid")
    shot(page, "03-accounts")
    tab.assert_no_js_errors()

    # 9. Someone else sees none of it.
    _person("bob")
    other = open_tab(browser, live_server.url)
    log_in(other, "bob", PASSWORD)
    expect(other.page.get_by_text("No DataSets yet")).to_be_visible()
    expect(other.page.get_by_text(name)).to_have_count(0)
    for path in (f"/datasets/{pk}/", f"/datasets/{pk}/data/", f"/datasets/{pk}/export.csv"):
        other.expected_failures.add(other.url(path))
        response = other.page.goto(other.url(path))
        assert response is not None and response.status == 404, path
    other.goto("/accounts/")
    expect(other.page.get_by_text("No Twilio accounts yet")).to_be_visible()
    other.assert_no_js_errors()


def test_it_draws_the_charts_of_a_calls_and_an_sms_messages_dataset(
    browser: Browser, live_server, sandbox, session_broker, celery_worker
) -> None:
    celery_worker(broker_url=session_broker)
    alice = _person("alice")
    account = sandbox_account_make(alice)
    calls = dataset_make(alice, account, name="All calls", time_zone=BROWSER_ZONE)
    sms = dataset_make(alice, account, report="messages", name="All SMS", time_zone=BROWSER_ZONE)
    for dataset in (calls, sms):
        run = _finished(run_request(dataset=dataset))
        assert run.state == RunState.SUCCEEDED, run.error
        assert run.rows > 0
    tab = open_tab(browser, live_server.url)
    page = tab.page
    log_in(tab, "alice", PASSWORD)
    for dataset, docs in ((calls, "charts"), (sms, None)):
        tab.goto(f"/datasets/{dataset.pk}/charts/")
        charts = page.locator("div.chart")
        expect(charts.first).to_be_visible()
        assert charts.count() >= 2, f"{dataset.name}: too few charts"
        for i in range(charts.count()):
            chart = charts.nth(i)
            title = chart.get_attribute("aria-label")
            # Plotly's drawing: its SVG, and each trace's marks (bar and marker paths, lines).
            # Plotly.js 3 has no `.plot` group: traces are `g.trace` in the cartesian layer.
            expect(chart.locator(".main-svg").first, title).to_be_attached(timeout=WAIT_MS)
            marks = chart.locator("svg .cartesianlayer g.trace path")
            expect(marks.first, title).to_be_attached()
            drawn = marks.evaluate_all(
                "els => els.filter(e => (e.getAttribute('d') || '').length > 4).length"
            )
            assert drawn > 0, f"{dataset.name}: {title} has no marks"
        shot(page, f"08-charts-{dataset.report}", docs=docs)
    tab.assert_no_js_errors()


def test_it_shows_a_bad_phone_number_next_to_the_field_and_saves_nothing(
    browser: Browser, live_server
) -> None:
    alice = _person("alice")
    account = sandbox_account_make(alice)
    tab = open_tab(browser, live_server.url)
    page = tab.page
    log_in(tab, "alice", PASSWORD)
    before = (DataSet.objects.count(), TwilioAccount.objects.count())
    tab.goto("/connect/twilio-advanced/")
    page.locator("select[name=cred-account]").select_option(str(account.pk))
    page.locator("input[name=details-from_number]").fill("555-CALL-ME")
    page.locator("input[name=ds-name]").fill("Bad number")
    page.get_by_role("button", name="Save", exact=True).click()
    field = page.locator('#pane-details div.dc-field[data-field="from_number"]')
    expect(field.locator(".invalid-feedback")).to_contain_text("E.164")
    expect(field.locator("input")).to_have_class(re.compile(r"\bis-invalid\b"))
    # The typed value stays, so the user corrects it instead of typing it again.
    expect(field.locator("input")).to_have_value("555-CALL-ME")
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
    assert (DataSet.objects.count(), TwilioAccount.objects.count()) == before
    shot(page, "10-connector-bad-number")
    tab.assert_no_js_errors()
