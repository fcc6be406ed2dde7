"""Checks the connector page makes on Save: the Account Name against what the credentials
can see, and an Account SID saved twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from datacenter import selectors
from datacenter.crypto import CredentialKeyError
from datacenter.models import TwilioAccount
from twilio_reports.account_names import account_name_check
from twilio_reports.service import Credentials, TwilioError

if TYPE_CHECKING:
    from web.forms.accounts import CredentialsForm
    from web.forms.dataset import ConnectorPage


@sensitive_variables()
def credentials_of(form: CredentialsForm) -> Credentials:
    """The chosen saved account's credentials, or the typed ones (a valid form)."""
    account = form.cleaned_data.get("account")
    if account is not None:
        return selectors.credentials_for_account(account)
    return selectors.credentials_build(**form.credentials())


@sensitive_variables()
def account_name_ok(page: ConnectorPage) -> bool:
    """A valid page whose Account Name Twilio knows (or that has none); otherwise the
    reason goes onto the field, in plain words, and nothing may be saved."""
    name = (page.details.params.get("filters") or {}).get("account_name")
    if not name:
        return True
    try:
        check = account_name_check(credentials_of(page.credentials), name)
    except CredentialKeyError as exc:
        page.details.add_error("account_name", str(exc))
        return False
    except TwilioError as exc:
        if exc.status == 403:
            return True  # an API key limited to its own account cannot list accounts
        page.details.add_error(
            "account_name", f"Could not check the Account Name with Twilio: {exc.message}"
        )
        return False
    if check.visible:
        return True
    seen = (f" They see: {', '.join(check.others)}." if check.others
            else " They see no named accounts.")
    page.details.add_error(
        "account_name",
        f"No Twilio account named “{name}” is visible to these credentials.{seen}",
    )
    return False


def same_sid_note(account: TwilioAccount) -> str:
    """A warning when the owner had already saved this Account SID (empty otherwise)."""
    others = list(
        TwilioAccount.objects.filter(owner=account.owner, account_sid=account.account_sid)
        .exclude(pk=account.pk).values_list("name", flat=True)[:3]
    )
    if not others:
        return ""
    names = ", ".join(f"“{n}”" for n in others)
    return (f"You had already saved Account SID {account.masked_sid} as {names}: both are kept "
            "and the Saved account menu tells them apart. Delete one under Accounts if it was "
            "a mistake.")


def warn_same_sid(request: HttpRequest, account: TwilioAccount) -> None:
    note = same_sid_note(account)
    if note:
        messages.warning(request, note)
