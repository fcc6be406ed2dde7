"""Twilio credentials: the Accounts tab's add/edit forms and the Credentials pane.

Secrets are typed into PasswordInputs that never render a value back, so neither a stored
token nor a just-typed one ever appears in a page.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.validators import RegexValidator

from datacenter.models import Region, TwilioAccount
from datacenter.selectors import region_choices
from web.forms.fields import LimitedCharField

SECRET_RE = re.compile(r"^[A-Za-z0-9]{32}$")
DEFAULT_ACCOUNT_NAME = "Twilio Account"

# Field names of the new-account block, shared by the pane form and the JSON Connect endpoint.
NEW_ACCOUNT_FIELDS = ("name", "account_sid", "auth_token", "key_sid", "key_secret", "region")


class SidField(forms.CharField):
    """Twilio's SIDs are lower-case hex after the prefix; people paste them in any case."""

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return value[:2].upper() + value[2:].lower() if len(value) > 2 else value


def _article(word: str) -> str:
    """"An Account SID", "An API key SID": the article follows the sound of the first letter."""
    return "An" if word[:1].upper() in "AEIOU" else "A"


def _sid_field(prefix: str, label: str, *, required: bool) -> SidField:
    return SidField(
        label=label,
        required=required,
        max_length=40,
        strip=True,
        validators=[
            RegexValidator(
                rf"^{prefix}[0-9a-f]{{32}}$",
                f"{_article(label)} {label} is “{prefix}” followed by 32 hexadecimal characters "
                "(0-9, a-f).",
            )
        ],
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": f"{prefix}…"}
        ),
    )


def _secret_field(label: str, help_text: str = "") -> forms.CharField:
    # render_value=False: a secret never comes back in the HTML, even after an error.
    return forms.CharField(
        label=label,
        required=False,
        max_length=64,
        strip=True,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class NewAccountMixin(forms.Form):
    """Name, SID, token (or API key) and region of an account to be checked and saved."""

    name = LimitedCharField(label="Account name", max_length=100, initial=DEFAULT_ACCOUNT_NAME)
    account_sid = _sid_field("AC", "Account SID", required=True)
    auth_token = _secret_field("Auth Token", "32 characters, from the Twilio Console.")
    key_sid = _sid_field("SK", "API key SID", required=False)
    key_secret = _secret_field("API key secret")
    region = forms.ChoiceField(label="Region", choices=(), initial=Region.US1)

    def __init__(self, *args: Any, owner: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["region"].choices = region_choices()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip() or DEFAULT_ACCOUNT_NAME
        if TwilioAccount.objects.filter(owner=self.owner, name=name).exists():
            raise forms.ValidationError(
                f"You already have an account named “{name}”: choose another name or pick it "
                "from your saved accounts."
            )
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        key_sid, key_secret = data.get("key_sid", ""), data.get("key_secret", "")
        token = data.get("auth_token", "")
        if key_sid or key_secret:
            if not key_sid:
                self.add_error("key_sid", "Enter the API key SID that goes with the secret.")
            if not key_secret:
                self.add_error("key_secret", "Enter the API key's secret.")
            elif not SECRET_RE.match(key_secret):
                self.add_error("key_secret", "An API key secret is 32 letters and digits.")
        elif not token:
            self.add_error("auth_token", "Enter the Auth Token (or use an API key instead).")
        elif not SECRET_RE.match(token):
            self.add_error("auth_token", "An Auth Token is 32 letters and digits.")
        return data

    def credentials(self) -> dict[str, str]:
        """Keyword arguments for services.credentials_check / account_create."""
        data = self.cleaned_data
        key_sid = data.get("key_sid", "")
        return {
            "account_sid": data["account_sid"],
            "secret": data["key_secret"] if key_sid else data["auth_token"],
            "key_sid": key_sid,
            "region": data["region"],
        }


class AccountAddForm(NewAccountMixin):
    """Accounts tab → Add account."""


class AccountEditForm(forms.Form):
    """Rename, move region, or replace the secret. The secret input starts empty."""

    name = LimitedCharField(label="Account name", max_length=100)
    secret = _secret_field(
        "New Auth Token",
        "Leave empty to keep the current one. The saved token is never shown.",
    )
    region = forms.ChoiceField(label="Region", choices=())
    max_in_flight = forms.IntegerField(
        label="Requests in flight", min_value=1, max_value=100, required=False,
        help_text="Twilio limits concurrent requests per account. Every DataSet of this "
                  "account, in every worker, shares this many; lower it if other software "
                  "uses the account too.")

    def __init__(self, *args: Any, account: TwilioAccount, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"name": account.name, "region": account.region,
                                      "max_in_flight": account.max_in_flight})
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["region"].choices = region_choices()
        if account.key_sid:
            self.fields["secret"].label = "New API key secret"

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = TwilioAccount.objects.filter(owner=self.account.owner, name=name).exclude(
            pk=self.account.pk
        )
        if taken.exists():
            raise forms.ValidationError(f"You already have another account named “{name}”.")
        return name

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if secret and not SECRET_RE.match(secret):
            raise forms.ValidationError("A token or secret is 32 letters and digits.")
        return secret

    @property
    def needs_check(self) -> bool:
        """A new secret or region must be verified with Twilio before it is saved."""
        data = self.cleaned_data
        return bool(data.get("secret")) or data.get("region") != self.account.region


class CredentialsForm(NewAccountMixin):
    """The Credentials pane: a saved account, or the fields of a new one."""

    account = forms.ModelChoiceField(
        label="Saved account",
        queryset=TwilioAccount.objects.none(),
        required=False,
        empty_label="— Add a new account —",
    )

    field_order = ("account", *NEW_ACCOUNT_FIELDS)

    def __init__(self, *args: Any, owner: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, owner=owner, **kwargs)
        self.fields["account"].queryset = TwilioAccount.objects.filter(owner=owner)
        self.fields["account"].label_from_instance = _account_label
        # The new-account fields only matter when no saved account is chosen.
        for name in ("name", "account_sid"):
            self.fields[name].required = False

    @property
    def wants_new_account(self) -> bool:
        return not self.data.get(self.add_prefix("account")) and any(
            (self.data.get(self.add_prefix(n)) or "").strip()
            for n in ("account_sid", "auth_token", "key_sid", "key_secret")
        )

    def clean_name(self) -> str:
        if not self.wants_new_account:
            return ""
        return super().clean_name()

    def clean(self) -> dict[str, Any]:
        if self.cleaned_data.get("account") is not None:
            # A saved account is chosen: ignore whatever is left in the new-account inputs.
            for name in NEW_ACCOUNT_FIELDS:
                self.errors.pop(name, None)
            return self.cleaned_data
        if not self.wants_new_account:
            raise forms.ValidationError(
                "Choose a saved account, or enter an Account SID and Auth Token and Connect."
            )
        if not self.cleaned_data.get("account_sid") and "account_sid" not in self.errors:
            self.add_error("account_sid", "Enter the Account SID (AC followed by 32 characters).")
        return super().clean()


def _account_label(account: TwilioAccount) -> str:
    """Tells apart two accounts of one Account SID: the key (or token) and region show."""
    state = {True: "", False: " — invalid", None: ""}[account.is_valid]
    key = account.key_sid
    how = f"API key {key[:4]}…{key[-4:]}" if key else "Auth Token"
    return f"{account.name} ({account.masked_sid} · {how} · {account.region.upper()}){state}"
