"""The Accounts tab: list, add (checked with Twilio first), edit, test connection, delete."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from datacenter import crypto
from datacenter.models import DataSet, TwilioAccount
from datacenter.tests.factories import dataset_make, sandbox_account_make
from scheduler.selectors import dataset_needs_attention
from twilio_reports.sandbox import (
    MAIN_ACCOUNT_SID,
    MAIN_API_KEY_SECRET,
    MAIN_API_KEY_SID,
    MAIN_AUTH_TOKEN,
)

pytestmark = pytest.mark.django_db
URL = "/accounts/"
WRONG = "0" * 32


@pytest.fixture
def account(alice, sandbox):
    return sandbox_account_make(alice, name="Sandbox")


def _add(client, **overrides):
    data = {"name": "Ops", "account_sid": MAIN_ACCOUNT_SID, "auth_token": MAIN_AUTH_TOKEN,
            "key_sid": "", "key_secret": "", "region": "sandbox"}
    data.update(overrides)
    return client.post(f"{URL}add/", data)


def test_it_says_what_to_do_when_there_are_no_accounts(alice_client):
    html = alice_client.get(URL).content.decode()
    assert "Add your first Twilio account" in html


def test_it_lists_accounts_with_their_datasets(alice, alice_client, account):
    first = dataset_make(alice, account, name="Calls A")
    dataset_make(alice, account, name="Calls B")
    html = alice_client.get(URL).content.decode()
    assert account.masked_sid in html and MAIN_ACCOUNT_SID not in html
    assert "alice" in html
    assert "<summary>2 DataSets</summary>" in html
    assert f'href="/datasets/{first.pk}/">Calls A</a>' in html
    assert "Not checked" in html
    assert 'title="' in html and " UTC" in html


def test_the_list_takes_a_constant_number_of_queries(alice, alice_client, sandbox):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            alice_client.get(URL)
        return len(ctx.captured_queries)

    account = sandbox_account_make(alice, name="One")
    dataset_make(alice, account)
    few = count()
    for i in range(4):
        more = sandbox_account_make(alice, name=f"More {i}")
        dataset_make(alice, more, name=f"D{i}")
    assert count() == few


def test_adding_checks_the_credentials_with_twilio_first(alice, alice_client, sandbox):
    response = _add(alice_client)
    assert response.status_code == 302 and response["Location"] == URL
    account = TwilioAccount.objects.get(owner=alice)
    assert account.is_valid is True and crypto.decrypt(account.secret_encrypted) == MAIN_AUTH_TOKEN
    assert "Valid" in alice_client.get(URL).content.decode()


def test_adding_with_an_api_key_works(alice, alice_client, sandbox):
    response = _add(alice_client, auth_token="", key_sid=MAIN_API_KEY_SID,
                    key_secret=MAIN_API_KEY_SECRET)
    assert response.status_code == 302
    assert TwilioAccount.objects.get(owner=alice).key_sid == MAIN_API_KEY_SID


def test_adding_bad_credentials_shows_twilios_reason_and_saves_nothing(alice_client, sandbox):
    html = _add(alice_client, auth_token=WRONG).content.decode()
    assert "Twilio rejected the credentials (20003)" in html
    assert WRONG not in html
    assert TwilioAccount.objects.count() == 0


def test_adding_explains_malformed_input_next_to_the_field(alice_client, sandbox):
    html = _add(alice_client, account_sid="AC12", auth_token="short").content.decode()
    assert "32 hexadecimal characters" in html and "32 letters and digits" in html
    assert TwilioAccount.objects.count() == 0


def test_adding_refuses_a_duplicate_name(alice_client, account):
    html = _add(alice_client, name=account.name).content.decode()
    assert "already have an account named" in html
    assert TwilioAccount.objects.count() == 1


def test_edit_never_shows_the_token_and_empty_keeps_it(alice_client, account):
    html = alice_client.get(f"{URL}{account.pk}/edit/").content.decode()
    assert MAIN_AUTH_TOKEN not in html
    assert 'name="secret"' in html and 'name="secret" value' not in html
    response = alice_client.post(f"{URL}{account.pk}/edit/",
                                 {"name": "Renamed", "secret": "", "region": "sandbox"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Renamed"
    assert crypto.decrypt(account.secret_encrypted) == MAIN_AUTH_TOKEN


def test_edit_checks_a_new_token_before_replacing_the_old_one(alice_client, account):
    html = alice_client.post(f"{URL}{account.pk}/edit/",
                             {"name": "Sandbox", "secret": WRONG, "region": "sandbox"}
                             ).content.decode()
    assert "Twilio rejected the credentials" in html and WRONG not in html
    account.refresh_from_db()
    assert crypto.decrypt(account.secret_encrypted) == MAIN_AUTH_TOKEN


def test_edit_replaces_the_token_when_twilio_accepts_it(alice, alice_client, sandbox):
    account = sandbox_account_make(alice, token=WRONG)
    response = alice_client.post(f"{URL}{account.pk}/edit/",
                                 {"name": "Sandbox", "secret": MAIN_AUTH_TOKEN,
                                  "region": "sandbox"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert crypto.decrypt(account.secret_encrypted) == MAIN_AUTH_TOKEN and account.is_valid


def test_test_connection_records_and_reports_the_result(alice, alice_client, sandbox):
    good = sandbox_account_make(alice, name="Good")
    bad = sandbox_account_make(alice, name="Bad", token=WRONG)
    alice_client.post(f"{URL}{good.pk}/test/")
    response = alice_client.post(f"{URL}{bad.pk}/test/", follow=True)
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.is_valid is True and bad.is_valid is False
    html = response.content.decode()
    assert "Invalid" in html and "Twilio rejected the credentials" in html


def test_test_connection_is_post_only(alice_client, account):
    assert alice_client.get(f"{URL}{account.pk}/test/").status_code == 405


def test_delete_lists_the_datasets_that_stop_updating_and_keeps_them(
    alice, alice_client, account
):
    dataset = dataset_make(alice, account, name="Keep me")
    html = alice_client.get(f"{URL}{account.pk}/delete/").content.decode()
    assert "stop updating" in html and "Keep me" in html
    response = alice_client.post(f"{URL}{account.pk}/delete/", follow=True)
    assert not TwilioAccount.objects.exists()
    dataset = DataSet.objects.get(pk=dataset.pk)
    assert dataset.account is None and dataset_needs_attention(dataset, None)
    assert "Keep me" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "edit/"), ("post", "edit/"), ("post", "test/"), ("get", "delete/"),
     ("post", "delete/")],
)
def test_an_outsider_gets_404_on_every_account_url(bob_client, account, method, path):
    response = getattr(bob_client, method)(f"{URL}{account.pk}/{path}")
    assert response.status_code == 404
    assert TwilioAccount.objects.filter(pk=account.pk, name="Sandbox").exists()


def test_an_outsider_does_not_see_the_account_in_the_list(bob_client, account):
    html = bob_client.get(URL).content.decode()
    assert account.masked_sid not in html and "Add your first Twilio account" in html


def test_no_accounts_page_contains_a_token(alice_client, account):
    for path in ("", "add/", f"{account.pk}/edit/", f"{account.pk}/delete/"):
        assert MAIN_AUTH_TOKEN not in alice_client.get(f"{URL}{path}").content.decode()
    response = _add(alice_client, name="Second", auth_token=MAIN_AUTH_TOKEN, account_sid="AC12")
    assert MAIN_AUTH_TOKEN not in response.content.decode()


def test_it_sets_the_requests_in_flight_an_account_shares(alice_client, alice_account):
    url = reverse("account-edit", args=[alice_account.pk])
    page = alice_client.get(url).content.decode()
    assert "Requests in flight" in page and 'value="10"' in page
    response = alice_client.post(url, {"name": alice_account.name, "secret": "",
                                       "region": alice_account.region, "max_in_flight": "4"})
    assert response.status_code == 302
    alice_account.refresh_from_db()
    assert alice_account.max_in_flight == 4
    refused = alice_client.post(url, {"name": alice_account.name, "secret": "",
                                      "region": alice_account.region, "max_in_flight": "0"})
    assert refused.status_code == 200
    alice_account.refresh_from_db()
    assert alice_account.max_in_flight == 4
