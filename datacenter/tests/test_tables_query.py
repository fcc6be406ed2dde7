"""The Data tab's reads (datacenter.tables.read_view): newest first by a time column from a
saved order, filters by value, several sort keys; and a schema error in one sentence."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from datacenter import tables
from datacenter.tables import SortKey

SCHEMA = pa.schema([("sid", pa.string()), ("status", pa.string()), ("n", pa.int64()),
                    ("at", pa.timestamp("us", tz="UTC"))])
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _write(uri: str, count: int = 30) -> int:
    # Written in a shuffled day order, as concurrent slices land.
    order = [(i * 7) % count for i in range(count)]
    batch = pa.RecordBatch.from_pylist([
        {"sid": f"S{i:03d}", "status": ("a", "b", "c")[i % 3], "n": i % 4,
         "at": None if i == 5 else T0 + timedelta(hours=i)} for i in order], schema=SCHEMA)
    return tables.write_version(uri, iter([batch]), SCHEMA, mode="replace").delta_version


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return str(tmp_path / "dataset-1")


def test_it_lists_newest_first_from_an_order_saved_beside_the_table(uri):
    version = _write(uri)
    tables.order_prepare(uri, version, "at")
    assert list((Path(uri) / "_order").glob("v*-at.npy"))
    page = tables.read_view(uri, version, limit=30, newest_by="at")
    sids = [row[0] for row in page.rows]
    assert sids[:3] == ["S029", "S028", "S027"] and sids[-1] == "S005"  # no time: last


def test_it_filters_by_values_and_sorts_by_two_columns(uri):
    version = _write(uri)
    page = tables.read_view(uri, version, limit=30, filters=[("status", "a"), ("n", "2")])
    assert page.total == len([i for i in range(30) if i % 3 == 0 and i % 4 == 2])
    assert {(row[1], row[2]) for row in page.rows} == {("a", 2)}
    both = tables.read_view(uri, version, limit=30,
                            sort=[SortKey("status"), SortKey("n", descending=True)])
    keys = [(row[1], -row[2]) for row in both.rows]
    assert keys == sorted(keys)
    with pytest.raises(tables.FilterError, match="is not an int value"):
        tables.read_view(uri, version, filters=[("n", "many")])


def test_it_says_in_one_sentence_that_rows_do_not_fit_the_table(uri):
    _write(uri)
    other = pa.schema([("sid", pa.string())])
    with pytest.raises(ValueError) as caught:
        tables.write_version(uri, iter([pa.RecordBatch.from_pylist([{"sid": "x"}], schema=other)]),
                             other, mode="append")
    message = str(caught.value)
    assert message.startswith("The new rows do not fit this DataSet's table")
    assert message.count(".") == 1 and "schema" not in message
