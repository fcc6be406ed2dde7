"""Encryption at rest for Twilio auth tokens and API key secrets.

MultiFernet over settings.CREDENTIAL_KEYS (newest first): new secrets use the newest key,
old ones still decrypt until `manage.py rotate_credential_keys` re-encrypts them, after which
the old key can be dropped from the environment.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

if TYPE_CHECKING:  # cryptography (~8 MB) loads with the first secret, not with every page
    from cryptography.fernet import MultiFernet


class CredentialKeyError(ImproperlyConfigured):
    pass


# What views, runs and the start-up check say when a stored secret does not decrypt.
UNDECRYPTABLE = "This account's secret cannot be decrypted with the configured CREDENTIAL_KEYS"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise CredentialKeyError(
            "CREDENTIAL_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."
        ) from exc


def fernet() -> MultiFernet:
    keys = tuple(k.strip() for k in settings.CREDENTIAL_KEYS if k.strip())
    if not keys:
        raise CredentialKeyError("CREDENTIAL_KEYS is empty.")
    return _fernet(keys)


@sensitive_variables()
def encrypt(secret: str) -> str:
    return fernet().encrypt(secret.encode()).decode()


@sensitive_variables()
def decrypt(token: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialKeyError(
            f"{UNDECRYPTABLE}: its key was removed before `manage.py rotate_credential_keys` "
            "re-encrypted it, or CREDENTIAL_KEYS is not this installation's."
        ) from exc


@sensitive_variables()
def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()
