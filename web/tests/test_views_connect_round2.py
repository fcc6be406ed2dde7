"""The connector page, round 2 (issue 16): Save runs the DataSet, the Account Name is
checked on Save, the report is fixed once a DataSet has data, an Account SID saved twice,
names too long, the time zone menu, and labels that are exactly the controls' names."""

import re

import pytest

from datacenter.models import DataSet, TwilioAccount
from datacenter.tests.base import call_rows, connector_post, write_calls
from datacenter.tests.factories import sandbox_account_make
from scheduler.models import Run, RunTrigger
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

pytestmark = pytest.mark.django_db
URL = "/connect/twilio-advanced/"


@pytest.fixture
def account(alice, sandbox):
    return sandbox_account_make(alice)


def test_it_runs_the_dataset_on_save_when_run_after_saving_is_ticked(alice_client, account):
    page = alice_client.get(URL).content.decode()
    assert re.search(r'<input type="checkbox" name="ds-run_after_save"[^>]*checked', page)
    post = connector_post(**{"cred-account": account.pk, "ds-run_after_save": "on"})
    response = alice_client.post(URL, post)
    dataset = DataSet.objects.get()
    assert response["Location"] == f"/datasets/{dataset.pk}/"
    run = Run.objects.get(dataset=dataset)
    assert run.trigger == RunTrigger.MANUAL and run.state == "queued"


def test_it_saves_without_running_when_run_after_saving_is_unticked(alice_client, account):
    assert alice_client.post(URL, connector_post(**{"cred-account": account.pk})).status_code == 302
    assert not Run.objects.exists()


def test_it_refuses_an_account_name_the_credentials_cannot_see(alice_client, account):
    post = connector_post(**{"cred-account": account.pk, "details-account_name": "Sandbox Mian"})
    html = alice_client.post(URL, post).content.decode()
    assert "Nothing was saved" in html
    assert "No Twilio account named “Sandbox Mian” is visible to these credentials" in html
    assert "Sandbox Main" in html  # the names they can see, to spot the typo
    assert not DataSet.objects.exists()
    ok = connector_post(**{"cred-account": account.pk, "details-account_name": "Sandbox Support"})
    assert alice_client.post(URL, ok).status_code == 302


def test_it_fixes_the_report_of_a_dataset_with_data_and_offers_a_copy(
    alice_client, alice, account, storage
):
    alice_client.post(URL, connector_post(**{"cred-account": account.pk, "ds-name": "Calls"}))
    dataset = DataSet.objects.get()
    edit = f"/datasets/{dataset.pk}/edit/"
    assert "disabled" not in re.search(r"<select[^>]*details-report[^>]*>", alice_client.get(
        edit).content.decode()).group(0)
    write_calls(dataset, call_rows(3))
    html = alice_client.get(edit).content.decode()
    assert re.search(r"<select[^>]*name=\"details-report\"[^>]*disabled", html)
    assert "The report is fixed once a DataSet has data" in html
    assert f'href="{URL}?from={dataset.pk}">Save as a new DataSet</a>' in html
    post = connector_post(**{"cred-account": account.pk, "ds-name": "Calls",
                             "details-report": "messages"})
    assert alice_client.post(edit, post).status_code == 302
    dataset.refresh_from_db()
    assert dataset.report == "calls"  # a posted report is ignored
    copy = alice_client.get(f"{URL}?from={dataset.pk}").content.decode()
    assert 'value="Calls (copy)"' in copy and "A new DataSet with the settings of" in copy
    assert not re.search(r"<select[^>]*name=\"details-report\"[^>]*disabled", copy)


def test_it_warns_when_an_account_sid_is_saved_twice_and_tells_them_apart(alice_client, account):
    post = connector_post(**{
        "cred-name": "Second", "cred-account_sid": MAIN_ACCOUNT_SID,
        "cred-auth_token": MAIN_AUTH_TOKEN, "cred-region": "sandbox", "ds-name": "Twice",
    })
    response = alice_client.post(URL, post, follow=True)
    html = response.content.decode()
    assert "You had already saved Account SID ACae…e1bb as “Sandbox”" in html
    assert TwilioAccount.objects.filter(account_sid=MAIN_ACCOUNT_SID).count() == 2
    menu = alice_client.get(URL).content.decode().split('name="cred-account"', 1)[1]
    labels = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', menu.split("</select>")[0])
    assert sorted(labels) == ["Sandbox (ACae…e1bb · Auth Token · SANDBOX)",
                              "Second (ACae…e1bb · Auth Token · SANDBOX)"]


def test_it_says_a_name_is_too_long_instead_of_cutting_it(alice_client, account):
    html = alice_client.get(URL).content.decode()
    assert not re.search(r'name="ds-name"[^>]*maxlength', html)
    post = connector_post(**{"cred-account": account.pk, "ds-name": "n" * 130})
    html = alice_client.post(URL, post).content.decode()
    assert "At most 120 characters: this one has 130." in html
    assert not DataSet.objects.exists()


def test_it_offers_canonical_zones_filtered_by_the_search(alice_client, account):
    html = alice_client.get(URL).content.decode()
    menu = html.split('name="schedule-tz"', 1)[1].split("</select>", 1)[0]
    assert 'value="America/Los_Angeles"' in menu and 'value="US/Pacific"' not in menu
    narrowed = alice_client.post(URL, {**connector_post(**{"schedule-tz_search": "los ang"}),
                                       "_refresh": "1"},
                                 HTTP_HX_REQUEST="true", HTTP_HX_TARGET="tz-menu")
    options = re.findall(r'<option value="([^"]+)"', narrowed.content.decode().split(
        'name="schedule-tz"', 1)[1].split("</select>", 1)[0])
    assert options == ["Europe/Berlin", "America/Los_Angeles"]  # the chosen zone stays


def test_it_picks_the_browser_zone_on_a_first_visit_only(alice_client, account):
    assert "data-browser-zone" in alice_client.get(URL).content.decode()
    alice_client.cookies["tz"] = "Europe/Berlin"
    assert "data-browser-zone" not in alice_client.get(URL).content.decode()


def test_it_starts_every_n_minutes_at_15_and_offers_the_last_day_of_the_month(
    alice_client, account
):
    html = alice_client.post(URL, {**connector_post(**{"schedule-kind": "minutes"}),
                                   "_refresh": "1"}).content.decode()
    every = re.search(r'<input[^>]*name="schedule-every"[^>]*>', html).group(0)
    assert 'value="15"' in every and 'min="15"' in every
    assert '<option value="-1">Last day</option>' in html.split('name="schedule-day_of_month"')[1]
    post = connector_post(**{"cred-account": account.pk, "schedule-kind": "monthly",
                             "schedule-day_of_month": "-1"})
    assert alice_client.post(URL, post).status_code == 302
    assert DataSet.objects.get().schedule.spec["day_of_month"] == -1


def test_it_keeps_required_marks_outside_labels_and_has_one_save_button(alice_client, account):
    html = alice_client.get(URL).content.decode()
    labels = re.findall(r"<label[^>]*>(.*?)</label>", html, flags=re.S)
    assert labels and not [text for text in labels if "*" in text or "asterisk" in text]
    assert re.search(r'</label><span class="asteriskField" aria-hidden="true">\*</span>', html)
    assert len(re.findall(r"<button[^>]*>\s*Save\s*</button>", html)) == 1


def test_it_words_an_account_sid_error_with_an(alice_client, account):
    html = alice_client.post(URL, {**connector_post(**{"cred-account_sid": "XX12"}),
                                   "_connect": "1"}).content.decode()
    assert "An Account SID is “AC” followed by 32 hexadecimal characters" in html
