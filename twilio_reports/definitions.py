"""The seven Twilio reports: one source of truth for hosts, filters, columns and merge keys.

Forms, validation, table schemas and the pull planner are all generated from `REPORTS` and
`FILTERS`, so adding a column or a filter happens here and nowhere else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pyarrow loads when a schema is first asked for, not with the forms
    import pyarrow as pa

ColumnType = Literal["string", "timestamp", "date", "int", "float", "decimal", "bool"]


@functools.cache
def arrow_types() -> dict[str, pa.DataType]:
    import pyarrow as pa

    return {
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
        return arrow_types()[self.type]


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
        import pyarrow as pa

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
