"""The Details pane: the Report menu, the report's filters and the seed's date block.

Which fields exist, their labels, choices and validation all come from
twilio_reports.definitions; this form only lays them out and decides which are visible for
the current choices. When one of the fields marked `data-refreshes` changes, the page asks
the server (htmx) for the pane again: no field rule is written in JavaScript.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import Any

from django import forms

from twilio_reports.dates import DateBlock, resolve_window, today_in
from twilio_reports.definitions import DEFAULT_GRANULARITY, GRANULARITIES, REPORT_CHOICES, REPORTS
from twilio_reports.filters import FILTERS, FilterDef, validate_params
from web.forms.common import RelevantFieldsForm
from web.forms.fields import LimitedCharField

CATEGORY_DATALIST_ID = "dc-categories"
# Fields whose value changes which other fields the pane shows: a change re-renders the pane.
REFRESHES = ("report", "granularity", "duration", "report_date_mode", "start_mode", "end_mode")
DEFAULT_REPORT = "calls"
MAX_DAYS_BACK = 3650

DURATION_CHOICES = (("specific", "Specific date"), ("range", "Date range"))
MODE_CHOICES = (("specific", "Specific"), ("relative", "Relative"))
DATE_FIELDS = (
    "duration",
    "report_date_mode",
    "report_date",
    "days_back",
    "start_mode",
    "start_date",
    "start_days_back",
    "end_mode",
    "end_date",
    "end_days_back",
)
# A new DataSet starts with the last seven days up to today: something to preview at once.
DATE_INITIAL: dict[str, Any] = {
    "duration": "range",
    "report_date_mode": "relative",
    "days_back": 1,
    "start_mode": "relative",
    "start_days_back": 7,
    "end_mode": "relative",
    "end_days_back": 0,
}


def _filter_field(fdef: FilterDef) -> forms.Field:
    # Plain CharFields: validate_params is the one validator, and a Select's stale value for
    # another report must not fail Django's own choice check.
    attrs: dict[str, str] = {"data-filter": fdef.name}
    if fdef.kind in ("choice", "granularity"):
        empty = [] if fdef.kind == "granularity" else [("", "Any")]
        widget: forms.Widget = forms.Select(choices=[*empty, *fdef.choices], attrs=attrs)
    elif fdef.kind == "category":
        widget = forms.TextInput(
            attrs={**attrs, "list": CATEGORY_DATALIST_ID, "autocomplete": "off",
                   "placeholder": "e.g. calls, sms, totalprice"}
        )
    elif fdef.kind == "phone":
        widget = forms.TextInput(attrs={**attrs, "inputmode": "tel", "placeholder": "+14155552671"})
    else:
        widget = forms.TextInput(attrs=attrs)
    optional = fdef.kind in ("text", "phone", "account_name")
    return LimitedCharField(
        label=f"{fdef.label} (Optional)" if optional else fdef.label,
        required=False,
        max_length=200,
        help_text=fdef.help,
        widget=widget,
        initial=DEFAULT_GRANULARITY if fdef.kind == "granularity" else "",
    )


def _days_back(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_DAYS_BACK,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_DAYS_BACK}),
    )


def _date(label: str) -> forms.DateField:
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(label=label, required=False, widget=widget)


def _mode(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=MODE_CHOICES, initial="relative")


def takes_window(report: str, granularity: str | None) -> bool:
    rdef = REPORTS.get(report)
    if rdef is None:
        return False
    gran = granularity if granularity in GRANULARITIES else DEFAULT_GRANULARITY
    return rdef.takes_window({"granularity": gran})


def visible_fields(values: Mapping[str, Any]) -> set[str]:
    """The Details fields shown for these values: the one place this rule is written."""
    report = values.get("report") or DEFAULT_REPORT
    rdef = REPORTS.get(report)
    shown = {"report"}
    if rdef is None:
        return shown
    shown.update(rdef.fields)
    if not takes_window(report, values.get("granularity")):
        return shown
    shown.add("duration")
    if values.get("duration") == "range":
        shown.update(("start_mode", "end_mode"))
        shown.add("start_date" if values.get("start_mode") == "specific" else "start_days_back")
        shown.add("end_date" if values.get("end_mode") == "specific" else "end_days_back")
    else:
        shown.add("report_date_mode")
        shown.add("report_date" if values.get("report_date_mode") == "specific" else "days_back")
    return shown


class DetailsForm(RelevantFieldsForm):
    report = forms.ChoiceField(label="Report", choices=REPORT_CHOICES, initial=DEFAULT_REPORT,
                               widget=forms.Select(attrs={"data-report-select": ""}))

    duration = forms.ChoiceField(label="Duration", choices=DURATION_CHOICES, initial="range")
    report_date_mode = _mode("Report Date")
    report_date = _date("Select Specific Date")
    days_back = _days_back("Days Back")
    start_mode = _mode("Start Date")
    start_date = _date("Select Specific Start Date")
    start_days_back = _days_back("Days Back to Start From")
    end_mode = _mode("End Date")
    end_date = _date("Select Specific End Date")
    end_days_back = _days_back("Days Back to End At")

    def __init__(self, *args: Any, time_zone: str = "UTC", locked_report: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A DataSet with data keeps its report: its table's columns are that report's.
        self.locked_report = locked_report
        if locked_report is not None:
            self.initial["report"] = locked_report
            self.fields["report"].disabled = True
            self.fields["report"].help_text = (
                "The report is fixed once a DataSet has data: its table has this report's "
                "columns. To pull another report, save these settings as a new DataSet."
            )
        # The window is checked in the DataSet's zone (its "today"), from the Scheduling pane.
        self.time_zone = time_zone
        for name, fdef in FILTERS.items():
            self.fields[name] = _filter_field(fdef)
        for name, value in DATE_INITIAL.items():
            self.fields[name].initial = value
        for name in REFRESHES:
            self.fields[name].widget.attrs["data-refreshes"] = ""
        self.params: dict[str, Any] = {}

    # --- what is shown -------------------------------------------------------------------
    def current_values(self) -> dict[str, Any]:
        return {name: self[name].value() for name in ("report", "granularity", *DATE_FIELDS)}

    def visible(self) -> set[str]:
        return visible_fields(self.current_values())

    def relevant_fields(self) -> set[str]:
        return self.visible()

    @property
    def filter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FILTERS]

    @property
    def date_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in DATE_FIELDS]

    # --- validation ----------------------------------------------------------------------
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        report = data.get("report")
        if not report:
            return data
        raw = {name: data.get(name, "") for name in FILTERS}
        filters, errors = validate_params(report, raw)
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)
        dates = None
        if not errors and takes_window(report, filters.get("granularity")):
            dates = self._clean_dates(data)
        if not self.errors:
            self.params = {"filters": filters}
            if dates is not None:
                self.params["dates"] = dates
        return data

    def _clean_dates(self, data: dict[str, Any]) -> dict[str, Any] | None:
        shown = self.visible()
        missing = False
        for name in shown & {"report_date", "start_date", "end_date"}:
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, "Choose a date.")
                missing = True
        for name in shown & {"days_back", "start_days_back", "end_days_back"}:
            if data.get(name) is None and name not in self.errors:
                self.add_error(name, "Enter a number of days (0 is today).")
                missing = True
        if missing or any(name in self.errors for name in shown):
            return None
        # Only the shown inputs go into the block: hidden ones keep their defaults.
        block_fields = DateBlock.__dataclass_fields__
        block = DateBlock(**{name: data[name] for name in shown if name in block_fields})
        try:
            resolve_window(block, self.time_zone, today_in(self.time_zone))
        except ValueError as exc:
            target = "start_date" if "start_date" in shown else "start_days_back"
            self.add_error(target if block.duration == "range" else None, str(exc))
            return None
        return {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in dataclasses.asdict(block).items()
        }


def details_initial(params: Mapping[str, Any], report: str) -> dict[str, Any]:
    """Initial values of the pane for a saved DataSet (Edit)."""
    initial: dict[str, Any] = {"report": report, **dict(params.get("filters") or {})}
    for name, value in (params.get("dates") or {}).items():
        if name in DATE_FIELDS and value is not None:
            initial[name] = value
    return initial
