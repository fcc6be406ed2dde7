"""The Scheduling pane: Basic / Advanced tabs building a scheduler.recurrence.ScheduleSpec,
the DataSet's time zone, the update method and the retry / reminder policy.

recurrence.validate is the one judge of a schedule; this form maps its messages back onto
the inputs the user typed into.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from datacenter.models import EmptyResult, UpdateMethod
from scheduler.recurrence import (
    MIN_GAP_MINUTES,
    MONTH_NAMES,
    NTH_CHOICES,
    WEEKDAY_CODES,
    WEEKDAY_NAMES,
    SpecError,
    describe,
    next_runs,
    to_rule,
    validate,
)
from twilio_reports.dates import zone as tz_zone
from web.forms.common import RelevantFieldsForm
from web.forms.fields import checks as _checks
from web.forms.fields import integer as _int
from web.forms.fields import radios as _radios
from web.forms.fields import time_of_day as _time
from web.forms.scheduling_initial import scheduling_initial  # noqa: F401 - re-exported
from web.forms.zones import valid_zone, zone_search

BASIC_KINDS = (
    ("manual", "Manually"),
    ("hourly", "Every N hours"),
    ("minutes", "Every N minutes"),
    ("daily", "Every N days"),
    ("weekdays", "Every weekday"),
    ("weekly", "Every week"),
    ("monthly", "Every month"),
)
TABS = (("basic", "Basic Scheduling"), ("advanced", "Advanced Scheduling"))
WEEKDAY_CHOICES = tuple(zip(WEEKDAY_CODES, WEEKDAY_NAMES, strict=True))
MONTH_CHOICES = tuple((str(i), name) for i, name in enumerate(MONTH_NAMES, start=1))
MONTH_DAY_CHOICES = (*((str(d), str(d)) for d in range(1, 31)), ("-1", "Last day"))
NTH_LABELS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", -1: "Last"}
NTH_FORM_CHOICES = tuple((str(n), NTH_LABELS[n]) for n in NTH_CHOICES)
DAYS_BY = (
    ("every_day", "Every day"),
    ("month_days", "Days of the month"),
    ("weekdays", "Days of the week"),
    ("nth", "Weekdays of the month (e.g. 2nd and 4th Sunday)"),
)
START_CHOICES = (("now", "Now"), ("later", "Later"))
RETRY_CHOICES = (("always", "Always retry when an update fails"), ("never", "Do not retry"))
UNIT_WORDS = {"hourly": "hours", "minutes": "minutes", "daily": "days"}
MIN_EVERY_MINUTES = MIN_GAP_MINUTES
TIME_FORMAT = "%H:%M"
START_FORMAT = "%Y-%m-%dT%H:%M"
_TIMES_SPLIT = re.compile(r"[\s,;]+")
# Fields whose value changes which other fields the pane shows: a change re-renders the pane
# (htmx); any other edit only re-renders the schedule in words and its next runs.
REFRESHES = ("tab", "kind", "adv_days_by", "adv_repeat", "retry", "start_when", "update_method",
             "incremental")
_EMPTY_SUMMARY: dict[str, Any] = {"words": "", "next": [], "next_display": [], "errors": {}}

# Advanced-tab inputs whose spec key differs; recurrence's error keys map back through this.
ADVANCED_FIELD_FOR_KEY = {
    "months": "adv_months",
    "month_days": "adv_month_days",
    "weekdays": "adv_weekdays",
    "nth_weekdays": "adv_nth_days",
    "repeat": "adv_repeat",
    "times": "adv_times",
    "every": "adv_every",
    "unit": "adv_unit",
    "at": "adv_window_from",
    "window_from": "adv_window_from",
    "window_to": "adv_window_to",
}


def _hhmm(value: time | None) -> str | None:
    return value.strftime(TIME_FORMAT) if value is not None else None


class SchedulingForm(RelevantFieldsForm):
    tab = forms.ChoiceField(choices=TABS, initial="basic", widget=forms.RadioSelect)
    # Basic tab.
    kind = forms.ChoiceField(label="Update", choices=BASIC_KINDS, initial="daily")
    every = _int("Every", 1, 1440, initial=1)
    at = _time("At")
    window_from = _time("Active hours from (optional)")
    window_to = _time("Active hours to (excluded)")
    weekdays = _checks("On", WEEKDAY_CHOICES)
    day_of_month = forms.TypedChoiceField(
        label="On day", choices=MONTH_DAY_CHOICES, coerce=int, initial="1", required=False
    )
    # Advanced tab.
    adv_months = _checks("Months (none = every month)", MONTH_CHOICES)
    adv_days_by = _radios("Days", DAYS_BY, "every_day")
    adv_month_days = _checks("Days of the month", MONTH_DAY_CHOICES)
    adv_weekdays = _checks("Days of the week", WEEKDAY_CHOICES)
    adv_nth = _checks("Which", NTH_FORM_CHOICES)
    adv_nth_days = _checks("Weekday", WEEKDAY_CHOICES)
    adv_repeat = _radios(
        "During the day", (("times", "At specific times"), ("interval", "At an interval")), "times"
    )
    adv_times = forms.CharField(
        label="Times", required=False, max_length=300, help_text="24-hour clock, e.g. 06:00, 18:30"
    )
    adv_every = _int("Every", 1, 1440, initial=1)
    adv_unit = forms.ChoiceField(
        label="Unit", choices=(("hours", "hours"), ("minutes", "minutes")), initial="hours"
    )
    adv_window_from = _time("From (optional)")
    adv_window_to = _time("To (excluded, optional)")
    # Both tabs.
    start_when = _radios("Start schedule", START_CHOICES, "now")
    start_at = forms.CharField(
        label="Start at", required=False, max_length=20,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    tz = forms.ChoiceField(label="Time zone", choices=(), initial="UTC")
    # Narrows the Time zone menu (server-side: htmx re-renders the menu as one types).
    tz_search = forms.CharField(
        label="Search time zones", required=False, max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                      "placeholder": "e.g. Los Angeles, Berlin, Kolkata"}))
    update_method = _radios("Update method", tuple(UpdateMethod.choices), UpdateMethod.REPLACE)
    incremental = forms.BooleanField(
        label="Fetch only what is new or changed", required=False,
        help_text="The first run pulls the whole window; later runs ask Twilio only for the "
                  "days since the last run plus a lookback, and merge them by key.")
    lookback_days = _int("Lookback (days)", 0, 90, initial=3)
    append_skip_existing = forms.BooleanField(
        label="Skip rows whose key is already in the table", required=False,
        help_text="Append adds every fetched row, so overlapping windows repeat rows; this "
                  "adds only rows the table does not have yet.")
    on_empty = forms.ChoiceField(
        label="When a run returns no rows", choices=EmptyResult.choices, required=False,
        initial=EmptyResult.KEEP, widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    retry = _radios("Error handling", RETRY_CHOICES, "always")
    retry_every_minutes = _int("Retry every (minutes)", 1, 1440, initial=15)
    retry_max = _int("At most (times)", 1, 20, initial=3)
    remind_after_hours = _int("Remind me when not updated for (hours, optional)", 1, 8760)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["at"].initial = "06:00"
        self.adapt()
        for name in REFRESHES:
            self.fields[name].widget.attrs["data-refreshes"] = ""
        self.spec: dict[str, Any] = {}

    def _raw(self, name: str) -> Any:
        # Not through a BoundField: those cache their initial value, and ConnectorPage.build
        # replaces `initial` after construction (then calls adapt() again).
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        return self.initial.get(name, self.fields[name].initial)

    def adapt(self) -> None:
        """Fit the inputs to the current values: the zone menu narrowed by the search (the
        chosen zone kept), and "Every N minutes" starting at the 15-minute minimum."""
        self.fields["tz"].choices = zone_search(
            str(self._raw("tz_search") or ""), keep=str(self._raw("tz") or "") or None)
        minutes = self._raw("kind") == "minutes"
        self.fields["every"].widget.attrs["min"] = MIN_EVERY_MINUTES if minutes else 1
        # Only the other kinds' default (1) moves: a number typed for minutes stays, and is
        # judged by the schedule's validation.
        if minutes and not self.is_bound and _number(self._raw("every")) <= 1:
            self.initial["every"] = MIN_EVERY_MINUTES

    # --- what is shown -------------------------------------------------------------------
    def current(self, name: str) -> Any:
        return self[name].value()

    @property
    def is_manual(self) -> bool:
        return self.current("tab") != "advanced" and self.current("kind") == "manual"

    def relevant_fields(self) -> set[str]:
        shown = {"tab", "tz", "tz_search", "update_method", "on_empty", "retry"}
        method = self.current("update_method")
        if method == UpdateMethod.MERGE:
            shown.add("incremental")
            if self["incremental"].value() not in (None, False, "", "false", "off"):
                shown.add("lookback_days")
        elif method == UpdateMethod.APPEND:
            shown.add("append_skip_existing")
        if self.current("retry") != "never":
            shown |= {"retry_every_minutes", "retry_max"}
        if self.current("tab") == "advanced":
            shown |= {"adv_months", "adv_days_by", "adv_repeat"}
            shown |= {
                "month_days": {"adv_month_days"},
                "weekdays": {"adv_weekdays"},
                "nth": {"adv_nth", "adv_nth_days"},
            }.get(self.current("adv_days_by"), set())
            if self.current("adv_repeat") == "interval":
                shown |= {"adv_every", "adv_unit", "adv_window_from", "adv_window_to"}
            else:
                shown.add("adv_times")
        else:
            shown.add("kind")
            shown |= {
                "manual": {"remind_after_hours"},
                "hourly": {"every", "at", "window_from", "window_to"},
                "minutes": {"every", "at", "window_from", "window_to"},
                "daily": {"every", "at"},
                "weekdays": {"at"},
                "weekly": {"weekdays", "at"},
                "monthly": {"day_of_month", "at"},
            }.get(self.current("kind"), set())
        if not self.is_manual:
            shown.add("start_when")
            if self.current("start_when") == "later":
                shown.add("start_at")
        return shown

    def every_unit(self) -> str:
        return UNIT_WORDS.get(str(self.current("kind")), "")

    # --- validation ----------------------------------------------------------------------
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        shown = self.relevant_fields()
        for name in ("every", "adv_every", "retry_every_minutes", "retry_max"):
            if name in shown and data.get(name) is None and name not in self.errors:
                self.add_error(name, "Enter a number.")
        if self.errors:
            return data
        spec = self.build_spec(data, shown)
        for key, message in validate(spec).items():
            self.add_error(self._field_for(key, data), message)
        if not self.errors:
            self.spec = spec
        return data

    def _field_for(self, key: str, data: dict[str, Any]) -> str | None:
        if data.get("tab") == "advanced" and key in ADVANCED_FIELD_FOR_KEY:
            return ADVANCED_FIELD_FOR_KEY[key]
        if key in self.fields:
            return key
        return None

    def build_spec(self, data: dict[str, Any], shown: set[str]) -> dict[str, Any]:
        """The ScheduleSpec dict of the shown inputs (hidden ones never leak into it)."""
        spec: dict[str, Any] = {"tz": data["tz"]}
        if data.get("tab") == "advanced":
            spec.update(kind="advanced", months=[int(m) for m in data.get("adv_months") or []])
            days_by = data.get("adv_days_by")
            if days_by == "month_days":
                spec["month_days"] = [int(d) for d in data.get("adv_month_days") or []]
            elif days_by == "weekdays":
                spec["weekdays"] = list(data.get("adv_weekdays") or [])
            elif days_by == "nth":
                spec["nth_weekdays"] = [
                    f"{n}{day}" for day in data.get("adv_nth_days") or []
                    for n in data.get("adv_nth") or []
                ]
            # An empty choice would silently mean "every day": ask instead.
            for key, field in (("month_days", "adv_month_days"), ("weekdays", "adv_weekdays"),
                               ("nth_weekdays", "adv_nth")):
                if key in spec and not spec[key]:
                    self.add_error(field, "Choose at least one.")
            spec["repeat"] = data.get("adv_repeat") or "times"
            if spec["repeat"] == "interval":
                spec.update(
                    every=data["adv_every"],
                    unit=data.get("adv_unit") or "hours",
                    window_from=_hhmm(data.get("adv_window_from")),
                    window_to=_hhmm(data.get("adv_window_to")),
                )
            else:
                raw = (data.get("adv_times") or "").strip()
                spec["times"] = [t for t in _TIMES_SPLIT.split(raw) if t]
        else:
            kind = data.get("kind") or "manual"
            spec["kind"] = kind
            if "every" in shown:
                spec["every"] = data["every"]
            if "at" in shown:
                spec["at"] = _hhmm(data.get("at"))
            if "window_from" in shown:
                spec["window_from"] = _hhmm(data.get("window_from"))
                spec["window_to"] = _hhmm(data.get("window_to"))
            if "weekdays" in shown:
                spec["weekdays"] = list(data.get("weekdays") or [])
            if "day_of_month" in shown:
                spec["day_of_month"] = data.get("day_of_month")
        if "start_at" in shown:
            spec["start_at"] = _normalise_start(data.get("start_at") or "")
            if not spec["start_at"]:
                self.add_error("start_at", "Choose when the schedule starts.")
        return spec

    def summary(self) -> dict[str, Any]:
        """Words and next runs of the pane's current values, bound or not, with what is wrong
        in `errors` (re-rendered by the server as the user edits, through htmx)."""
        if self.is_bound:
            return schedule_summary(self.spec) if self.is_valid() else _EMPTY_SUMMARY
        data = QueryDict(mutable=True)
        for name in self.fields:
            value = self[name].value()
            if isinstance(value, list | tuple):
                data.setlist(self.add_prefix(name), [str(v) for v in value])
            elif isinstance(value, time):
                data[self.add_prefix(name)] = _hhmm(value)
            elif value is not None:
                data[self.add_prefix(name)] = str(value)
        probe = SchedulingForm(data, prefix=self.prefix)
        if probe.is_valid():
            return schedule_summary(probe.spec)
        messages = [str(m) for errors in probe.errors.values() for m in errors]
        return {**_EMPTY_SUMMARY, "errors": {"__all__": " ".join(messages)}}

    def save_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for scheduler.services.schedule_save (besides the DataSet)."""
        data = self.cleaned_data
        retry = data.get("retry") != "never"
        return {
            "spec": self.spec,
            "retry_enabled": retry,
            "retry_every_minutes": (data.get("retry_every_minutes") or 15) if retry else 15,
            "retry_max": (data.get("retry_max") or 3) if retry else 0,
            "remind_after_hours": data.get("remind_after_hours") if self.is_manual else None,
        }


def _number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _normalise_start(value: str) -> str | None:
    """`datetime-local` sends YYYY-MM-DDTHH:MM (some browsers add seconds)."""
    value = value.strip().replace(" ", "T")
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).strftime(START_FORMAT)
    except ValueError:
        return value  # recurrence.validate words the error


def schedule_summary(spec: dict[str, Any], *, count: int = 3) -> dict[str, Any]:
    """The schedule in words and its next runs, for the pane's live preview."""
    try:
        rule = to_rule(spec)
        words = describe(spec)
    except SpecError as exc:
        return {"words": "", "next": [], "next_display": [], "errors": exc.errors}
    upcoming = next_runs(rule, after=timezone.now(), count=count) if rule else []
    zone = tz_zone(valid_zone(spec.get("tz")))
    return {
        "words": words,
        "next": [moment.isoformat().replace("+00:00", "Z") for moment in upcoming],
        "next_display": [moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")
                         for moment in upcoming],
        "errors": {},
    }
