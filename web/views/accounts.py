"""Accounts tab: saved Twilio accounts; add (checked with Twilio first), edit, test, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from datacenter import selectors, services
from datacenter.models import TwilioAccount
from twilio_reports.service import TwilioError
from web.forms.accounts import AccountAddForm, AccountEditForm, NewAccountMixin


def not_connected(message: str) -> str:
    """Twilio's reason, without the client's "Connect:" label, as the form's error."""
    return f"Could not connect to Twilio: {message.removeprefix('Connect: ')}"


@sensitive_variables()
def connect_new_account(form: NewAccountMixin, owner: AbstractBaseUser) -> TwilioAccount | None:
    """Check a valid new-account form's credentials with Twilio, then save the account.

    On failure Twilio's reason goes onto the form and nothing is saved. Shared by the
    Accounts tab and the connector page's Connect button.
    """
    credentials = form.credentials()
    try:
        services.credentials_check(**credentials)
    except TwilioError as exc:
        form.add_error(None, not_connected(exc.message))
        return None
    return services.account_create(
        owner=owner, name=form.cleaned_data["name"], checked_ok=True, **credentials
    )


def account_list(request: HttpRequest) -> HttpResponse:
    accounts = selectors.account_list(owner=request.user)
    return render(request, "web/accounts.html", {"accounts": accounts, "nav": "accounts"})


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def account_add(request: HttpRequest) -> HttpResponse:
    form = AccountAddForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        account = connect_new_account(form, request.user)
        if account is not None:
            messages.success(request, f"Connected to Twilio and saved “{account.name}”.")
            from web.views.connect_checks import warn_same_sid

            warn_same_sid(request, account)
            return redirect("accounts")
    return render(
        request,
        "web/accounts_form.html",
        {"form": form, "nav": "accounts", "title": "Add a Twilio account", "account": None},
    )


@sensitive_variables()
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get(owner=request.user, pk=pk)
    form = AccountEditForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if form.needs_check:
            # A new token or region is checked with Twilio before it replaces the old one.
            secret = data["secret"] or selectors.credentials_for_account(account).secret
            try:
                services.credentials_check(
                    account_sid=account.account_sid, secret=secret,
                    key_sid=account.key_sid, region=data["region"],
                )
            except TwilioError as exc:
                form.add_error(None, not_connected(exc.message))
        if not form.errors:
            services.account_update(
                account=account,
                name=data["name"],
                secret=data["secret"],
                region=data["region"],
                checked_ok=True if form.needs_check else None,
                max_in_flight=data.get("max_in_flight"),
            )
            messages.success(request, f"Saved “{account.name}”.")
            return redirect("accounts")
    return render(
        request,
        "web/accounts_form.html",
        {"form": form, "nav": "accounts", "title": f"Edit “{account.name}”", "account": account},
    )


@require_POST
def account_test(request: HttpRequest, pk: int) -> HttpResponse:
    account = services.account_test(account=selectors.account_get(owner=request.user, pk=pk))
    if account.is_valid:
        messages.success(request, f"“{account.name}”: the connection to Twilio works.")
    else:
        messages.error(request, f"“{account.name}”: Twilio refused — {account.check_message}")
    return redirect("accounts")


@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get(owner=request.user, pk=pk)
    if request.method == "POST":
        name = account.name
        affected = services.account_delete(account=account)
        if affected:
            messages.warning(
                request,
                f"Deleted “{name}”. {len(affected)} DataSet(s) stop updating until you choose "
                f"another account in their Edit page: {', '.join(d.name for d in affected)}.",
            )
        else:
            messages.success(request, f"Deleted “{name}”.")
        return redirect("accounts")
    datasets = account.datasets.order_by("name")
    return render(
        request,
        "web/accounts_delete.html",
        {"account": account, "datasets": datasets, "nav": "accounts"},
    )
