"""The pull's exceptions, in a module that imports nothing heavy: forms, views and services
catch TwilioError without loading httpx or pyarrow (client.py re-exports both)."""

from __future__ import annotations


class TwilioError(Exception):
    """A failed pull, with a message a person can act on (never containing a secret)."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __str__(self) -> str:
        return self.message


class _Cancelled(Exception):
    """The consumer stopped reading (preview done, generator closed, another thread failed)."""
