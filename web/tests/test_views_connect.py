"""Connect Data: the tiles and the four-pane connector page, against the real sandbox."""

import re

import pytest
from django.urls import reverse

from datacenter.models import DataSet, Region, TwilioAccount
from datacenter.tests.base import connector_post
from datacenter.tests.factories import dataset_make, sandbox_account_make
from scheduler.models import Run, RunTrigger, Schedule
from twilio_reports.definitions import REPORTS
from twilio_reports.filters import FILTERS
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

pytestmark = pytest.mark.django_db
URL = "/connect/twilio-advanced/"
WRONG_TOKEN = "0" * 32
DATE_INPUTS = ("duration", "start_mode", "start_days_back", "end_mode", "end_days_back")


def _wrappers(html: str) -> dict[str, bool]:
    """data-field name -> shown, for the Details pane's field wrappers."""
    pane = html.split('id="pane-details"', 1)[1].split('id="pane-scheduling"', 1)[0]
    found = re.findall(r'class="[^"]*?dc-field( dc-hidden)?"\s+data-field="([a-z_]+)"', pane)
    return {name: not hidden for hidden, name in found}


def _counts() -> tuple[int, int, int]:
    return DataSet.objects.count(), Schedule.objects.count(), TwilioAccount.objects.count()


@pytest.fixture
def account(alice, sandbox):
    return sandbox_account_make(alice)


# --- Tiles and layout -----------------------------------------------------------------------


def test_it_shows_the_cloud_app_tiles(alice_client):
    html = alice_client.get("/connect/").content.decode()
    assert "Cloud App" in html
    assert f'href="{URL}"' in html and "Twilio Advanced" in html
    assert 'data-tile="twilio" title="Coming soon' in html


def test_it_shows_the_four_panes_in_order_with_both_save_buttons(alice_client, sandbox):
    html = alice_client.get(URL).content.decode()
    titles = ["Credentials", "Details", "Scheduling", "Name &amp; Describe Your DataSet"]
    positions = [html.index(f'<span class="dc-pane-number">{i}</span>{t}')
                 for i, t in enumerate(titles, start=1)]
    assert positions == sorted(positions)
    assert 'name="_save" class="btn btn-primary">Save<' in html
    assert 'name="_save_new"' in html and "Save and New" in html
    assert "Use the sandbox account" in html


def test_it_has_no_inline_scripts_or_event_attributes(alice_client, account):
    html = alice_client.get(URL).content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)
    # No field rule reaches the browser: the page carries no definitions for a script.
    assert "application/json" not in html and "htmx-2.min.js" in html


@pytest.mark.parametrize("report", list(REPORTS))
def test_it_shows_only_the_fields_of_the_chosen_report(alice_client, sandbox, report):
    response = alice_client.post(URL, connector_post(**{"details-report": report, "_refresh": "1"}))
    shown = _wrappers(response.content.decode())
    for name in FILTERS:
        assert shown[name] is (name in REPORTS[report].fields), name
    takes_window = REPORTS[report].date_filter is not None
    assert all(shown[name] is takes_window for name in DATE_INPUTS)
    # The relative range hides the inputs a specific date or single day would need.
    assert not shown["start_date"] and not shown["report_date"] and not shown["days_back"]


def test_the_no_js_refresh_keeps_values_and_shows_no_errors(alice_client, sandbox):
    post = connector_post(**{"details-report": "messages", "details-to_number": "+1415555",
                             "ds-name": "", "_refresh": "1"})
    html = alice_client.post(URL, post).content.decode()
    assert _wrappers(html)["to_number"] and not _wrappers(html)["call_status"]
    assert 'value="+1415555"' in html
    assert "is-invalid" not in html and "This field is required" not in html
    assert _counts() == (0, 0, 0)


def test_fixed_usage_periods_hide_the_date_window(alice_client, sandbox):
    post = connector_post(**{"details-report": "usage-records",
                             "details-granularity": "last-month", "_refresh": "1"})
    shown = _wrappers(alice_client.post(URL, post).content.decode())
    assert shown["category"] and shown["granularity"] and not shown["duration"]


# --- Validation: a message next to the field, nothing saved ---------------------------------


def test_a_bad_phone_number_is_refused_next_to_the_field(alice_client, account):
    before = _counts()
    post = connector_post(**{"cred-account": account.pk, "details-to_number": "555-CALL-NOW"})
    html = alice_client.post(URL, post).content.decode()
    assert re.search(r'name="details-to_number"[^>]*is-invalid|is-invalid[^>]*name="details-'
                     r'to_number"', html)
    assert "Enter a number in E.164 form" in html
    assert _counts() == before


def test_a_stale_value_of_a_hidden_field_is_ignored(alice_client, account):
    post = connector_post(**{"cred-account": account.pk, "details-report": "conferences",
                             "details-to_number": "not a number", "details-log": "7",
                             "details-conference_status": "completed"})
    response = alice_client.post(URL, post)
    dataset = DataSet.objects.get()
    assert response.status_code == 302
    assert dataset.params["filters"] == {"conference_status": "completed"}


