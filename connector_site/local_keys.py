"""Secrets for the embedded default (DJANGO_DEBUG=True with no variables set).

Generated once under var/ (which git ignores) so `make run` works on a fresh machine; a
deployment sets SECRET_KEY and CREDENTIAL_KEYS in the environment instead.
"""

import os
import secrets
from pathlib import Path


def local_secret(path: Path, kind: str) -> str:
    if path.exists():
        return path.read_text().strip()
    if kind == "fernet":
        # Only when a key is made: the settings of every process read this module.
        from cryptography.fernet import Fernet

        value = Fernet.generate_key().decode()
    else:
        value = secrets.token_urlsafe(50)
    # Created with 0600 so other users on the machine cannot read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
