"""Does every stored Twilio secret decrypt with CREDENTIAL_KEYS? Asked at start-up.

Gunicorn (connector_site/gunicorn_conf.py), the Celery worker (connector_site/celery.py) and
`manage.py check` refuse to start when the answer is no, so a wrong or half-rotated key shows
as one plain message at start instead of 500s and failed runs later. Every secret is tried,
not a sample: after a half-done rotation the first account may decrypt while others do not.
Fernet decrypts in microseconds, so tens of thousands of accounts take well under a second.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from django.db import DatabaseError

from datacenter.crypto import CredentialKeyError, decrypt, encrypt, fernet

SHOWN_IDS = 10


def unusable_keys_problem() -> str | None:
    """None when CREDENTIAL_KEYS holds usable Fernet keys; else what is wrong with them."""
    try:
        decrypt(encrypt("probe"))
    except CredentialKeyError as exc:
        return str(exc)
    return None


def credential_keys_problem() -> str | None:
    """None when the keys are usable and decrypt every stored secret; else what is wrong."""
    return unusable_keys_problem() or undecryptable_secrets_problem()


def undecryptable_secrets_problem() -> str | None:
    from datacenter.models import TwilioAccount

    keys = fernet()
    total, failed = 0, []
    try:
        rows = TwilioAccount.objects.values_list("pk", "secret_encrypted").order_by("pk")
        for pk, token in rows.iterator(chunk_size=2000):
            total += 1
            try:
                keys.decrypt(token.encode())
            except InvalidToken:
                failed.append(pk)
    except DatabaseError:
        # No table yet (before the first migrate) or no database: nothing stored to check;
        # /status/ reports the database itself.
        return None
    if not failed:
        return None
    ids = ", ".join(str(pk) for pk in failed[:SHOWN_IDS])
    if len(failed) > SHOWN_IDS:
        ids += " …"
    return (
        f"{len(failed)} of {total} stored Twilio secrets cannot be decrypted with the configured "
        f"CREDENTIAL_KEYS (account ids {ids}). Put the key they were encrypted with back into "
        "CREDENTIAL_KEYS (after the newest), start again, then run "
        "`manage.py rotate_credential_keys` before dropping it."
    )