def test_a_start_after_the_end_is_explained(alice_client, account):
    post = connector_post(**{"cred-account": account.pk, "details-start_days_back": "2",
                             "details-end_days_back": "5"})
    html = alice_client.post(URL, post).content.decode()
    assert "is after the end date" in html
    assert DataSet.objects.count() == 0


def test_every_pane_reports_its_errors_at_once(alice_client, account):
    post = connector_post(**{"cred-account": account.pk, "ds-name": "", "schedule-kind": "minutes",
                             "schedule-every": "5", "details-days_back": "x",
                             "details-start_days_back": "-1"})
    html = alice_client.post(URL, post).content.decode()
    assert "This field is required" in html  # the name
    assert "15 minutes apart" in html  # the schedule
    assert "greater than or equal to 0" in html  # the shown days-back input
    assert _counts() == (0, 0, 1)


# --- Credentials ----------------------------------------------------------------------------


def test_bad_credentials_show_twilios_reason_and_save_nothing(alice_client, sandbox):
    post = connector_post(**{"cred-account_sid": MAIN_ACCOUNT_SID, "cred-auth_token": WRONG_TOKEN})
    html = alice_client.post(URL, post).content.decode()
    assert "Twilio rejected the credentials (20003)" in html
    assert _counts() == (0, 0, 0)


def test_the_sandbox_button_saves_the_sandbox_account_without_showing_its_token(
    alice, alice_client, sandbox
):
    response = alice_client.post(URL, connector_post(**{"_sandbox": "1", "_save": None}))
    account = TwilioAccount.objects.get(owner=alice)
    html = response.content.decode()
    assert account.region == Region.SANDBOX and account.is_valid
    assert f'<option value="{account.pk}" selected>' in html
    assert MAIN_AUTH_TOKEN not in html
    # A second click reuses it.
    alice_client.post(URL, connector_post(**{"_sandbox": "1", "_save": None}))
    assert TwilioAccount.objects.filter(owner=alice).count() == 1


def test_the_no_js_connect_selects_the_new_account(alice, alice_client, sandbox):
    post = connector_post(**{"cred-account_sid": MAIN_ACCOUNT_SID,
                             "cred-auth_token": MAIN_AUTH_TOKEN, "_connect": "1", "_save": None})
    html = alice_client.post(URL, post).content.decode()
    account = TwilioAccount.objects.get(owner=alice)
    assert f'<option value="{account.pk}" selected>' in html
    assert MAIN_AUTH_TOKEN not in html
    assert DataSet.objects.count() == 0


def test_an_outsiders_account_cannot_be_chosen(alice_client, bob, sandbox):
    bobs = sandbox_account_make(bob)
    html = alice_client.post(URL, connector_post(**{"cred-account": bobs.pk})).content.decode()
    assert "Select a valid choice" in html
    assert DataSet.objects.count() == 0


# --- Saving ---------------------------------------------------------------------------------


def test_save_creates_the_dataset_and_its_schedule_and_opens_it(alice, alice_client, account):
    response = alice_client.post(URL, connector_post(**{"cred-account": account.pk,
                                                        "details-call_status": "completed"}))
    dataset = DataSet.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("dataset",
                                                                            args=[dataset.pk])
    assert dataset.owner == alice and dataset.account == account
    assert dataset.name == "Daily calls" and dataset.time_zone == "Europe/Berlin"
    assert dataset.params == {
        "filters": {"call_status": "completed"},
        "dates": {"duration": "range", "report_date_mode": "relative", "report_date": None,
                  "days_back": None, "start_mode": "relative", "start_date": None,
                  "start_days_back": 7, "end_mode": "relative", "end_date": None,
                  "end_days_back": 0},
    }
    schedule = dataset.schedule
    assert schedule.spec == {"tz": "Europe/Berlin", "kind": "daily", "every": 1, "at": "06:00"}
    assert schedule.next_run_at is not None and schedule.retry_max == 3
    assert not Run.objects.exists()


def test_save_with_a_new_account_checks_it_then_saves_all(alice, alice_client, sandbox):
    post = connector_post(**{"cred-account_sid": MAIN_ACCOUNT_SID.upper().replace("AC", "AC", 1),
                             "cred-auth_token": MAIN_AUTH_TOKEN})
    assert alice_client.post(URL, post).status_code == 302
    dataset = DataSet.objects.get()
    assert dataset.account.account_sid == MAIN_ACCOUNT_SID and dataset.account.is_valid


def test_save_and_new_queues_the_first_run_and_starts_again(alice_client, account):
    post = connector_post(**{"cred-account": account.pk, "_save": None, "_save_new": "1",
                             "ds-run_after_save": "on"})
    response = alice_client.post(URL, post)
    assert response.status_code == 302 and response["Location"] == URL
    run = Run.objects.get()
    assert run.trigger == RunTrigger.MANUAL and run.state == "queued"
    assert "it is running now" in alice_client.get(URL).content.decode()


