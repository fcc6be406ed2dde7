"""The connector page through htmx: the same posts as without JavaScript, answered with the
one pane named in HX-Target (no JSON twin endpoints), against the real sandbox."""

import pytest

from datacenter.models import DataSet, TwilioAccount
from datacenter.tests.base import connector_post
from datacenter.tests.factories import sandbox_account_make
from twilio_reports.definitions import REPORTS
from twilio_reports.filters import FILTERS
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

pytestmark = pytest.mark.django_db
URL = "/connect/twilio-advanced/"
WRONG_TOKEN = "0" * 32


def _htmx(client, target: str, **overrides: object):
    """Post the page as htmx does: every field of the form, the button's action, HX-Target."""
    post = {k: v for k, v in connector_post(**overrides).items() if v is not None}
    post.pop("_save", None)
    return client.post(URL, post, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)


def _shown(html: str) -> set[str]:
    import re

    found = re.findall(r'class="[^"]*?dc-field( dc-hidden)?"\s+data-field="([a-z_]+)"', html)
    return {name for hidden, name in found if not hidden}


@pytest.fixture
def account(alice, sandbox):
    return sandbox_account_make(alice)


# --- Details ---------------------------------------------------------------------------------


def test_it_re_renders_the_details_pane_for_the_chosen_report(alice_client, sandbox):
    response = _htmx(alice_client, "pane-details", **{"_refresh": "1", "details-report": "alerts"})
    html = response.content.decode()
    assert response.status_code == 200
    # The pane alone, not the page: no other pane, no layout.
    assert 'id="pane-details"' in html
    assert 'id="pane-credentials"' not in html and "<html" not in html
    fields = _shown(html) & set(FILTERS)
    assert fields == set(REPORTS["alerts"].fields)
    # The merge key shown in Scheduling follows the report, out of band.
    assert 'id="merge-key" hx-swap-oob="true"' in html
    assert ", ".join(REPORTS["alerts"].merge_key) in html
    assert DataSet.objects.count() == 0


def test_it_hides_the_date_window_for_a_fixed_usage_period(alice_client, sandbox):
    html = _htmx(alice_client, "pane-details", **{
        "_refresh": "1", "details-report": "usage-records", "details-granularity": "last-month",
    }).content.decode()
    assert "duration" not in _shown(html) and "granularity" in _shown(html)


def test_it_marks_the_fields_that_re_render_the_pane(alice_client, sandbox):
    html = alice_client.get(URL).content.decode()
    assert 'name="details-report"' in html
    for name in ("details-report", "details-duration", "schedule-kind"):
        tag = html.split(f'name="{name}"', 1)[1].split(">", 1)[0]
        assert "data-refreshes" in tag, name


# --- Credentials -----------------------------------------------------------------------------


def test_connect_checks_then_saves_the_account(alice, alice_client, sandbox):
    html = _htmx(alice_client, "pane-credentials", **{
        "_connect": "1", "cred-name": "Ops", "cred-account_sid": MAIN_ACCOUNT_SID,
        "cred-auth_token": MAIN_AUTH_TOKEN,
    }).content.decode()
    account = TwilioAccount.objects.get(owner=alice)
    assert account.name == "Ops" and account.is_valid is True
    assert f'<option value="{account.pk}" selected>' in html and "is saved and chosen" in html
    assert 'id="pane-details"' not in html and MAIN_AUTH_TOKEN not in html
    # A chosen account hides the new-account block.
    assert 'data-new-account class="border rounded p-3 bg-body-tertiary dc-hidden"' in html


def test_connect_with_bad_credentials_saves_nothing(alice_client, sandbox):
    html = _htmx(alice_client, "pane-credentials", **{
        "_connect": "1", "cred-account_sid": MAIN_ACCOUNT_SID, "cred-auth_token": WRONG_TOKEN,
    }).content.decode()
    assert "Twilio rejected the credentials" in html
    assert TwilioAccount.objects.count() == 0


def test_connect_explains_a_malformed_sid_without_asking_twilio(alice_client, sandbox):
    html = _htmx(alice_client, "pane-credentials", **{
        "_connect": "1", "cred-account_sid": "AC123", "cred-auth_token": MAIN_AUTH_TOKEN,
    }).content.decode()
    assert "32 hexadecimal" in html and "is-invalid" in html


def test_the_sandbox_button_answers_with_the_credentials_pane(alice, alice_client, sandbox):
    html = _htmx(alice_client, "pane-credentials", _sandbox="1").content.decode()
    account = TwilioAccount.objects.get(owner=alice)
    assert f'<option value="{account.pk}" selected>' in html
    assert "Connected to Twilio" in html and MAIN_AUTH_TOKEN not in html


# --- Load Preview ----------------------------------------------------------------------------


def test_load_preview_returns_the_first_rows_live(alice_client, account):
    html = _htmx(alice_client, "pane-details", **{
        "_preview": "1", "_refresh": "1", "cred-account": account.pk,
    }).content.decode()
    assert "table-data" in html and '<th scope="col">sid</th>' in html
    assert "row" in html and "shown." in html
    assert DataSet.objects.count() == 0


def test_load_preview_explains_twilio_errors(alice_client, sandbox):
    html = _htmx(alice_client, "pane-details", **{
        "_preview": "1", "cred-account_sid": MAIN_ACCOUNT_SID, "cred-auth_token": WRONG_TOKEN,
    }).content.decode()
    assert "Preview failed" in html and "rejected the credentials" in html
    assert TwilioAccount.objects.count() == 0


def test_load_preview_marks_missing_credentials_in_their_pane(alice_client, sandbox):
    html = _htmx(alice_client, "pane-details", _preview="1").content.decode()
    assert "Preview failed" in html
    assert 'id="pane-credentials"' in html and 'hx-swap-oob="true"' in html


# --- Schedule summary ------------------------------------------------------------------------


def test_the_summary_gives_words_and_the_next_three_runs(alice_client, sandbox):
    html = _htmx(alice_client, "schedule-summary", _refresh="1").content.decode()
    assert "Every day at 06:00 Europe/Berlin" in html
    next_runs = html.split("data-schedule-next>", 1)[1].split("</ul>", 1)[0]
    assert next_runs.count("<li>") == 3


def test_the_summary_reports_invalid_schedules(alice_client, sandbox):
    html = _htmx(alice_client, "schedule-summary", **{
        "_refresh": "1", "schedule-kind": "minutes", "schedule-every": "5",
    }).content.decode()
    assert "15 minutes apart" in html
    assert "data-schedule-next-wrap hidden" in html


def test_the_summary_of_manual_has_no_next_runs(alice_client, sandbox):
    html = _htmx(alice_client, "pane-scheduling", **{
        "_refresh": "1", "schedule-kind": "manual",
    }).content.decode()
    assert "<strong data-schedule-words>Manually</strong>" in html
    assert "remind_after_hours" in _shown(html) and "every" not in _shown(html)
