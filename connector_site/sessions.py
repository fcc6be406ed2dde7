"""Sessions in the database, refusing malformed session keys before any query.

A session cookie is anyone's input. Django's own check only wants 8 characters, so a
cookie such as "America/New_York\\x00" reached the database, where PostgreSQL refuses NUL
bytes in text and every page became a 500. Django's keys are 32 lower-case letters and
digits; anything else is simply no session.
"""

from __future__ import annotations

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

_KEY = re.compile(r"^[a-z0-9]{8,64}$")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key) and bool(_KEY.match(key))
