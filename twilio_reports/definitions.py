"""The seven Twilio reports: one source of truth for hosts, filters, columns and merge keys.

Forms, validation, table schemas and the pull planner are all generated from `REPORTS` and
`FILTERS`, so adding a column or a filter happens here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

from twilio_reports.categories import USAGE_CATEGORIES

ColumnType = Literal["string", "timestamp", "date", "int", "float", "decimal", "bool"]
FilterKind = Literal["text", "phone", "choice", "category", "account_name", "granularity"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "int": pa.int64(),
    "float": pa.float64(),
    "decimal": pa.decimal128(18, 6),
    "bool": pa.bool_(),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


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
    # Choices that differ per report (Status means different things for each report).
    choices_by_report: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def choices_for(self, report: str) -> tuple[tuple[str, str], ...]:
        return self.choices_by_report.get(report, self.choices)


@dataclass(frozen=True)
class Granularity:
    slug: str
    label: str
    path_suffix: str  # appended to /Usage/Records
    # The fixed subresources (Today, LastMonth...) define their own period: no date window.
    takes_window: bool


GRANULARITIES: dict[str, Granularity] = {
    g.slug: g
    for g in (
        Granularity("all", "All records", "", True),
        Granularity("daily", "Daily", "/Daily", True),
        Granularity("monthly", "Monthly", "/Monthly", True),
        Granularity("yearly", "Yearly", "/Yearly", True),
        Granularity("today", "Today", "/Today", False),
        Granularity("yesterday", "Yesterday", "/Yesterday", False),
        Granularity("this-month", "This month", "/ThisMonth", False),
        Granularity("last-month", "Last month", "/LastMonth", False),
        Granularity("all-time", "All time", "/AllTime", False),
    )
}
DEFAULT_GRANULARITY = "daily"


@dataclass(frozen=True)
class DateFilter:
    """How a report's date window goes on the wire and which row field it is checked against."""

    after: str  # e.g. "StartTime>" (on or after)
    before: str  # e.g. "StartTime<" (on or before)
    row_field: str  # the row's field that must fall inside the window
    # "day": YYYY-MM-DD UTC days (2010 API); "datetime": ISO 8601 instants (monitor);
    # "usage": calendar dates, rows kept when their period overlaps the window.
    style: Literal["day", "datetime", "usage"]


@dataclass(frozen=True)
class ReportDef:
    slug: str
    label: str
    host: Literal["api", "monitor"]
    # `{account_sid}` is substituted per account; usage appends the granularity suffix.
    path: str
    list_key: str
    fields: tuple[str, ...]
    date_filter: DateFilter | None
    merge_key: tuple[str, ...]
    columns: tuple[Column, ...]
    # Per-account reports are fetched once per (sub)account and carry `account_sid`.
    per_account: bool = True
    # Cap on how far back Twilio serves this report (days), and the word for the warning.
    max_age_days: int | None = None

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def path_for(self, account_sid: str, granularity: str | None = None) -> str:
        path = self.path.format(account_sid=account_sid)
        if self.slug == "usage-records":
            suffix = GRANULARITIES[granularity or DEFAULT_GRANULARITY].path_suffix
            path = path.replace("/Usage/Records.json", f"/Usage/Records{suffix}.json")
        return path

    def takes_window(self, params: dict[str, str] | None = None) -> bool:
        if self.date_filter is None:
            return False
        if self.slug == "usage-records":
            gran = (params or {}).get("granularity") or DEFAULT_GRANULARITY
            return GRANULARITIES[gran].takes_window
        return True


def _cols(spec: str) -> tuple[Column, ...]:
    """`"sid date_created:timestamp ..."` -> Columns; the order is the output's column order."""
    out = []
    for token in spec.split():
        name, _, kind = token.partition(":")
        out.append(Column(name, kind or "string"))  # type: ignore[arg-type]
    return tuple(out)


