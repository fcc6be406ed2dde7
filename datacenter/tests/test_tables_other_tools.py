"""The README's lines for reading a DataSet's Delta table from other tools, run as written:
DuckDB and pandas see exactly the rows of the DataSet's current version."""

from collections import Counter

import pytest

from datacenter import tables
from datacenter.tests.base import call_rows, write_calls

pytestmark = pytest.mark.django_db

ROWS = 40


def test_it_reads_a_dataset_table_with_duckdb_as_the_readme_says(make_dataset):
    import duckdb
    from deltalake import DeltaTable

    dataset = make_dataset(rows=ROWS)
    path = tables.table_uri(dataset.pk)
    assert path.endswith(f"/dataset-{dataset.pk}")
    calls = DeltaTable(path).to_pyarrow_dataset()  # noqa: F841 - DuckDB finds it by name
    found = dict(duckdb.sql("SELECT status, count(*) AS calls FROM calls GROUP BY status")
                 .fetchall())
    assert found == Counter(row["status"] for row in call_rows(ROWS))


def test_it_reads_a_dataset_table_with_pandas_current_and_older_versions(make_dataset):
    from deltalake import DeltaTable

    dataset = make_dataset(rows=ROWS)
    first = dataset.current_version
    second = write_calls(dataset, call_rows(5, start=1000))
    path = tables.table_uri(dataset.pk)
    df = DeltaTable(path).to_pandas()
    assert sorted(df["sid"]) == sorted(r["sid"] for r in call_rows(5, start=1000))
    assert len(df) == second.rows
    old = DeltaTable(path, version=first.delta_version).to_pandas()
    assert len(old) == ROWS and set(old.columns) == {name for name, _ in first.columns}
