"""Credentials forms: SID and token shapes, API keys, the Credentials pane's two ways."""

import pytest

from datacenter import services
from datacenter.tests.factories import user_make
from web.forms.accounts import AccountAddForm, AccountEditForm, CredentialsForm

pytestmark = pytest.mark.django_db
SID = "AC" + "ab" * 16
TOKEN = "f" * 32


@pytest.fixture
def owner():
    return user_make("carol")


def test_it_accepts_a_sid_pasted_in_upper_case(owner):
    form = AccountAddForm({"name": "A", "account_sid": SID.upper(), "auth_token": TOKEN,
                           "region": "us1"}, owner=owner)
    assert form.is_valid(), form.errors
    assert form.credentials() == {"account_sid": SID, "secret": TOKEN, "key_sid": "",
                                  "region": "us1"}


def test_it_uses_the_api_key_secret_when_a_key_is_given(owner):
    key = "SK" + "1" * 32
    form = AccountAddForm({"name": "A", "account_sid": SID, "key_sid": key, "key_secret": TOKEN,
                           "region": "us1"}, owner=owner)
    assert form.is_valid(), form.errors
    assert form.credentials()["key_sid"] == key and form.credentials()["secret"] == TOKEN


def test_a_key_needs_its_secret(owner):
    form = AccountAddForm({"name": "A", "account_sid": SID, "key_sid": "SK" + "1" * 32,
                           "region": "us1"}, owner=owner)
    assert not form.is_valid() and "key_secret" in form.errors


def test_the_sandbox_region_is_offered_only_when_configured(owner, settings):
    settings.TWILIO_SANDBOX_URL = ""
    assert "sandbox" not in dict(AccountAddForm(owner=owner).fields["region"].choices)
    settings.TWILIO_SANDBOX_URL = "http://127.0.0.1:1"
    assert "sandbox" in dict(AccountAddForm(owner=owner).fields["region"].choices)


def test_the_pane_ignores_new_account_inputs_when_a_saved_account_is_chosen(owner):
    account = services.account_create(owner=owner, name="Saved", account_sid=SID, secret=TOKEN)
    form = CredentialsForm({"cred-account": account.pk, "cred-account_sid": "junk",
                            "cred-region": "us1"}, prefix="cred", owner=owner)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["account"] == account


def test_the_pane_needs_an_account_or_new_credentials(owner):
    form = CredentialsForm({"cred-account": "", "cred-region": "us1"}, prefix="cred", owner=owner)
    assert not form.is_valid()
    assert "Choose a saved account" in form.non_field_errors()[0]


def test_the_pane_never_renders_a_typed_token(owner):
    form = CredentialsForm({"cred-account_sid": SID, "cred-auth_token": TOKEN, "cred-region": "us1",
                            "cred-name": "X"}, prefix="cred", owner=owner)
    form.is_valid()
    assert TOKEN not in str(form["auth_token"])


def test_edit_keeps_the_secret_optional_and_checks_its_shape(owner):
    account = services.account_create(owner=owner, name="Saved", account_sid=SID, secret=TOKEN)
    keep = AccountEditForm({"name": "New", "secret": "", "region": "us1"}, account=account)
    assert keep.is_valid()
    form = AccountEditForm({"name": "New", "secret": "short", "region": "us1"}, account=account)
    assert not form.is_valid() and "32 letters" in form.errors["secret"][0]
    same = AccountEditForm({"name": "New", "secret": "", "region": "us1"}, account=account)
    same.is_valid()
    assert not same.needs_check
