"""A DataSet's window in words, as set and as resolved (twilio_reports.describe)."""

from datetime import date

from twilio_reports.dates import DateBlock
from twilio_reports.describe import block_in_words, request_in_words
from twilio_reports.plan import PullRequest


def test_it_words_relative_windows_as_they_were_set():
    rel = {"duration": "range", "start_mode": "relative", "end_mode": "relative"}
    assert block_in_words(DateBlock(**rel, start_days_back=20, end_days_back=10)) == (
        "20 to 10 days ago")
    assert block_in_words(DateBlock(**rel, start_days_back=7, end_days_back=0)) == (
        "7 days ago to today")
    assert block_in_words(DateBlock(duration="specific", days_back=1)) == "yesterday"
    assert block_in_words(DateBlock(duration="specific", report_date_mode="specific",
                                    report_date=date(2026, 11, 3))) == ""


def test_it_puts_the_resolved_days_and_the_zone_after_the_words():
    request = PullRequest(report="calls", params={"from_number": "+15551230001"},
                          window=(date(2026, 11, 11), date(2026, 11, 21)),
                          tz="America/Los_Angeles")
    block = DateBlock(duration="range", start_days_back=20, end_days_back=10)
    assert request_in_words(request, block) == (
        "Calls · From +15551230001 · 20 to 10 days ago (Nov 11–Nov 21, 2026) · "
        "America/Los_Angeles")
