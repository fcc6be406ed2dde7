"""datacenter.tables on object storage: a real round trip against a local S3 (moto server).

The server listens on 127.0.0.1 only; credentials are dummies moto accepts. It runs in a child
process: some deltalake calls (DeltaTable.is_deltatable) hold the GIL while waiting on the
network, so a moto server thread in this process could never answer them (deadlock).
"""

from __future__ import annotations

import csv
import io
import itertools
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pyarrow as pa
import pytest

from datacenter import services, tables
from datacenter.tables import _store
from datacenter.tests.test_tables import SCHEMA, as_tuples, batches, content, rows

BUCKET = "datasets-test"
_ids = itertools.count(1)
_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the test process closes our stdin (or dies)
server.stop()
"""


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    port = int(proc.stdout.readline())
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[str]:
    """Point the product at the local bucket; yields the endpoint."""
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings.DATASET_STORAGE_URI = f"s3://{BUCKET}/datasets"
    settings.DATASET_STORAGE_OPTIONS = None
    yield s3_endpoint


def bucket_keys(endpoint: str, prefix: str) -> set[str]:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


def new_uri() -> str:
    return tables.table_uri(next(_ids))


def data_files(endpoint: str, uri: str) -> set[str]:
    prefix = uri.removeprefix(f"s3://{BUCKET}/") + "/"
    return {k for k in bucket_keys(endpoint, prefix) if k.endswith(".parquet")}


def test_it_builds_an_s3_uri_with_http_options(s3: str) -> None:
    uri = new_uri()
    assert uri.startswith(f"s3://{BUCKET}/datasets/dataset-")
    opts = _store.storage_options(uri)
    assert opts is not None
    assert opts["AWS_ENDPOINT_URL"] == s3 and opts["AWS_ALLOW_HTTP"] == "true"


def test_it_replaces_appends_and_merges_version_after_version_on_s3(s3: str) -> None:
    uri = new_uri()
    r0 = tables.write_version(uri, batches(rows(0, 5)), SCHEMA, mode="replace")
    assert (r0.delta_version, r0.rows, r0.added_rows) == (0, 5, 5) and r0.bytes > 0
    assert content(uri, 0) == as_tuples(rows(0, 5))
    r1 = tables.write_version(uri, batches(rows(5, 8)), SCHEMA, mode="append")
    assert (r1.delta_version, r1.rows, r1.added_rows) == (1, 8, 3)
    assert content(uri, 1) == as_tuples(rows(0, 8))
    r2 = tables.write_version(
        uri, batches(rows(6, 10, 100)), SCHEMA, mode="merge", merge_key=("sid",)
    )
    assert (r2.delta_version, r2.rows, r2.added_rows, r2.updated_rows) == (2, 10, 2, 2)
    assert sorted(content(uri, 2)) == sorted(as_tuples(rows(0, 6)) + as_tuples(rows(6, 10, 100)))
    r3 = tables.write_version(uri, batches(rows(20, 22)), SCHEMA, mode="replace")
    assert (r3.delta_version, r3.rows) == (3, 2)
    assert content(uri, 3) == as_tuples(rows(20, 22))
    assert content(uri, 0) == as_tuples(rows(0, 5))
    assert content(uri, 1) == as_tuples(rows(0, 8))
    assert tables.latest_version(uri) == 3
    assert len(data_files(s3, uri)) >= 4  # the files really are in the bucket


def test_it_reads_pages_describes_and_exports_csv_from_s3(s3: str) -> None:
    uri = new_uri()
    tables.write_version(uri, batches(rows(0, 12)), SCHEMA, mode="replace")
    page = tables.read_page(uri, 0, offset=2, limit=3, sort="n", descending=True)
    assert page.total == 12 and [r[1] for r in page.rows] == [9, 8, 7]
    hits = tables.read_page(uri, 0, offset=0, limit=10, search="CA0011")
    assert hits.total == 1 and hits.rows == as_tuples(rows(11, 12))
    stats = {s.name: s for s in tables.describe(uri, 0)}
    assert (stats["n"].min, stats["n"].max, stats["n"].distinct, stats["n"].nulls) == (0, 11, 12, 0)
    assert stats["sid"].distinct == 12
    stats_keys = bucket_keys(s3, uri.removeprefix(f"s3://{BUCKET}/") + "/_stats/")
    assert stats_keys == {uri.removeprefix(f"s3://{BUCKET}/") + "/_stats/v0000000000.json"}
    assert tables.describe(uri, 0) == list(stats.values())  # and read back from there
    text = b"".join(tables.iter_csv(uri, 0, chunk_rows=5)).decode()
    header, *lines = csv.reader(io.StringIO(text))
    assert header == SCHEMA.names
    assert [line[:2] for line in lines] == [[r["sid"], str(r["n"])] for r in rows(0, 12)]


def test_it_restores_v2_of_4_as_v5_on_s3(s3: str) -> None:
    uri = new_uri()
    for i in range(5):  # v0..v4
        tables.write_version(uri, batches(rows(i * 10, i * 10 + 3 + i)), SCHEMA, mode="replace")
    res = tables.restore(uri, 2)
    assert (res.delta_version, res.rows) == (5, 5)
    assert content(uri, 5) == content(uri, 2) == as_tuples(rows(20, 25))


def test_it_reclaims_on_s3_and_keeps_kept_versions_readable(s3: str) -> None:
    uri = new_uri()
    tables.write_version(uri, batches(rows(0, 3)), SCHEMA, mode="replace")  # v0
    for i in range(1, 5):
        tables.write_version(uri, batches(rows(i * 10, i * 10 + 2)), SCHEMA, mode="replace")
    tables.write_version(uri, batches(rows(90, 92)), SCHEMA, mode="append")  # v5 shares v4's
    kept = {v: content(uri, v) for v in (1, 4, 5)}
    before = data_files(s3, uri)
    deleted = tables.reclaim(uri, [1], keep_last=2)
    assert len(deleted) == 3  # the files of v0, v2 and v3
    assert len(data_files(s3, uri)) == len(before) - 3
    for v, expected in kept.items():
        assert content(uri, v) == expected
    for v in (0, 2, 3):
        with pytest.raises(tables.VersionUnavailable, match="reclaimed"):
            tables.read_page(uri, v, offset=0, limit=1)


def test_it_commits_nothing_on_s3_when_the_generator_fails_midway(s3: str) -> None:
    uri = new_uri()
    tables.write_version(uri, batches(rows(0, 4)), SCHEMA, mode="replace")
    files = data_files(s3, uri)

    def failing() -> Iterator[pa.RecordBatch]:
        yield from batches(rows(10, 16), size=3)
        raise ConnectionError("network went away")

    for mode in ("replace", "append", "merge"):
        with pytest.raises(ConnectionError):
            tables.write_version(uri, failing(), SCHEMA, mode=mode, merge_key=("sid",))
        assert tables.latest_version(uri) == 0
        assert content(uri, 0) == as_tuples(rows(0, 4))
        assert data_files(s3, uri) == files  # staged objects were deleted


def test_it_deletes_the_table_prefix_from_the_bucket_with_the_dataset(
    make_dataset, s3: str, django_capture_on_commit_callbacks
) -> None:
    dataset = make_dataset(rows=3)
    uri = tables.table_uri(dataset.pk)
    assert uri.startswith(f"s3://{BUCKET}/")
    tables.describe(uri, 0)  # leaves a _stats object too
    neighbour = f"{uri}0"  # dataset-<pk>0 shares the key prefix without the slash
    tables.write_version(neighbour, batches(rows(0, 2)), SCHEMA, mode="replace")
    prefix = uri.removeprefix(f"s3://{BUCKET}/")
    assert any("_delta_log" in k for k in bucket_keys(s3, prefix + "/"))
    with django_capture_on_commit_callbacks(execute=True):
        services.dataset_delete(dataset=dataset)
    assert bucket_keys(s3, prefix + "/") == set()
    assert content(neighbour, 0) == as_tuples(rows(0, 2))
