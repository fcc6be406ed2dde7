"""Is an Account Name (a (sub)account's friendly name) visible to these credentials?

The connector page asks this on Save, so a name the credentials cannot see is a form error
there, as in Load Preview, rather than a failed run later (twilio_reports.plan resolves the
same name the same way when it pulls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from twilio_reports.credentials import Credentials

if TYPE_CHECKING:  # the client (httpx, pyarrow) loads with the first check, not with the page
    from twilio_reports.pull_config import PullConfig

HINT_NAMES = 10  # names listed in the error, so a typo is easy to spot


@dataclass(frozen=True)
class NameCheck:
    visible: bool
    # Some names the credentials can see (when the name is not one of them).
    others: tuple[str, ...] = ()


def account_name_check(credentials: Credentials, name: str, *,
                       config: PullConfig | None = None) -> NameCheck:
    """Raises TwilioError (with `status`) when Twilio cannot be asked."""
    from twilio_reports.client import TwilioClient
    from twilio_reports.plan import _list_accounts
    from twilio_reports.pull_config import PullConfig, PullStats

    config = config or PullConfig.from_settings()
    with TwilioClient(credentials.auth, label="Account Name", config=config, stats=PullStats(),
                      budget_key=credentials.account_sid) as client:
        found = _list_accounts(client, credentials, name)
        if any((a.get("friendly_name") or "") == name for a in found):
            return NameCheck(True)
        seen = _list_accounts(client, credentials)
    names = sorted({str(a.get("friendly_name") or "") for a in seen} - {""})
    return NameCheck(False, tuple(names[:HINT_NAMES]))
