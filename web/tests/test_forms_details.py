"""The Details pane form: visibility per report, validation through the definitions."""

from datetime import date, timedelta

import pytest

from twilio_reports.definitions import REPORTS
from twilio_reports.filters import FILTERS
from web.forms.details import DetailsForm, details_initial, visible_fields


def _form(**values: str) -> DetailsForm:
    data = {"report": "calls", "duration": "range", "start_mode": "relative",
            "start_days_back": "7", "end_mode": "relative", "end_days_back": "0",
            "report_date_mode": "relative", "days_back": "1", "granularity": "daily"}
    data.update(values)
    return DetailsForm({f"details-{k}": v for k, v in data.items()}, prefix="details")


@pytest.mark.parametrize("report", list(REPORTS))
def test_it_shows_exactly_the_reports_filters(report):
    shown = visible_fields({"report": report, "duration": "range"})
    assert shown & set(FILTERS) == set(REPORTS[report].fields)


def test_it_shows_only_the_date_inputs_the_choices_need():
    assert visible_fields({"report": "calls", "duration": "specific",
                           "report_date_mode": "specific"}) >= {"report_date"}
    shown = visible_fields({"report": "calls", "duration": "range", "start_mode": "specific",
                            "end_mode": "relative"})
    assert {"start_date", "end_days_back"} <= shown
    assert not {"start_days_back", "end_date", "report_date", "days_back"} & shown


def test_accounts_have_no_date_window():
    assert "duration" not in visible_fields({"report": "accounts"})


def test_it_cleans_into_filters_and_a_date_block():
    form = _form(to_number="+1 (415) 555-0100", call_status="busy")
    assert form.is_valid(), form.errors
    assert form.params["filters"] == {"to_number": "+14155550100", "call_status": "busy"}
    assert form.params["dates"]["start_days_back"] == 7


def test_it_ignores_hidden_fields_even_when_malformed():
    form = _form(report="alerts", to_number="nope", category="NOT VALID", days_back="x",
                 start_date="garbage", log_level="warning")
    assert form.is_valid(), form.errors
    assert form.params["filters"] == {"log_level": "warning"}


def test_it_refuses_a_bad_phone_number_with_a_clear_message():
    form = _form(from_number="12345")
    assert not form.is_valid()
    assert "E.164" in form.errors["from_number"][0]


def test_it_refuses_an_unknown_choice():
    form = _form(call_status="exploded")
    assert not form.is_valid() and "Choose one of" in form.errors["call_status"][0]


def test_it_needs_the_shown_date_inputs():
    form = _form(duration="specific", report_date_mode="specific", report_date="")
    assert not form.is_valid() and form.errors["report_date"] == ["Choose a date."]


def test_it_refuses_a_start_after_the_end():
    later = (date.today() - timedelta(days=1)).isoformat()
    earlier = (date.today() - timedelta(days=9)).isoformat()
    form = _form(start_mode="specific", start_date=later, end_mode="specific", end_date=earlier)
    assert not form.is_valid()
    assert "is after the end date" in form.errors["start_date"][0]


def test_usage_fixed_periods_need_no_window():
    form = _form(report="usage-records", granularity="this-month", start_days_back="")
    assert form.is_valid(), form.errors
    assert "dates" not in form.params
    assert form.params["filters"] == {"granularity": "this-month"}


def test_category_accepts_known_and_new_names_but_not_nonsense():
    assert _form(report="usage-records", category="calls-inbound").is_valid()
    assert _form(report="usage-records", category="some-new-category").is_valid()
    assert not _form(report="usage-records", category="Calls Inbound!").is_valid()


def test_saved_params_become_initial_values():
    initial = details_initial({"filters": {"log": "1"}, "dates": {"duration": "specific",
                                                                  "days_back": 3}}, "notifications")
    assert initial == {"report": "notifications", "log": "1", "duration": "specific",
                       "days_back": 3}
