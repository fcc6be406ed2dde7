"""Incremental merges (a window of old rows kept) and appends that skip known keys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from datacenter import tables
from datacenter.tests.test_tables import SCHEMA, T0, batches, rows


def us(moment: dt.datetime) -> int:
    return int((moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() * 1_000_000)


def sids(uri: str, version: int) -> list[str]:
    return sorted(tables.read_table(uri, version, ["sid"]).column("sid").to_pylist())


def test_it_keeps_old_rows_inside_the_window_and_replaces_the_refetched_range(
        tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 100)), SCHEMA, mode="replace", merge_key=("sid",))
    # The window now starts at minute 10; the fetch re-read minutes 80..120, where row 85 is
    # gone from Twilio, rows 80-84 changed and 100-119 are new.
    fetched = [r for r in rows(80, 120) if r["sid"] != "CA0085"]
    for r in fetched[:5]:
        r["n"] += 1000
    window = tables.Window("created", us(T0 + dt.timedelta(minutes=10)),
                           us(T0 + dt.timedelta(minutes=80)))
    result = tables.write_version(uri, batches(fetched), SCHEMA, mode="merge",
                                  merge_key=("sid",), window=window)
    expected = sorted([f"CA{i:04d}" for i in range(10, 120) if i != 85])
    assert sids(uri, result.delta_version) == expected
    assert result.added_rows == 20 and result.updated_rows == 19
    assert result.changed_rows == 5
    assert result.removed_rows == 10 + 1  # minutes 0-9 fell out, CA0085 is gone


def test_it_leaves_a_table_alone_when_nothing_falls_out(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 50)), SCHEMA, mode="replace", merge_key=("sid",))
    window = tables.Window("created", 0, us(T0 + dt.timedelta(minutes=45)))
    result = tables.write_version(uri, batches(rows(45, 50)), SCHEMA, mode="merge",
                                  merge_key=("sid",), window=window)
    assert result.removed_rows == 0 and result.changed_rows == 0
    assert sids(uri, result.delta_version) == [f"CA{i:04d}" for i in range(50)]


def test_it_appends_only_rows_whose_key_is_new_when_asked(tmp_path: Path) -> None:
    uri = str(tmp_path / "t")
    tables.write_version(uri, batches(rows(0, 10)), SCHEMA, mode="replace", merge_key=("sid",))
    result = tables.write_version(uri, batches(rows(5, 15)), SCHEMA, mode="append",
                                  merge_key=("sid",), skip_existing=True)
    assert result.skipped_rows == 5 and result.added_rows == 5
    assert sids(uri, result.delta_version) == [f"CA{i:04d}" for i in range(15)]
    plain = tables.write_version(uri, batches(rows(5, 15)), SCHEMA, mode="append",
                                 merge_key=("sid",))
    assert len(sids(uri, plain.delta_version)) == 25  # Append repeats overlapping rows
