"""The connector page in headless Chromium: with JavaScript off it is a plain form that the
server re-renders; with it on, htmx swaps in the pane the server renders for the new report."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, expect

from datacenter.models import DataSet
from datacenter.tests.factories import sandbox_account_make
from scheduler.models import Run, RunTrigger, Schedule
from tests.browser import log_in, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "connector-Pw-5120!"  # noqa: S105 - a test user's password
URL = "/connect/twilio-advanced/"



@pytest.fixture
def alice(sandbox):
    return get_user_model().objects.create_user("alice", password=PASSWORD)


def _field(page, name: str):
    return page.locator(f'#pane-details div.dc-field[data-field="{name}"]')


def test_it_saves_the_connector_page_with_javascript_disabled(
    browser: Browser, live_server, alice
) -> None:
    tab = open_tab(browser, live_server.url, javascript=False)
    page = tab.page
    log_in(tab, "alice", PASSWORD)
    tab.goto(URL)
    # Connect the sandbox: a plain post, the page comes back with the account chosen.
    page.get_by_role("button", name="Use the sandbox account").click()
    expect(page.locator("#pane-credentials .alert-success")).to_contain_text("Connected to Twilio")
    expect(page.locator("select[name=cred-account]")).not_to_have_value("")
    # Another report: "Refresh fields" asks the server for the pane of the new report.
    page.locator("select[name=details-report]").select_option("alerts")
    expect(_field(page, "log_level")).to_be_hidden()  # nothing changes without a round trip
    page.get_by_role("button", name="Refresh fields").click()
    expect(_field(page, "log_level")).to_be_visible()
    expect(_field(page, "from_number")).to_be_hidden()
    page.locator("select[name=schedule-kind]").select_option("manual")
    page.locator("input[name=ds-name]").fill("Alerts without JavaScript")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/datasets/\d+/$"))
    dataset = DataSet.objects.get(name="Alerts without JavaScript")
    assert dataset.report == "alerts" and dataset.owner == alice
    assert Schedule.objects.get(dataset=dataset).spec["kind"] == "manual"
    # "Run after saving" is on by default: Save queued the first run, without JavaScript too.
    assert Run.objects.filter(dataset=dataset, trigger=RunTrigger.MANUAL).exists()


def test_it_re_renders_the_details_pane_when_the_report_changes(
    browser: Browser, live_server, alice
) -> None:
    account = sandbox_account_make(alice)
    tab = open_tab(browser, live_server.url)
    page = tab.page
    log_in(tab, "alice", PASSWORD)
    tab.goto(URL)
    page.locator("select[name=cred-account]").select_option(str(account.pk))
    expect(page.get_by_role("button", name="Refresh fields")).to_be_hidden()
    expect(_field(page, "from_number")).to_be_visible()
    page.evaluate("document.body.dataset.samePage = 'yes'")
    # Choosing the account may still be swapping the Credentials pane: wait for the Details one.
    with page.expect_response(lambda r: r.url.endswith(URL) and r.request.method == "POST"
                              and r.request.headers.get("hx-target") == "pane-details") as sent:
        page.locator("select[name=details-report]").select_option("alerts")
    assert sent.value.ok
    expect(_field(page, "log_level")).to_be_visible()
    expect(_field(page, "from_number")).to_be_hidden()
    expect(page.locator("[data-merge-key]")).to_have_text("sid")
    # A swap, not a page load: the body is the same document.
    assert page.evaluate("document.body.dataset.samePage") == "yes"
    tab.assert_no_js_errors()