# Column order follows Twilio's OpenAPI schemas; auth_token and nested URI maps are dropped.
REPORTS: dict[str, ReportDef] = {
    r.slug: r
    for r in (
        ReportDef(
            slug="accounts",
            label="Accounts",
            host="api",
            path="/2010-04-01/Accounts.json",
            list_key="accounts",
            fields=("account_name", "account_status"),
            date_filter=None,
            merge_key=("sid",),
            columns=_cols(
                "date_created:timestamp date_updated:timestamp friendly_name owner_account_sid "
                "sid status type uri"
            ),
            per_account=False,
        ),
        ReportDef(
            slug="alerts",
            label="Alerts",
            host="monitor",
            path="/v1/Alerts",
            list_key="alerts",
            fields=("account_name", "log_level"),
            date_filter=DateFilter("StartDate", "EndDate", "date_generated", "datetime"),
            merge_key=("sid",),
            columns=_cols(
                "account_sid alert_text api_version date_created:timestamp "
                "date_generated:timestamp date_updated:timestamp error_code log_level more_info "
                "request_method request_url resource_sid sid url service_sid"
            ),
            max_age_days=30,
        ),
        ReportDef(
            slug="calls",
            label="Calls",
            host="api",
            path="/2010-04-01/Accounts/{account_sid}/Calls.json",
            list_key="calls",
            fields=("account_name", "to_number", "from_number", "call_status"),
            date_filter=DateFilter("StartTime>", "StartTime<", "start_time", "day"),
            merge_key=("sid",),
            columns=_cols(
                "sid date_created:timestamp date_updated:timestamp parent_call_sid account_sid "
                "to to_formatted from from_formatted phone_number_sid status "
                "start_time:timestamp end_time:timestamp duration:int price:decimal price_unit "
                "direction answered_by api_version forwarded_from group_sid caller_name "
                "queue_time:int trunk_sid uri"
            ),
        ),
        ReportDef(
            slug="conferences",
            label="Conferences",
            host="api",
            path="/2010-04-01/Accounts/{account_sid}/Conferences.json",
            list_key="conferences",
            fields=("account_name", "conference_status"),
            date_filter=DateFilter("DateCreated>", "DateCreated<", "date_created", "day"),
            merge_key=("sid",),
            columns=_cols(
                "account_sid date_created:timestamp date_updated:timestamp api_version "
                "friendly_name region sid status uri reason_conference_ended "
                "call_sid_ending_conference"
            ),
        ),
        ReportDef(
            slug="notifications",
            label="Notifications",
            host="api",
            path="/2010-04-01/Accounts/{account_sid}/Notifications.json",
            list_key="notifications",
            fields=("account_name", "log"),
            date_filter=DateFilter("MessageDate>", "MessageDate<", "message_date", "day"),
            merge_key=("sid",),
            columns=_cols(
                "account_sid api_version call_sid date_created:timestamp "
                "date_updated:timestamp error_code log:int message_date:timestamp message_text "
                "more_info request_method request_url sid uri"
            ),
        ),
        ReportDef(
            slug="messages",
            label="SMS Messages",
            host="api",
            path="/2010-04-01/Accounts/{account_sid}/Messages.json",
            list_key="messages",
            fields=("account_name", "to_number", "from_number"),
            date_filter=DateFilter("DateSent>", "DateSent<", "date_sent", "day"),
            merge_key=("sid",),
            columns=_cols(
                "body num_segments:int direction from to date_updated:timestamp price:decimal "
                "error_message uri account_sid num_media:int status messaging_service_sid sid "
                "date_sent:timestamp date_created:timestamp error_code:int price_unit api_version"
            ),
            max_age_days=400,
        ),
        ReportDef(
            slug="usage-records",
            label="Usage Records",
            host="api",
            path="/2010-04-01/Accounts/{account_sid}/Usage/Records.json",
            list_key="usage_records",
            fields=("account_name", "category", "granularity"),
            date_filter=DateFilter("StartDate", "EndDate", "start_date", "usage"),
            merge_key=("account_sid", "category", "start_date", "end_date"),
            columns=_cols(
                "account_sid api_version as_of category count:int count_unit description "
                "end_date:date price:decimal price_unit start_date:date uri usage:float usage_unit"
            ),
        ),
    )
}

REPORT_CHOICES: tuple[tuple[str, str], ...] = tuple((r.slug, r.label) for r in REPORTS.values())

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
        allowed = [c[0] for c in fdef.choices_for(report)]
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
