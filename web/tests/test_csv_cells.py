"""CSV cells equal the stored values; only cells a spreadsheet would evaluate are guarded."""

import csv
import io

import pytest
from django.urls import reverse

from datacenter.tests.base import call_rows, write_calls

pytestmark = pytest.mark.django_db

STORED_AS_IS = ("+15551230001", "client:alice", "sip:bob@example.com", "-0.0085", "+44")
EVALUATED = ('=HYPERLINK("x")', "+cmd|' /C calc'!A0", "-2+3", "+1-555", "@SUM(A1)", "\tcmd")


def _download(client, dataset) -> tuple[bytes, list[dict[str, str]]]:
    response = client.get(reverse("version-csv", args=[dataset.pk, 1]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    return body, list(csv.DictReader(io.StringIO(body.decode(), newline="")))


def test_it_exports_phone_numbers_and_identifiers_byte_for_byte(alice_client, make_dataset):
    dataset = make_dataset()
    rows = call_rows(len(STORED_AS_IS))
    for row, value in zip(rows, STORED_AS_IS, strict=True):
        row["to"] = value
    write_calls(dataset, rows)
    body, table = _download(alice_client, dataset)
    assert [line["to"] for line in table] == list(STORED_AS_IS)
    assert b'"+15551230001"' in body and b"'+1555" not in body
    assert b'"client:alice"' in body


def test_it_exports_formulas_as_text_no_spreadsheet_evaluates(alice_client, make_dataset):
    dataset = make_dataset()
    rows = call_rows(len(EVALUATED))
    for row, value in zip(rows, EVALUATED, strict=True):
        row["caller_name"] = value
    write_calls(dataset, rows)
    body, table = _download(alice_client, dataset)
    for line, value in zip(table, EVALUATED, strict=True):
        assert line["caller_name"] == "'" + value
    assert b'"\'=HYPERLINK(""x"")"' in body
    # Negative prices stay numbers.
    assert all(float(line["price"]) < 0 for line in table)
