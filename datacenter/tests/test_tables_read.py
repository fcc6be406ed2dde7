"""datacenter.tables reads: pages, sort, search, describe and CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from datacenter import tables
from datacenter.tables import _store
from datacenter.tables import files as table_files

SCHEMA = pa.schema(
    [
        ("sid", pa.string()),
        ("name", pa.string()),
        ("duration", pa.int64()),
        ("rate", pa.float64()),
        ("price", pa.decimal128(18, 6)),
        ("created", pa.timestamp("us", tz="UTC")),
        ("day", pa.date32()),
        ("ok", pa.bool_()),
    ]
)
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
NAMES = [
    "Alice",
    "bob",
    "ALICE cooper",
    '=HYPERLINK("x")',
    "+1555",
    "-2",
    "@sum",
    "\tTab",
    "carol",
    None,
]


def make_rows(n: int) -> list[dict]:
    return [
        {
            "sid": f"CA{i:05d}",
            "name": NAMES[i % len(NAMES)],
            "duration": (i * 7) % 13 if i % 11 else None,
            "rate": i / 4,
            "price": Decimal(-i) / Decimal(1000),
            "created": T0 + dt.timedelta(seconds=i, microseconds=250 if i % 2 else 0),
            "day": dt.date(2025, 1, 1) + dt.timedelta(days=i % 5),
            "ok": i % 3 == 0,
        }
        for i in range(n)
    ]


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[dict]]:
    # Tiny files and row groups so that paging crosses file and row-group boundaries.
    monkeypatch.setattr(table_files, "FILE_ROWS", 40)
    monkeypatch.setattr(table_files, "ROW_GROUP_ROWS", 7)
    data = make_rows(150)
    uri = str(tmp_path / "t")
    batches = [
        pa.RecordBatch.from_pylist(data[i : i + 33], schema=SCHEMA) for i in range(0, len(data), 33)
    ]
    tables.write_version(uri, batches, SCHEMA, mode="replace")
    return uri, data


def as_tuple(r: dict) -> tuple:
    price = r["price"].quantize(Decimal("0.000001"))
    return (r["sid"], r["name"], r["duration"], r["rate"], price, r["created"], r["day"], r["ok"])


def test_it_pages_in_write_order_across_files(table: tuple[str, list[dict]]) -> None:
    uri, data = table
    page = tables.read_page(uri, 0, offset=35, limit=20)
    assert page.total == 150
    assert page.rows == [as_tuple(r) for r in data[35:55]]
    assert page.columns[:3] == [("sid", "string"), ("name", "string"), ("duration", "int")]
    assert tables.read_page(uri, 0, offset=145, limit=20).rows == [as_tuple(r) for r in data[145:]]
    assert tables.read_page(uri, 0, offset=500, limit=20).rows == []


@pytest.mark.parametrize("column", ["duration", "name", "price", "created", "rate"])
@pytest.mark.parametrize("descending", [False, True])
def test_it_sorts_by_any_column_with_nulls_last(
    table: tuple[str, list[dict]], column: str, descending: bool
) -> None:
    uri, data = table
    present = [r for r in data if r[column] is not None]
    # Stable: ties keep write order, in both directions.
    if descending:
        ordered = _stable_desc(present, column)
    else:
        ordered = sorted(present, key=lambda r: r[column])
    expected = [as_tuple(r) for r in ordered + [r for r in data if r[column] is None]]
    got = []
    for offset in range(0, 150, 25):
        page = tables.read_page(uri, 0, offset=offset, limit=25, sort=column, descending=descending)
        got += page.rows
    assert got == expected


def _stable_desc(rows: list[dict], column: str) -> list[dict]:
    indexed = sorted(enumerate(rows), key=lambda p: (p[1][column], -p[0]), reverse=True)
    return [r for _, r in indexed]


def test_it_rejects_sorting_by_an_unknown_column(table: tuple[str, list[dict]]) -> None:
    uri, _ = table
    with pytest.raises(ValueError, match="unknown column"):
        tables.read_page(uri, 0, offset=0, limit=5, sort="nope")


def test_it_searches_text_columns_ignoring_case(table: tuple[str, list[dict]]) -> None:
    uri, data = table
    page = tables.read_page(uri, 0, offset=0, limit=100, search="  aLiCe ")
    expected = [as_tuple(r) for r in data if r["name"] and "alice" in r["name"].lower()]
    assert page.total == len(expected) == 30
    assert page.rows == expected
    by_sid = tables.read_page(uri, 0, offset=0, limit=10, search="ca0012")
    assert [r[0] for r in by_sid.rows] == [f"CA0012{i}" for i in range(10)]
    assert by_sid.total == 10
    assert tables.read_page(uri, 0, offset=0, limit=10, search="no such thing").total == 0
    both = tables.read_page(
        uri, 0, offset=0, limit=100, search="alice", sort="sid", descending=True
    )
    assert both.rows == sorted(expected, reverse=True)


def test_it_describes_columns(table: tuple[str, list[dict]]) -> None:
    uri, data = table
    stats = {s.name: s for s in tables.describe(uri, 0)}
    durations = [r["duration"] for r in data if r["duration"] is not None]
    d = stats["duration"]
    assert (d.type, d.nulls, d.distinct) == ("int", 150 - len(durations), len(set(durations)))
    assert (d.min, d.max) == (min(durations), max(durations))
    assert d.mean == pytest.approx(sum(durations) / len(durations))
    p = stats["price"]
    assert (p.min, p.max, p.distinct) == (Decimal("-0.149"), Decimal("0"), 150)
    assert p.mean == Decimal(-sum(range(150))) / 1000 / 150
    c = stats["created"]
    assert (c.min, c.max, c.mean) == (data[0]["created"], data[-1]["created"], None)
    assert (stats["day"].min, stats["day"].distinct) == (dt.date(2025, 1, 1), 5)
    n = stats["name"]
    assert (n.type, n.nulls, n.distinct, n.min, n.mean) == ("string", 15, 9, None, None)
    assert stats["ok"].distinct == 2
    # Saved beside the table: another process gets the same stats without recomputing.
    _store.forget(uri)
    assert tables.describe(uri, 0) == list(stats.values())
    assert (Path(uri) / "_stats" / "v0000000000.json").exists()


def test_it_exports_csv_equal_to_the_rows_with_formulas_neutralised(
    table: tuple[str, list[dict]],
) -> None:
    uri, data = table
    chunks = list(tables.iter_csv(uri, 0, chunk_rows=16))
    assert len(chunks) > 5  # streamed, not built in one piece
    parsed = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert parsed[0] == SCHEMA.names
    assert len(parsed) == 151
    for row, r in zip(parsed[1:], data, strict=True):
        name = r["name"] or ""
        plain_number = re.fullmatch(r"[+-]\d+", name)
        if name[:1] in ("=", "+", "-", "@", "\t", "\r") and not plain_number:
            name = "'" + name
        created = r["created"].isoformat().replace("+00:00", "Z")
        expected = [
            r["sid"],
            name,
            "" if r["duration"] is None else str(r["duration"]),
            repr(r["rate"]) if r["rate"] % 1 else str(int(r["rate"])),
            str(r["price"].quantize(Decimal("0.000001"))),
            created,
            r["day"].isoformat(),
            "true" if r["ok"] else "false",
        ]
        assert row == expected
    # Negative prices stay plain numbers (no quote, no apostrophe).
    text = b"".join(chunks).decode()
    assert '\n"CA00001","bob",7,0.25,-0.001000,' in text
    assert ',"\'=HYPERLINK(""x"")",' in text
