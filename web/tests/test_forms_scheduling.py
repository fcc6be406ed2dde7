"""The Scheduling pane form: tabs to a ScheduleSpec, errors on the inputs, the summary."""

import pytest
from django.http import QueryDict

from scheduler.models import Schedule
from web.forms.scheduling import SchedulingForm, scheduling_initial
from web.forms.zones import valid_zone

BASE = {"tab": "basic", "kind": "daily", "every": "1", "at": "06:00", "tz": "UTC",
        "update_method": "replace", "retry": "always", "retry_every_minutes": "15",
        "retry_max": "3", "start_when": "now", "adv_days_by": "every_day",
        "adv_repeat": "times", "adv_unit": "hours", "day_of_month": "1"}


def _form(**values) -> SchedulingForm:
    data = {**BASE, **values}
    query = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            query.setlist(f"schedule-{key}", value)
        else:
            query[f"schedule-{key}"] = value
    return SchedulingForm(query, prefix="schedule")


def test_basic_daily_builds_a_small_spec():
    form = _form()
    assert form.is_valid(), form.errors
    assert form.spec == {"tz": "UTC", "kind": "daily", "every": 1, "at": "06:00"}


def test_hourly_with_active_hours():
    form = _form(kind="hourly", every="2", at="08:00", window_from="08:00", window_to="18:00")
    assert form.is_valid(), form.errors
    assert form.spec["window_to"] == "18:00"
    assert form.summary()["words"] == "Every 2 hours from 08:00 to 18:00 UTC"


def test_weekly_needs_a_day():
    form = _form(kind="weekly")
    assert not form.is_valid()
    assert "at least one day" in form.errors["weekdays"][0]


def test_errors_of_the_other_tab_are_ignored():
    form = _form(tab="advanced", adv_times="09:00", every="zero", at="25:99")
    assert form.is_valid(), form.errors
    assert form.spec == {"tz": "UTC", "kind": "advanced", "months": [], "repeat": "times",
                         "times": ["09:00"]}


def test_advanced_nth_weekdays_and_months():
    form = _form(tab="advanced", adv_days_by="nth", adv_nth=["2", "4"], adv_nth_days=["SU"],
                 adv_months=["1", "7"], adv_times="10:00")
    assert form.is_valid(), form.errors
    assert form.summary()["words"] == "On the 2nd and 4th Sunday of January and July at 10:00 UTC"


def test_advanced_interval_too_short_is_marked_on_its_input():
    form = _form(tab="advanced", adv_repeat="interval", adv_every="5", adv_unit="minutes")
    assert not form.is_valid()
    assert "15 minutes apart" in form.errors["adv_every"][0]


def test_advanced_days_by_needs_a_choice():
    form = _form(tab="advanced", adv_days_by="weekdays", adv_times="10:00")
    assert not form.is_valid() and form.errors["adv_weekdays"] == ["Choose at least one."]


def test_delayed_start_is_kept_as_local_time():
    form = _form(start_when="later", start_at="2031-02-03T04:05")
    assert form.is_valid(), form.errors
    assert form.spec["start_at"] == "2031-02-03T04:05"
    assert form.summary()["words"].endswith("starting 2031-02-03 04:05")


def test_later_needs_a_start():
    form = _form(start_when="later", start_at="")
    assert not form.is_valid() and "start_at" in form.errors


def test_manual_keeps_the_reminder_and_no_retry():
    form = _form(kind="manual", retry="never", remind_after_hours="12")
    assert form.is_valid(), form.errors
    kwargs = form.save_kwargs()
    assert kwargs["spec"] == {"tz": "UTC", "kind": "manual"}
    assert kwargs["retry_enabled"] is False and kwargs["remind_after_hours"] == 12


def test_the_summary_has_three_next_runs():
    summary = _form(tz="America/New_York").summary()
    assert summary["words"] == "Every day at 06:00 America/New_York"
    assert len(summary["next"]) == 3


def test_an_unknown_zone_is_refused_and_bad_cookies_fall_back_to_utc():
    assert "tz" in _form(tz="Mars/Olympus").errors
    assert valid_zone("../../etc/passwd") == "UTC" and valid_zone("Europe/Paris") == "Europe/Paris"


@pytest.mark.parametrize(
    "spec",
    [
        {"tz": "UTC", "kind": "weekly", "at": "05:00", "weekdays": ["MO", "FR"]},
        {"tz": "UTC", "kind": "hourly", "every": 3, "at": "01:00"},
        {"tz": "UTC", "kind": "advanced", "months": [3], "nth_weekdays": ["2SU", "-1SU"],
         "repeat": "interval", "every": 30, "unit": "minutes", "window_from": "09:00",
         "window_to": "12:00"},
        {"tz": "UTC", "kind": "advanced", "months": [], "month_days": [1, -1],
         "repeat": "times", "times": ["06:00", "18:00"], "start_at": "2030-01-01T00:00"},
    ],
)
def test_a_saved_spec_round_trips_through_the_form(spec):
    schedule = Schedule(spec=spec, retry_enabled=True, retry_every_minutes=10, retry_max=2)
    initial = scheduling_initial(schedule, time_zone="UTC", update_method="replace")
    form = SchedulingForm(prefix="schedule", initial=initial)
    query = QueryDict(mutable=True)
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list):
            query.setlist(form.add_prefix(name), [str(v) for v in value])
        elif value is not None:
            query[form.add_prefix(name)] = str(value)
    again = SchedulingForm(query, prefix="schedule")
    assert again.is_valid(), again.errors

    def canonical(values: dict) -> dict:
        return {k: sorted(map(str, v)) if isinstance(v, list) else v
                for k, v in values.items() if v not in (None, [])}

    assert canonical(again.spec) == canonical(spec)
