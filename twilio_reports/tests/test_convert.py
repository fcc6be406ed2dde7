import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from twilio_reports.client import BrokenBody
from twilio_reports.convert import RFC2822, _twilio_dates, page_to_batch, rows_to_batch
from twilio_reports.definitions import REPORTS

CALL = {
    "sid": "CA" + "1" * 32, "date_created": "Tue, 31 Aug 2010 20:36:28 +0000",
    "date_updated": "Tue, 31 Aug 2010 20:36:29 +0000", "parent_call_sid": None,
    "account_sid": "AC" + "a" * 32, "to": "+14155551212", "to_formatted": "(415) 555-1212",
    "from": "+14158675309", "from_formatted": "(415) 867-5309", "phone_number_sid": "",
    "status": "completed", "start_time": "Wed, 01 Sep 2010 01:36:28 +0200",
    "end_time": "Tue, 31 Aug 2010 23:37:29 +0000", "duration": "61", "price": "-0.03000",
    "price_unit": "USD", "direction": "outbound-api", "answered_by": None,
    "api_version": "2010-04-01", "forwarded_from": "", "group_sid": None, "caller_name": "",
    "queue_time": "0", "trunk_sid": None, "uri": "/2010-04-01/Accounts/AC/Calls/CA.json",
    "subresource_uris": {"notifications": "/x"},
}


def test_it_types_a_call():
    batch = rows_to_batch([CALL, {**CALL, "price": "", "duration": None, "start_time": ""}],
                          REPORTS["calls"])
    assert batch.schema == REPORTS["calls"].arrow_schema()
    first, second = batch.to_pylist()
    assert first["date_created"] == datetime(2010, 8, 31, 20, 36, 28, tzinfo=UTC)
    assert first["start_time"] == datetime(2010, 8, 31, 23, 36, 28, tzinfo=UTC)
    assert first["duration"] == 61 and first["queue_time"] == 0
    assert first["price"] == Decimal("-0.030000")
    assert first["phone_number_sid"] is None and first["caller_name"] is None
    assert "subresource_uris" not in first
    assert second["price"] is None and second["duration"] is None
    assert second["start_time"] is None


def test_it_reads_iso_timestamps_of_alerts():
    alert = {"sid": "NO" + "1" * 32, "account_sid": "AC" + "a" * 32,
             "date_generated": "2026-03-01T10:00:00Z", "date_created": "2026-03-01T10:00:01.5Z",
             "date_updated": "2026-03-01T12:00:00+02:00", "error_code": "11200",
             "log_level": "error", "links": {"x": "y"}}
    row = rows_to_batch([alert], REPORTS["alerts"]).to_pylist()[0]
    assert row["date_generated"] == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert row["date_created"] == datetime(2026, 3, 1, 10, 0, 1, 500000, tzinfo=UTC)
    assert row["date_updated"] == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert row["error_code"] == "11200"


def test_it_types_usage_records():
    rec = {"account_sid": "AC" + "a" * 32, "category": "calls", "count": "12",
           "count_unit": "calls", "start_date": "2026-03-01", "end_date": "2026-03-01",
           "price": 1.23456789, "price_unit": "usd", "usage": "3.5", "usage_unit": "minutes",
           "as_of": "2026-03-02T00:00:00+00:00", "subresource_uris": {}}
    row = rows_to_batch([rec, {**rec, "price": None, "count": "", "usage": "0"}],
                        REPORTS["usage-records"]).to_pylist()
    assert row[0]["start_date"] == date(2026, 3, 1)
    assert row[0]["price"] == Decimal("1.234568")
    assert row[0]["count"] == 12 and row[0]["usage"] == 3.5
    assert row[1]["price"] is None and row[1]["count"] is None and row[1]["usage"] == 0.0


def test_it_tolerates_mixed_json_types():
    msg = {"sid": "SM1", "error_code": 30003, "num_segments": "2", "price": "-0.0075"}
    other = {"sid": "SM2", "error_code": "30005", "num_segments": 1, "price": -0.0075}
    rows = rows_to_batch([msg, other, {"sid": "SM3"}], REPORTS["messages"]).to_pylist()
    assert [r["error_code"] for r in rows] == [30003, 30005, None]
    assert [r["num_segments"] for r in rows] == [2, 1, None]
    assert rows[1]["price"] == Decimal("-0.007500")


