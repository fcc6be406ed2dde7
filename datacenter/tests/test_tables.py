"""datacenter.tables: versions written by replace/append/merge, restore and retention."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from datacenter import tables
from datacenter.tables import _store

SCHEMA = pa.schema(
    [
        ("sid", pa.string()),
        ("n", pa.int64()),
        ("price", pa.decimal128(18, 6)),
        ("created", pa.timestamp("us", tz="UTC")),
    ]
)
T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def rows(start: int, stop: int, n_offset: int = 0) -> list[dict]:
    return [
        {
            "sid": f"CA{i:04d}",
            "n": i + n_offset,
            "price": Decimal(f"-0.{i:04d}"),
            "created": T0 + dt.timedelta(minutes=i),
        }
        for i in range(start, stop)
    ]


def batches(data: list[dict], size: int = 3) -> Iterator[pa.RecordBatch]:
    for i in range(0, len(data), size):
        yield pa.RecordBatch.from_pylist(data[i : i + size], schema=SCHEMA)


def content(uri: str, version: int) -> list[tuple]:
    page = tables.read_page(uri, version, offset=0, limit=10_000)
    return page.rows


def as_tuples(data: list[dict]) -> list[tuple]:
    return [
        (r["sid"], r["n"], r["price"].quantize(Decimal("0.000001")), r["created"]) for r in data
    ]


def data_files(uri: str) -> set[str]:
    return {p.name for p in Path(uri).glob("*.parquet")}


def test_it_replaces_appends_and_merges_version_after_version(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    r0 = tables.write_version(uri, batches(rows(0, 5)), SCHEMA, mode="replace")
    assert (r0.delta_version, r0.rows, r0.added_rows) == (0, 5, 5)
    assert r0.bytes > 0
    r1 = tables.write_version(uri, batches(rows(5, 8)), SCHEMA, mode="append")
    assert (r1.delta_version, r1.rows, r1.added_rows) == (1, 8, 3)
    assert content(uri, 1) == as_tuples(rows(0, 8))
    # Merge: keys 6..7 updated (n + 100), 8..9 inserted.
    r2 = tables.write_version(
        uri, batches(rows(6, 10, 100)), SCHEMA, mode="merge", merge_key=("sid",)
    )
    assert (r2.delta_version, r2.rows, r2.added_rows, r2.updated_rows) == (2, 10, 2, 2)
    merged = sorted(content(uri, 2))
    assert merged == sorted(as_tuples(rows(0, 6)) + as_tuples(rows(6, 10, 100)))
    r3 = tables.write_version(uri, batches(rows(20, 22)), SCHEMA, mode="replace")
    assert (r3.delta_version, r3.rows) == (3, 2)
    assert content(uri, 3) == as_tuples(rows(20, 22))
    # Time travel: every earlier version still reads as it was written.
    assert content(uri, 0) == as_tuples(rows(0, 5))
    assert content(uri, 1) == as_tuples(rows(0, 8))


def test_it_merges_on_a_composite_key_and_keeps_the_last_duplicate(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 4)), SCHEMA, mode="merge", merge_key=("sid", "n"))
    dup = rows(1, 2, 0) + [{**rows(1, 2, 0)[0], "price": Decimal("9")}]
    res = tables.write_version(uri, batches(dup), SCHEMA, mode="merge", merge_key=("sid", "n"))
    assert (res.rows, res.updated_rows, res.added_rows) == (4, 1, 0)
    by_sid = {r[0]: r for r in content(uri, res.delta_version)}
    assert by_sid["CA0001"][2] == Decimal("9")


def test_it_appends_without_rewriting_old_files(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 6)), SCHEMA, mode="replace")
    before = {p: (Path(uri) / p).stat().st_mtime_ns for p in data_files(uri)}
    tables.write_version(uri, batches(rows(6, 9)), SCHEMA, mode="append")
    after = data_files(uri)
    assert set(before) < after
    assert all((Path(uri) / p).stat().st_mtime_ns == m for p, m in before.items())
    v1_files = {Path(p).name for p in _store.delta_table(uri, 1).file_uris()}
    assert set(before) <= v1_files


def test_it_commits_nothing_when_the_pull_fails_midway(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 4)), SCHEMA, mode="replace")
    files = data_files(uri)

    def failing() -> Iterator[pa.RecordBatch]:
        yield from batches(rows(10, 16), size=3)  # two batches
        raise ConnectionError("network went away")

    for mode in ("replace", "append", "merge"):
        with pytest.raises(ConnectionError):
            tables.write_version(uri, failing(), SCHEMA, mode=mode, merge_key=("sid",))
        assert _store.delta_table(uri).version() == 0
        assert content(uri, 0) == as_tuples(rows(0, 4))
        assert data_files(uri) == files  # staged files were cleaned up


def test_it_creates_an_empty_version_for_an_empty_replace(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    first = tables.write_version(uri, iter(()), SCHEMA, mode="replace")
    assert (first.delta_version, first.rows) == (0, 0)
    assert tables.version_schema(uri, 0) == [
        ("sid", "string"),
        ("n", "int"),
        ("price", "decimal"),
        ("created", "timestamp"),
    ]
    tables.write_version(uri, batches(rows(0, 3)), SCHEMA, mode="append")
    empty = tables.write_version(uri, iter(()), SCHEMA, mode="replace")
    assert (empty.delta_version, empty.rows) == (2, 0)
    page = tables.read_page(uri, 2, offset=0, limit=10)
    assert page.rows == [] and page.total == 0 and len(page.columns) == 4
    assert tables.read_table(uri, 2).schema.names == SCHEMA.names


def test_it_rejects_a_different_schema_and_bad_arguments(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 2)), SCHEMA, mode="replace")
    other = pa.schema([("sid", pa.string()), ("n", pa.float64())])
    with pytest.raises(ValueError, match="do not fit this DataSet's table"):
        tables.write_version(uri, iter(()), other, mode="append")
    with pytest.raises(ValueError, match="merge"):
        tables.write_version(uri, iter(()), SCHEMA, mode="merge", merge_key=("nope",))
    with pytest.raises(ValueError, match="mode"):
        tables.write_version(uri, iter(()), SCHEMA, mode="upsert")  # type: ignore[arg-type]
    assert _store.delta_table(uri).version() == 0


def test_it_restores_an_old_version_as_a_new_one(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    for i in range(5):
        tables.write_version(uri, batches(rows(i * 10, i * 10 + 3 + i)), SCHEMA, mode="replace")
    res = tables.restore(uri, 1)
    assert res.delta_version == 5
    assert res.rows == 4
    assert content(uri, 5) == content(uri, 1)
    again = tables.restore(uri, 5)  # restoring the current version still makes a new one
    assert again.delta_version == 6 and content(uri, 6) == content(uri, 1)


def test_it_reclaims_old_versions_but_keeps_time_travel_to_kept_ones(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 3)), SCHEMA, mode="replace")  # v0
    for i in range(1, 5):
        tables.write_version(uri, batches(rows(i * 10, i * 10 + 2)), SCHEMA, mode="replace")
    tables.write_version(uri, batches(rows(90, 92)), SCHEMA, mode="append")  # v5 shares v4's
    kept = {v: content(uri, v) for v in (1, 4, 5)}
    deleted = tables.reclaim(uri, [1], keep_last=2)
    assert len(deleted) == 3  # the files of v0, v2 and v3 only
    for v, expected in kept.items():
        assert content(uri, v) == expected
    for v in (0, 2, 3):
        with pytest.raises(tables.VersionUnavailable, match="reclaimed"):
            tables.read_page(uri, v, offset=0, limit=1)
    with pytest.raises(tables.VersionUnavailable):
        tables.restore(uri, 2)
    assert tables.reclaim(uri, keep_last=1) != []  # v1 and v4 go now; v5 needs v4's file
    assert content(uri, 5) == kept[5]


def test_it_reports_a_missing_version_clearly(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 1)), SCHEMA, mode="replace")
    with pytest.raises(tables.VersionUnavailable):
        tables.read_page(uri, 7, offset=0, limit=1)
    with pytest.raises(tables.VersionUnavailable):
        tables.read_page(str(tmp_path / "none"), 0, offset=0, limit=1)


def test_it_builds_table_uris_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {"DATASET_STORAGE_URI": str(tmp_path / "ds")}
    monkeypatch.setattr(_store, "setting", lambda name, default: values.get(name, default))
    assert tables.table_uri(7) == str(tmp_path / "ds" / "dataset-7")
    values["DATASET_STORAGE_URI"] = "s3://bucket/prefix/"
    assert tables.table_uri(7) == "s3://bucket/prefix/dataset-7"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    opts = _store.storage_options("s3://bucket/prefix/dataset-7")
    assert opts is not None
    assert opts["AWS_ACCESS_KEY_ID"] == "AKIA" and opts["AWS_REGION"] == "eu-west-1"
    assert _store.storage_options(str(tmp_path)) is None
