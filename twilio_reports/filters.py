"""The Details pane's filters: one definition per field, its validation and its wire name.

Which fields a report shows is `REPORTS[slug].fields` (definitions.py); what each field
is, accepts and sends to Twilio is here, so the form, the planner and the CLI agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from twilio_reports.categories import USAGE_CATEGORIES
from twilio_reports.definitions import DEFAULT_GRANULARITY, GRANULARITIES, REPORTS

FilterKind = Literal["text", "phone", "choice", "category", "account_name", "granularity"]


@dataclass(frozen=True)
class FilterDef:
    """One form field of the Details pane."""

    name: str
    label: str
    kind: FilterKind
    # Wire name per report slug (the query parameter Twilio expects); absent = not sent as-is.
    wire: dict[str, str] = field(default_factory=dict)
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""


_CALL_STATUSES = (
    "queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled",
)
CONFERENCE_STATUSES: tuple[str, ...] = ("init", "in-progress", "completed")


def _same(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((v, v) for v in values)


FILTERS: dict[str, FilterDef] = {
    f.name: f
    for f in (
        FilterDef(
            name="account_name",
            label="Account Name",
            kind="account_name",
            # Accounts filters by name on Twilio's side; other reports resolve it to a SID.
            wire={"accounts": "FriendlyName"},
            help="The friendly name of one (sub)account. Leave empty to pull every account "
            "these credentials can see.",
        ),
        FilterDef(
            name="account_status",
            label="Status",
            kind="choice",
            wire={"accounts": "Status"},
            choices=_same(("active", "suspended", "closed")),
            help="Only accounts with this status.",
        ),
        FilterDef(
            name="to_number",
            label="To Number",
            kind="phone",
            wire={"calls": "To", "messages": "To"},
            help="E.164 number (+14155552671) or a client:/sip: identifier.",
        ),
        FilterDef(
            name="from_number",
            label="From Number",
            kind="phone",
            wire={"calls": "From", "messages": "From"},
            help="E.164 number (+14155552671) or a client:/sip: identifier.",
        ),
        FilterDef(
            name="call_status",
            label="Status",
            kind="choice",
            wire={"calls": "Status"},
            choices=_same(_CALL_STATUSES),
            help="Only calls with this status.",
        ),
        FilterDef(
            name="conference_status",
            label="Status",
            kind="choice",
            wire={"conferences": "Status"},
            choices=_same(CONFERENCE_STATUSES),
            help="Only conferences with this status. Empty asks for every status.",
        ),
        FilterDef(
            name="log",
            label="Log",
            kind="choice",
            wire={"notifications": "Log"},
            choices=(("0", "Error"), ("1", "Warning")),
            help="Only notifications from this log.",
        ),
        FilterDef(
            name="log_level",
            label="Log Level",
            kind="choice",
            wire={"alerts": "LogLevel"},
            choices=_same(("error", "warning", "notice", "debug")),
            help="Only alerts of this level.",
        ),
        FilterDef(
            name="category",
            label="Category",
            kind="category",
            wire={"usage-records": "Category"},
            choices=_same(USAGE_CATEGORIES),
            help="A usage category such as calls, sms or totalprice. Empty returns every category.",
        ),
        FilterDef(
            name="granularity",
            label="Granularity",
            kind="granularity",
            choices=tuple((g.slug, g.label) for g in GRANULARITIES.values()),
            help="Which usage records list to read.",
        ),
    )
}

_PHONE = re.compile(r"^\+[0-9]{8,15}$")
_IDENTIFIER = re.compile(r"^(client|sip):\S+$")
_CATEGORY = re.compile(r"^[a-z0-9-]+$")


def _validate_one(fdef: FilterDef, report: str, value: str) -> str | None:
    """Return an error message for `value`, or None when it is acceptable."""
    if fdef.kind == "phone":
        compact = re.sub(r"[\s().-]", "", value)
        if _PHONE.match(compact) or _IDENTIFIER.match(value):
            return None
        return "Enter a number in E.164 form (+ and 8 to 15 digits) or a client:/sip: identifier."
    if fdef.kind in ("choice", "granularity"):
        allowed = [c[0] for c in fdef.choices]
        if value not in allowed:
            return f"Choose one of: {', '.join(allowed)}."
        return None
    if fdef.kind == "category":
        if _CATEGORY.match(value) and len(value) <= 100:
            return None
        return "A usage category is lower-case letters, digits and dashes (e.g. calls-inbound)."
    if fdef.kind == "account_name" and len(value) > 64:
        return "An account name is at most 64 characters."
    return None


def validate_params(
    report: str, params: dict[str, object]
) -> tuple[dict[str, str], dict[str, str]]:
    """Clean the Details-pane values for `report`.

    Only the report's own fields survive: a stale value of a field that is hidden for this
    report is ignored rather than sent to Twilio. Empty values are dropped (no filter).
    """
    if report not in REPORTS:
        return {}, {"report": f"Unknown report {report!r}."}
    rdef = REPORTS[report]
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in rdef.fields:
        raw = params.get(name)
        value = "" if raw is None else str(raw).strip()
        if not value:
            continue
        fdef = FILTERS[name]
        message = _validate_one(fdef, report, value)
        if message:
            errors[name] = message
            continue
        if fdef.kind == "phone" and value.startswith("+"):
            value = re.sub(r"[\s().-]", "", value)
        clean[name] = value
    if report == "usage-records" and "granularity" not in errors:
        clean.setdefault("granularity", DEFAULT_GRANULARITY)
    return clean, errors


def wire_filters(report: str, params: dict[str, str]) -> dict[str, str]:
    """The query parameters (other than dates and paging) Twilio gets for already-clean params."""
    out: dict[str, str] = {}
    for name, value in params.items():
        fdef = FILTERS.get(name)
        if fdef and report in fdef.wire and value:
            out[fdef.wire[report]] = value
    return out