def test_it_drops_the_auth_token_of_accounts():
    acct = {"sid": "AC" + "a" * 32, "auth_token": "secret-token", "friendly_name": "Main",
            "status": "active", "type": "Full", "date_created": "Thu, 01 Jan 2026 00:00:00 +0000",
            "subresource_uris": {"calls": "/x"}}
    batch = rows_to_batch([acct], REPORTS["accounts"])
    assert "auth_token" not in batch.schema.names
    assert "secret-token" not in str(batch.to_pylist())


def test_it_handles_an_empty_page():
    batch = rows_to_batch([], REPORTS["conferences"])
    assert batch.num_rows == 0 and batch.schema == REPORTS["conferences"].arrow_schema()


def test_it_converts_many_rows_column_at_a_time():
    # Its speed is a benchmark figure (bench/scenarios/units.py), not a timed test.
    rows = [{**CALL, "sid": f"CA{i:032x}", "duration": str(i % 500)} for i in range(50_000)]
    batch = rows_to_batch(rows, REPORTS["calls"])
    assert batch.num_rows == 50_000
    assert pa.compute.sum(batch.column("duration")).as_py() == sum(i % 500 for i in range(50_000))


def _page(rows, **envelope) -> pa.Buffer:
    return pa.py_buffer(json.dumps({"calls": rows, "end": 1, **envelope}).encode())


def test_it_parses_a_page_straight_into_the_same_batch():
    rows = [CALL, {**CALL, "sid": "CA2", "price": "", "duration": None, "start_time": " "}]
    page = page_to_batch(_page(rows, next_page_uri="/next?Page=1"), REPORTS["calls"])
    assert page.batch.equals(rows_to_batch(rows, REPORTS["calls"]))
    assert page.next_link == "/next?Page=1"
    alerts = pa.py_buffer(json.dumps({"alerts": [], "meta": {"next_page_url": "https://m/x",
                                                             "key": "alerts"}}).encode())
    assert page_to_batch(alerts, REPORTS["alerts"]).next_link == "https://m/x"
    assert page_to_batch(_page(None), REPORTS["calls"]).batch.num_rows == 0


def test_it_falls_back_for_pages_arrow_cannot_read_as_strings():
    rows = [{**CALL, "duration": 61, "caller_name": {"nested": True}}, CALL]  # number, map
    page = page_to_batch(_page(rows), REPORTS["calls"])
    assert page.batch.equals(rows_to_batch(rows, REPORTS["calls"]))
    assert page.batch.column("duration").to_pylist() == [61, 61]


def test_it_calls_every_truncated_page_broken():
    body = _page([CALL, CALL], next_page_uri="/n").to_pybytes()
    for cut in range(len(body)):
        with pytest.raises(BrokenBody):
            page_to_batch(pa.py_buffer(body[:cut]), REPORTS["calls"])


def test_it_reads_twilio_dates_by_slicing_exactly_as_strptime_does():
    # The fast path (convert._twilio_dates) against Arrow's strptime on the same cells.
    start = datetime(2010, 1, 1, tzinfo=UTC)
    moments = [start + (i * 7_919_993) * (datetime(2010, 1, 1, 0, 0, 1) - datetime(2010, 1, 1))
               for i in range(2_000)]
    text = pa.array([m.strftime("%a, %d %b %Y %H:%M:%S +0000") for m in moments] + [None])
    fast = _twilio_dates(text)
    slow = pa.compute.strptime(text, format=RFC2822, unit="us").cast(fast.type)
    assert fast.equals(slow) and fast.null_count == 1


@pytest.mark.parametrize("cell", [
    "Tue, 31 Feb 2010 20:36:28 +0000",  # no such day
    "Tue, 31 Foo 2010 20:36:28 +0000",  # no such month
    "Tue, 31 Aug 2010 20:36:28 +0200",  # another offset
    "2010-08-31T20:36:28Z",  # ISO 8601 (the monitor API)
])
def test_it_leaves_other_date_shapes_to_the_general_parser(cell):
    assert _twilio_dates(pa.array([cell])) is None
