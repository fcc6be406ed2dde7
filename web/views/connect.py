"""Connect Data: the Cloud App tiles and the four-pane connector page (create and edit).

The page posts to itself, and the server renders every state of it. Besides Save / Save and
New, its submit buttons are "Refresh fields" (`_refresh`), "Connect" (`_connect`), "Use the
sandbox account" (`_sandbox`) and "Load Preview" (`_preview`). Without JavaScript each one
re-renders the whole page; with it, htmx sends the same post and swaps in only the pane it
names in HX-Target, which the server then renders alone (`PANES`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from datacenter import selectors, services
from datacenter.crypto import CredentialKeyError
from datacenter.models import DataSet, Region, TwilioAccount
from datacenter.pulls import PullSetupError, pull_request_for
from scheduler.services import RunAlreadyActive, run_request, schedule_save
from twilio_reports.definitions import REPORTS
from twilio_reports.filters import FILTERS
from twilio_reports.service import TwilioError
from twilio_reports.service import preview as twilio_preview
from web.forms.accounts import CredentialsForm
from web.forms.dataset import PREFIXES, ConnectorPage, copy_initial, page_initial
from web.forms.details import CATEGORY_DATALIST_ID
from web.forms.zones import valid_zone
from web.params import whole_number
from web.views.accounts import connect_new_account, not_connected
from web.views.cells import format_row
from web.views.connect_checks import account_name_ok, credentials_of, same_sid_note, warn_same_sid

PREVIEW_ROWS = 20
SANDBOX_ACCOUNT_NAME = "Twilio Sandbox"
# `_refresh` last: an htmx button inside a pane also carries the pane's own `_refresh`.
PAGE_ACTIONS = ("_connect", "_sandbox", "_preview", "_refresh")
# HX-Target -> the template rendered alone for an htmx request aimed at that part of the page.
PANES = {
    "pane-credentials": "web/panes/credentials.html",
    "pane-details": "web/panes/details_swap.html",
    "pane-scheduling": "web/panes/scheduling.html",
    "schedule-summary": "web/panes/scheduling.html",
    "tz-menu": "web/panes/scheduling.html",
}


# --- Tiles --------------------------------------------------------------------------------------


@require_GET
def tiles(request: HttpRequest) -> HttpResponse:
    return render(request, "web/connect_tiles.html", {"nav": "connect"})


# --- The four-pane page -------------------------------------------------------------------------


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def dataset_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _post(request, dataset=None)
    source = _copy_source(request)
    if source is not None:
        initial = copy_initial(source)
    else:
        initial = page_initial(
            time_zone=_browser_zone(request), account_id=whole_number(request.GET.get("account"))
        )
    page = ConnectorPage.build(owner=request.user, initial=initial)
    if source is None and "tz" not in request.COOKIES:
        # A first visit: the browser has not told its zone yet; app.js picks it in the menu.
        page.scheduling.fields["tz"].widget.attrs["data-browser-zone"] = ""
    return _render(request, page, copy_of=source)


def _copy_source(request: HttpRequest) -> DataSet | None:
    """"Save as a new DataSet" (`?from=<pk>`): one of the user's DataSets, else none."""
    pk = whole_number(request.GET.get("from"))
    if pk is None:
        return None
    return DataSet.objects.filter(owner=request.user, pk=pk).select_related("schedule").first()


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def dataset_edit(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    if request.method == "POST":
        return _post(request, dataset=dataset)
    initial = page_initial(time_zone=dataset.time_zone, dataset=dataset)
    page = ConnectorPage.build(owner=request.user, initial=initial,
                               locked_report=_locked_report(dataset))
    return _render(request, page, dataset)


def _locked_report(dataset: DataSet | None) -> str | None:
    """A DataSet with data keeps its report (its table has that report's columns)."""
    if dataset is not None and selectors.dataset_has_versions(dataset=dataset):
        return dataset.report
    return None


def _browser_zone(request: HttpRequest) -> str:
    # app.js stores the browser's zone in the `tz` cookie; a new DataSet defaults to it.
    return valid_zone(request.COOKIES.get("tz"))


@sensitive_variables()
def _post(request: HttpRequest, *, dataset: DataSet | None) -> HttpResponse:
    data, owner = request.POST, request.user
    action = next((a for a in PAGE_ACTIONS if a in data), None)
    locked = _locked_report(dataset)
    if action == "_refresh":
        page = ConnectorPage.build(owner=owner, data=data, validate=set(), locked_report=locked)
        return _render(request, page, dataset)
    if action in ("_connect", "_sandbox"):
        return _post_connect(request, dataset, sandbox=action == "_sandbox")
    if action == "_preview":
        page = ConnectorPage.build(owner=owner, data=data, validate={"credentials", "details"},
                                   locked_report=locked)
        result = _preview_result(page) if _panes_valid(page) else {
            "ok": False, "message": "Correct the fields marked in Credentials and Details.",
        }
        return _render(request, page, dataset, preview=result)
    return _post_save(request, dataset, save_and_new="_save_new" in data)


def _panes_valid(page: ConnectorPage) -> bool:
    results = [page.credentials.is_valid(), page.details.is_valid()]
    return all(results)


def _post_connect(request: HttpRequest, dataset: DataSet | None, *, sandbox: bool) -> HttpResponse:
    """No-JavaScript Connect: check and save the account, then show the page with it chosen."""
    locked = _locked_report(dataset)
    page = ConnectorPage.build(owner=request.user, data=request.POST, validate={"credentials"},
                               locked_report=locked)
    account, form = _connect(request.POST, request.user, sandbox=sandbox)
    if account is None:
        page.credentials = form
        return _render(request, page, dataset)
    page = ConnectorPage.build(owner=request.user, data=request.POST, validate=set(),
                               locked_report=locked)
    page.credentials = CredentialsForm(
        prefix=PREFIXES["credentials"], owner=request.user, initial={"account": account.pk}
    )
    # Shown in the Credentials pane (not as a flash message: an htmx swap of the pane alone
    # would leave a flash message to pop up on the next page).
    return _render(request, page, dataset, connected=_connected_message(account))


def _post_save(
    request: HttpRequest, dataset: DataSet | None, *, save_and_new: bool
) -> HttpResponse:
    owner = request.user
    page = ConnectorPage.build(owner=owner, data=request.POST,
                               locked_report=_locked_report(dataset))
    if not page.is_valid():
        messages.error(request, "Nothing was saved: correct the fields marked below.")
        return _render(request, page, dataset)
    creds = page.credentials
    new_account = creds.cleaned_data.get("account") is None
    if new_account:
        try:
            services.credentials_check(**creds.credentials())
        except TwilioError as exc:
            creds.add_error(None, not_connected(exc.message))
            messages.error(request, "Nothing was saved: Twilio did not accept the credentials.")
            return _render(request, page, dataset)
    if not account_name_ok(page):
        messages.error(request, "Nothing was saved: correct the fields marked below.")
        return _render(request, page, dataset)
    with transaction.atomic():
        if new_account:
            account = services.account_create(
                owner=owner, name=creds.cleaned_data["name"], checked_ok=True,
                **creds.credentials(),
            )
            warn_same_sid(request, account)
        else:
            account = creds.cleaned_data["account"]
        kwargs = page.dataset_kwargs()
        if dataset is None:
            saved = services.dataset_create(owner=owner, account=account, **kwargs)
        else:
            saved = services.dataset_update(dataset=dataset, account=account, **kwargs)
        schedule_save(dataset=saved, **page.scheduling.save_kwargs())
    if not page.run_after_save:
        messages.success(request, f"Saved “{saved.name}”.")
    else:
        try:
            run_request(dataset=saved, trigger="manual")
            messages.success(request, f"Saved “{saved.name}”; it is running now.")
        except RunAlreadyActive:
            messages.success(request, f"Saved “{saved.name}”; a run is already in progress.")
    if save_and_new:
        return redirect("connect-twilio")
    return redirect("dataset", pk=saved.pk)


def _render(
    request: HttpRequest,
    page: ConnectorPage,
    dataset: DataSet | None = None,
    *,
    preview: dict[str, Any] | None = None,
    connected: str = "",
    copy_of: DataSet | None = None,
) -> HttpResponse:
    details, scheduling = page.details, page.scheduling
    report = REPORTS.get(str(details["report"].value()))
    context = {
        "nav": "connect",
        "page": page,
        "dataset": dataset,
        "is_edit": dataset is not None,
        "form_action": reverse("dataset-edit", args=[dataset.pk]) if dataset else reverse(
            "connect-twilio"
        ),
        "details_visible": details.visible(),
        "schedule_visible": scheduling.relevant_fields(),
        "category_datalist_id": CATEGORY_DATALIST_ID,
        "categories": [value for value, _ in FILTERS["category"].choices],
        "merge_key": ", ".join(report.merge_key) if report else "",
        "sandbox_available": selectors.sandbox_available(),
        "has_accounts": page.credentials.fields["account"].queryset.exists(),
        "schedule_summary": scheduling.summary(),
        "preview": preview,
        "connected": connected,
        "dataset_page_url": reverse("dataset", args=[dataset.pk]) if dataset else "",
        "age_note": _age_note(report),
        "report_locked": details.locked_report is not None,
        "copy_url": (reverse("connect-twilio") + f"?from={dataset.pk}") if dataset else "",
        "copy_of": copy_of,
    }
    pane = PANES.get(request.htmx.target or "") if request.htmx else None
    return render(request, pane or "web/dataset_form.html", context)


def _age_note(report: Any) -> str:
    if report is None or not report.max_age_days:
        return ""
    return (
        f"Twilio keeps {report.label} for {report.max_age_days} days: older days in the window "
        "are skipped, with a warning."
    )


# --- Connect ------------------------------------------------------------------------------------


@sensitive_variables()
def _connect(data: Any, owner: AbstractBaseUser, *, sandbox: bool
             ) -> tuple[TwilioAccount | None, CredentialsForm]:
    """Check the typed (or the sandbox's) credentials with Twilio and save the account."""
    form = CredentialsForm(data, prefix=PREFIXES["credentials"], owner=owner)
    if sandbox:
        return _connect_sandbox(owner, form)
    if data.get(form.add_prefix("account")):
        # A saved account is chosen: Connect re-tests it instead.
        if form.is_valid():
            account = services.account_test(account=form.cleaned_data["account"])
            if not account.is_valid:
                form.add_error(None, not_connected(account.check_message))
                return None, form
            return account, form
        return None, form
    if not form.wants_new_account:
        form.is_valid()
        return None, form
    if not form.is_valid():
        return None, form
    account = connect_new_account(form, owner)
    if account is not None:
        account.same_sid_note = same_sid_note(account)
    return account, form


def _connect_sandbox(owner: AbstractBaseUser, form: CredentialsForm
                     ) -> tuple[TwilioAccount | None, CredentialsForm]:
    """Save (or reuse) the sandbox's main account. Its token stays on the server."""
    from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

    form.is_valid()
    form.errors.clear()
    if not selectors.sandbox_available():
        form.add_error(None, "The sandbox is not configured on this installation.")
        return None, form
    existing = TwilioAccount.objects.filter(
        owner=owner, account_sid=MAIN_ACCOUNT_SID, region=Region.SANDBOX, key_sid=""
    ).first()
    if existing is not None:
        return services.account_test(account=existing), form
    try:
        services.credentials_check(
            account_sid=MAIN_ACCOUNT_SID, secret=MAIN_AUTH_TOKEN, region=Region.SANDBOX
        )
    except TwilioError as exc:
        form.add_error(None, f"The sandbox did not answer: {exc.message}")
        return None, form
    taken = set(TwilioAccount.objects.filter(owner=owner).values_list("name", flat=True))
    name = SANDBOX_ACCOUNT_NAME
    suffix = 2
    while name in taken:
        name, suffix = f"{SANDBOX_ACCOUNT_NAME} {suffix}", suffix + 1
    account = services.account_create(
        owner=owner, name=name, account_sid=MAIN_ACCOUNT_SID, secret=MAIN_AUTH_TOKEN,
        region=Region.SANDBOX, checked_ok=True,
    )
    return account, form


def _connected_message(account: TwilioAccount) -> str:
    note = getattr(account, "same_sid_note", "")
    return (f"Connected to Twilio: “{account.name}” ({account.masked_sid}) is saved and chosen."
            + (f" {note}" if note else ""))


# --- Load Preview ------------------------------------------------------------------------------


@sensitive_variables()
def _preview_result(page: ConnectorPage) -> dict[str, Any]:
    """The first rows, live from Twilio, or the reason in plain words. Nothing is saved."""
    report = page.details.cleaned_data["report"]
    draft = DataSet(report=report, params=page.details.params, time_zone=page.details.time_zone)
    try:
        request = pull_request_for(draft)
        credentials = credentials_of(page.credentials)
        table = twilio_preview(request, credentials, limit=PREVIEW_ROWS)
    except (TwilioError, PullSetupError, ValueError, CredentialKeyError) as exc:
        return {"ok": False, "message": str(exc)}
    kinds = [column.type for column in REPORTS[report].columns]
    rows = [
        [cell.text for cell in format_row(tuple(row.values()), kinds)]
        for row in table.to_pylist()
    ]
    return {
        "ok": True,
        "columns": table.column_names,
        "rows": rows,
        "count": len(rows),
        "message": "No rows in this window." if not rows else "",
    }
