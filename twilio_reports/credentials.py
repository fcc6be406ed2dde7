"""Credentials for one pull: who asks Twilio, and at which hosts.

The one place a Credentials object is defined; `datacenter` builds it from a saved account.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credentials:
    account_sid: str
    secret: str = field(repr=False)
    key_sid: str | None = None  # API key SID (SK...); `secret` is then the key's secret
    api_base: str = "https://api.twilio.com"
    monitor_base: str = "https://monitor.twilio.com"

    def __repr__(self) -> str:
        key = f", key_sid={self.key_sid!r}" if self.key_sid else ""
        return f"Credentials(account_sid={self.account_sid!r}{key}, secret='***')"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.key_sid or self.account_sid, self.secret)

    def base_for(self, host: str) -> str:
        return (self.monitor_base if host == "monitor" else self.api_base).rstrip("/")