def test_advanced_schedules_are_saved_as_a_spec(alice_client, account):
    post = connector_post(**{
        "cred-account": account.pk, "schedule-tab": "advanced", "schedule-adv_days_by": "nth",
        "schedule-adv_nth": ["2", "4"], "schedule-adv_nth_days": ["SU"],
        "schedule-adv_times": "07:30, 19:00", "schedule-start_when": "later",
        "schedule-start_at": "2030-01-01T08:00",
    })
    assert alice_client.post(URL, post).status_code == 302
    spec = Schedule.objects.get().spec
    assert spec["kind"] == "advanced" and sorted(spec["nth_weekdays"]) == ["2SU", "4SU"]
    assert spec["times"] == ["07:30", "19:00"] and spec["start_at"] == "2030-01-01T08:00"


def test_manual_schedules_keep_the_reminder(alice_client, account):
    post = connector_post(**{"cred-account": account.pk, "schedule-kind": "manual",
                             "schedule-remind_after_hours": "48", "schedule-retry": "never"})
    assert alice_client.post(URL, post).status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.rule is None and schedule.remind_after_hours == 48
    assert schedule.retry_enabled is False


# --- Edit ---------------------------------------------------------------------------------


def test_edit_shows_the_saved_settings_and_updates_them(alice, alice_client, account):
    dataset = dataset_make(alice, account, report="messages", filters={"to_number": "+14155550100"},
                           name="Texts", spec={"kind": "weekly", "tz": "UTC", "at": "05:00",
                                               "weekdays": ["MO", "FR"]})
    url = f"/datasets/{dataset.pk}/edit/"
    html = alice_client.get(url).content.decode()
    assert 'value="+14155550100"' in html and 'value="Texts"' in html
    assert re.search(r'value="MO"[^>]*checked', html) and "Every week on Monday and Friday" in html
    assert 'name="_save_new"' not in html
    post = connector_post(**{"cred-account": account.pk, "details-report": "messages",
                             "ds-name": "Texts v2", "schedule-kind": "manual"})
    assert alice_client.post(url, post)["Location"] == f"/datasets/{dataset.pk}/"
    dataset.refresh_from_db()
    assert dataset.name == "Texts v2" and dataset.schedule.spec["kind"] == "manual"
    assert DataSet.objects.count() == 1


def test_an_outsider_cannot_edit(bob_client, alice, account):
    dataset = dataset_make(alice, account)
    assert bob_client.get(f"/datasets/{dataset.pk}/edit/").status_code == 404
    assert bob_client.post(f"/datasets/{dataset.pk}/edit/", connector_post()).status_code == 404


# --- Load Preview ---------------------------------------------------------------------------


def test_load_preview_without_javascript_renders_a_table(alice_client, account):
    post = connector_post(**{"cred-account": account.pk, "_preview": "1", "_save": None})
    html = alice_client.post(URL, post).content.decode()
    assert "table-data" in html and "<th scope=\"col\">sid</th>" in html
    assert DataSet.objects.count() == 0


# --- Secrets ----------------------------------------------------------------------------------


def test_no_page_ever_contains_a_token(alice, alice_client, sandbox):
    secret = "Zq" + "7" * 30
    account = sandbox_account_make(alice, name="Mine", token=secret)
    dataset = dataset_make(alice, account)
    post = connector_post(**{"cred-account_sid": MAIN_ACCOUNT_SID, "cred-auth_token": secret,
                             "ds-name": ""})
    pages = [
        alice_client.get(URL),
        alice_client.get(f"/datasets/{dataset.pk}/edit/"),
        alice_client.post(URL, post),
        alice_client.post(URL, {**post, "_refresh": "1"}),
        alice_client.post(URL, {**post, "_connect": "1"}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="pane-credentials"),
        alice_client.get("/accounts/"),
        alice_client.get(f"/accounts/{account.pk}/edit/"),
    ]
    for response in pages:
        assert secret not in response.content.decode()
        assert MAIN_AUTH_TOKEN not in response.content.decode()


def test_a_new_dataset_defaults_to_the_browsers_time_zone(alice_client, sandbox):
    alice_client.cookies["tz"] = "America/Chicago"
    html = alice_client.get(URL).content.decode()
    assert '<option value="America/Chicago" selected>' in html
    alice_client.cookies["tz"] = "Not/AZone"
    assert '<option value="UTC" selected>' in alice_client.get(URL).content.decode()


def test_without_a_configured_sandbox_there_is_no_sandbox_button(alice_client, settings):
    settings.TWILIO_SANDBOX_URL = ""
    html = alice_client.get(URL).content.decode()
    assert "Use the sandbox account" not in html and 'value="sandbox"' not in html
