"""Credentials at rest: encrypted, rotatable, never stored in plaintext."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from datacenter import crypto
from datacenter.models import TwilioAccount
from datacenter.selectors import credentials_for_account
from datacenter.services import account_create
from datacenter.tests.factories import user_make

TOKEN = "c0ffee" * 5 + "ab"

pytestmark = pytest.mark.django_db


def _account(owner) -> TwilioAccount:
    return account_create(owner=owner, name="Main", account_sid="AC" + "1" * 32, secret=TOKEN)


def test_it_never_stores_the_token_in_plaintext():
    account = _account(user_make())
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM datacenter_twilioaccount")
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored
    assert credentials_for_account(account).secret == TOKEN


def test_it_rotates_to_a_new_key_and_drops_the_old_one(settings):
    old_key = settings.CREDENTIAL_KEYS[0]
    account = _account(user_make())
    new_key = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [new_key, old_key]
    call_command("rotate_credential_keys", verbosity=0)
    settings.CREDENTIAL_KEYS = [new_key]
    account.refresh_from_db()
    assert crypto.decrypt(account.secret_encrypted) == TOKEN


def test_it_says_clearly_when_a_key_is_missing(settings):
    account = _account(user_make())
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.CredentialKeyError, match="rotate_credential_keys"):
        crypto.decrypt(account.secret_encrypted)


def test_it_rejects_a_malformed_key(settings):
    settings.CREDENTIAL_KEYS = ["not-a-key"]
    with pytest.raises(crypto.CredentialKeyError, match="not a Fernet key"):
        crypto.encrypt("x")


def test_it_keeps_the_secret_out_of_reprs():
    creds = credentials_for_account(_account(user_make()))
    assert TOKEN not in repr(creds) and TOKEN not in str(creds)
