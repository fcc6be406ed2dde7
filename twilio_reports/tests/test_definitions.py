import pyarrow as pa
import pytest

from twilio_reports.categories import USAGE_CATEGORIES
from twilio_reports.definitions import REPORTS
from twilio_reports.filters import FILTERS, validate_params, wire_filters


def test_it_defines_the_seven_reports():
    assert list(REPORTS) == ["accounts", "alerts", "calls", "conferences", "notifications",
                             "messages", "usage-records"]


def test_it_knows_643_usage_categories():
    assert len(USAGE_CATEGORIES) == 643 == len(set(USAGE_CATEGORIES))
    assert "totalprice" in USAGE_CATEGORIES


def test_it_builds_schemas_with_the_contract_types():
    calls = REPORTS["calls"].arrow_schema()
    assert calls.field("start_time").type == pa.timestamp("us", tz="UTC")
    assert calls.field("price").type == pa.decimal128(18, 6)
    assert calls.field("duration").type == pa.int64()
    usage = REPORTS["usage-records"].arrow_schema()
    assert usage.field("start_date").type == pa.date32()
    assert usage.field("usage").type == pa.float64()


def test_it_never_has_auth_tokens_or_uri_maps():
    for rdef in REPORTS.values():
        names = rdef.column_names
        assert "auth_token" not in names and "subresource_uris" not in names
        assert "links" not in names
        assert len(set(names)) == len(names)


def test_it_puts_account_sid_on_every_per_account_report():
    for rdef in REPORTS.values():
        if rdef.per_account:
            assert "account_sid" in rdef.column_names
        for key in rdef.merge_key:
            assert key in rdef.column_names


def test_it_uses_the_range_wire_keys():
    assert REPORTS["calls"].date_filter.after == "StartTime>"
    assert REPORTS["calls"].date_filter.before == "StartTime<"
    assert REPORTS["messages"].date_filter.after == "DateSent>"
    assert REPORTS["conferences"].date_filter.after == "DateCreated>"
    assert REPORTS["notifications"].date_filter.before == "MessageDate<"
    assert REPORTS["usage-records"].date_filter.after == "StartDate"
    assert REPORTS["alerts"].date_filter.before == "EndDate"
    assert REPORTS["accounts"].date_filter is None


def test_it_builds_usage_paths_per_granularity():
    usage = REPORTS["usage-records"]
    assert usage.path_for("AC1", "all") == "/2010-04-01/Accounts/AC1/Usage/Records.json"
    assert usage.path_for("AC1", "last-month") == (
        "/2010-04-01/Accounts/AC1/Usage/Records/LastMonth.json")
    assert usage.takes_window({"granularity": "daily"})
    assert not usage.takes_window({"granularity": "today"})


def test_it_keeps_only_the_reports_own_fields():
    clean, errors = validate_params("calls", {"to_number": "+1 (415) 555-0100",
                                              "log_level": "error", "category": "sms"})
    assert errors == {}
    assert clean == {"to_number": "+14155550100"}


@pytest.mark.parametrize("value", ["+14155550100", "+4930901820", "client:alice",
                                   "sip:bob@example.sip.twilio.com"])
def test_it_accepts_numbers_and_identifiers(value):
    assert validate_params("messages", {"from_number": value})[1] == {}


@pytest.mark.parametrize("value", ["4155550100", "+1234567", "+1234567890123456", "call me"])
def test_it_rejects_bad_numbers(value):
    _, errors = validate_params("calls", {"to_number": value})
    assert "E.164" in errors["to_number"]


def test_it_checks_choices_per_report():
    assert validate_params("calls", {"call_status": "no-answer"})[1] == {}
    assert "call_status" in validate_params("calls", {"call_status": "done"})[1]
    assert "conference_status" in validate_params("conferences",
                                                  {"conference_status": "busy"})[1]
    assert validate_params("notifications", {"log": "1"})[0] == {"log": "1"}
    assert "log_level" in validate_params("alerts", {"log_level": "fatal"})[1]


def test_it_allows_unlisted_but_plausible_categories():
    clean, errors = validate_params("usage-records", {"category": "brand-new-thing"})
    assert errors == {} and clean["category"] == "brand-new-thing"
    assert clean["granularity"] == "daily"
    assert "category" in validate_params("usage-records", {"category": "Calls; drop"})[1]


def test_it_maps_clean_params_to_wire_names():
    clean, _ = validate_params("usage-records", {"category": "calls", "granularity": "monthly",
                                                 "account_name": "Support"})
    assert wire_filters("usage-records", clean) == {"Category": "calls"}
    clean, _ = validate_params("accounts", {"account_name": "Support", "account_status": "closed"})
    assert wire_filters("accounts", clean) == {"FriendlyName": "Support", "Status": "closed"}


def test_it_labels_every_filter():
    for fdef in FILTERS.values():
        assert fdef.label and fdef.help
