"""Where DataSet tables live and how one immutable Delta version is opened.

Shared by write/read/export. Versions never change once committed, so what is learnt about
one (file list, row counts, parquet footers) is cached per (uri, version) in this process.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

if TYPE_CHECKING:  # deltalake (~40 MB) loads with the first table opened: a worker's pull
    from deltalake import DeltaTable  # stages its slices before any table is touched

DEFAULT_STORAGE_URI = "var/datasets"
DEFAULT_KEEP_VERSIONS = 30

# AWS variables handed to delta-rs/object_store for s3:// tables (lower-cased keys are what
# object_store expects; it also accepts the upper-case env names, we pass those verbatim).
_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ALLOW_HTTP",
    "AWS_S3_ALLOW_UNSAFE_RENAME",
    "AWS_PROFILE",
)


class VersionUnavailable(LookupError):
    """The asked version does not exist, or its files were reclaimed by retention."""


def setting(name: str, default: Any) -> Any:
    """Django setting if Django is configured, else `default` (tables work without Django)."""
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, name, default)
    except Exception:  # noqa: BLE001 - a broken/missing settings module means "no settings"
        return default
    return default


def is_remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def storage_options(uri: str) -> dict[str, str] | None:
    """Options for delta-rs; credentials come from the environment, never from the URI."""
    if not is_remote(uri):
        return None
    opts = {k: os.environ[k] for k in _AWS_ENV if os.environ.get(k)}
    if "AWS_REGION" not in opts and "AWS_DEFAULT_REGION" in opts:
        opts["AWS_REGION"] = opts["AWS_DEFAULT_REGION"]
    # One writer per DataSet at a time (the run queue guarantees it), so S3's lack of atomic
    # rename is acceptable without a DynamoDB lock.
    opts.setdefault("AWS_S3_ALLOW_UNSAFE_RENAME", "true")
    opts.update(setting("DATASET_STORAGE_OPTIONS", None) or {})
    return opts


def table_uri(dataset_id: int) -> str:
    base = str(setting("DATASET_STORAGE_URI", DEFAULT_STORAGE_URI))
    name = f"dataset-{int(dataset_id)}"
    if is_remote(base):
        return f"{base.rstrip('/')}/{name}"
    path = Path(base.removeprefix("file://"))
    if not path.is_absolute():
        path = Path(setting("BASE_DIR", Path.cwd())) / path
    return str(path.resolve() / name)


def _option(opts: dict[str, str], *names: str) -> str | None:
    """First of `names` in the delta-rs options, matched case-insensitively."""
    lowered = {k.lower(): v for k, v in opts.items()}
    return next((lowered[n.lower()] for n in names if lowered.get(n.lower())), None)


def _s3_filesystem(opts: dict[str, str]) -> pafs.S3FileSystem:
    """pyarrow's native S3 client configured like delta-rs (same keys, same endpoint)."""
    kwargs: dict[str, Any] = {
        "access_key": _option(opts, "AWS_ACCESS_KEY_ID", "access_key_id"),
        "secret_key": _option(opts, "AWS_SECRET_ACCESS_KEY", "secret_access_key"),
        "session_token": _option(opts, "AWS_SESSION_TOKEN", "session_token", "token"),
        "region": _option(opts, "AWS_REGION", "region"),
    }
    endpoint = _option(opts, "AWS_ENDPOINT_URL", "AWS_ENDPOINT", "endpoint_url", "endpoint")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        kwargs["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        kwargs["scheme"] = parts.scheme
    return pafs.S3FileSystem(**{k: v for k, v in kwargs.items() if v is not None})


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem plus the table root expressed in it."""
    if not is_remote(uri):
        return pafs.LocalFileSystem(), str(Path(uri.removeprefix("file://")).resolve())
    scheme, _, rest = uri.partition("://")
    if scheme in ("s3", "s3a"):
        return _s3_filesystem(storage_options(uri) or {}), rest.rstrip("/")
    fs, root = pafs.FileSystem.from_uri(uri)  # gs://, abfs://... with their own defaults
    return fs, root.rstrip("/")


def delta_table(uri: str, version: int | None = None) -> DeltaTable:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(uri, version=version, storage_options=storage_options(uri))
    except TableNotFoundError as exc:
        raise VersionUnavailable(f"no table at {uri}") from exc
    except Exception as exc:
        if version is not None and "version" in str(exc).lower():
            raise VersionUnavailable(f"version {version} of {uri} is not available") from exc
        raise


def table_exists(uri: str) -> bool:
    from deltalake import DeltaTable

    return DeltaTable.is_deltatable(uri, storage_options(uri))


def latest_version(uri: str) -> int | None:
    """The newest committed Delta version, or None when the table does not exist yet."""
    return delta_table(uri).version() if table_exists(uri) else None


def type_str(t: pa.DataType) -> str:
    """The Column.type vocabulary of twilio_reports (string|timestamp|date|int|...)."""
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    return str(t)


@dataclass
class Version:
    """One committed Delta version: its files in a stable order and their row counts."""

    uri: str
    version: int
    schema: pa.Schema
    fs: pafs.FileSystem
    paths: list[str]  # filesystem paths, ordered (oldest write first)
    rows: list[int]
    sizes: list[int]
    root: str = ""  # the table folder in `fs` ("" only for hand-built versions)
    _footers: dict[int, pq.FileMetaData] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total_rows(self) -> int:
        return sum(self.rows)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes)

    def footer(self, i: int) -> pq.FileMetaData:
        with self._lock:
            md = self._footers.get(i)
        if md is None:
            with self.fs.open_input_file(self.paths[i]) as f:
                md = pq.ParquetFile(f).metadata
            with self._lock:
                self._footers[i] = md
        return md

    def parquet(self, i: int, read_dictionary: list[str] | None = None) -> pq.ParquetFile:
        # Reusing the cached footer saves one read per page on remote storage.
        return pq.ParquetFile(
            self.fs.open_input_file(self.paths[i]),
            metadata=self.footer(i),
            read_dictionary=read_dictionary,
        )

    def dictionary_columns(self, i: int, names: list[str]) -> list[str]:
        """Those of `names` stored dictionary-encoded in file i (cheap to read as such)."""
        md = self.footer(i)
        if not md.num_row_groups:
            return []
        group = md.row_group(0)
        encoded = {
            group.column(c).path_in_schema
            for c in range(group.num_columns)
            if group.column(c).has_dictionary_page
        }
        return [n for n in names if n in encoded]

    def fields(self) -> list[tuple[str, str]]:
        return [(f.name, type_str(f.type)) for f in self.schema]


_CACHE_LOCK = threading.Lock()
_VERSIONS: OrderedDict[tuple[str, int], Version] = OrderedDict()
_DERIVED: OrderedDict[Hashable, Any] = OrderedDict()
_MAX_VERSIONS = 64
_MAX_DERIVED = 16  # sort permutations / search masks: ~8 MB each on 1M rows

T = TypeVar("T")


def cached(key: Hashable, build: Callable[[], T]) -> T:
    """LRU for values derived from an immutable version (sort orders, search hits)."""
    with _CACHE_LOCK:
        if key in _DERIVED:
            _DERIVED.move_to_end(key)
            return _DERIVED[key]
    value = build()
    with _CACHE_LOCK:
        _DERIVED[key] = value
        while len(_DERIVED) > _MAX_DERIVED:
            _DERIVED.popitem(last=False)
    return value


def forget(uri: str) -> None:
    """Drop cached knowledge of a table (after retention deleted files)."""
    with _CACHE_LOCK:
        for key in [k for k in _VERSIONS if k[0] == uri]:
            del _VERSIONS[key]
        for key in [k for k in _DERIVED if isinstance(k, tuple) and k and k[0] == uri]:
            del _DERIVED[key]


def arrow_table(stream: Any) -> pa.Table:
    """A deltalake (arro3) table as pyarrow, through the Arrow C stream: `pa.table(x)` would
    first ask whether `x` is a pandas DataFrame, which imports pandas (~50 MB) into a worker
    that only writes a version."""
    return pa.RecordBatchReader.from_stream(stream).read_all()


def file_list(dt: DeltaTable) -> tuple[list[str], list[int | None], list[int]]:
    """Relative paths, row counts (None when stats are missing) and sizes, ordered by path.

    Our writers name files `v<version>-<seq>-<uuid>.parquet`, so path order is write order and
    pages are stable between calls.
    """
    adds = arrow_table(dt.get_add_actions(flatten=True))
    paths = adds.column("path").to_pylist()
    rows = (
        adds.column("num_records").to_pylist()
        if "num_records" in adds.column_names
        else [None] * len(paths)
    )
    sizes = adds.column("size_bytes").to_pylist()
    order = sorted(range(len(paths)), key=lambda i: paths[i])
    return [paths[i] for i in order], [rows[i] for i in order], [sizes[i] for i in order]


def open_version(uri: str, version: int) -> Version:
    key = (uri, int(version))
    with _CACHE_LOCK:
        if key in _VERSIONS:
            _VERSIONS.move_to_end(key)
            return _VERSIONS[key]
    dt = delta_table(uri, int(version))
    fs, root = filesystem(uri)
    rel, rows, sizes = file_list(dt)
    paths = [f"{root}/{p}" if root else p for p in rel]
    if paths:
        missing = [i.path for i in fs.get_file_info(paths) if i.type == pafs.FileType.NotFound]
        if missing:
            raise VersionUnavailable(
                f"version {version} of {uri} was reclaimed by retention ({len(missing)} files gone)"
            )
    schema = pa.schema(dt.schema())
    v = Version(uri, int(version), schema, fs, paths, [], sizes, root)
    v.rows = [n if n is not None else v.footer(i).num_rows for i, n in enumerate(rows)]
    with _CACHE_LOCK:
        _VERSIONS[key] = v
        while len(_VERSIONS) > _MAX_VERSIONS:
            _VERSIONS.popitem(last=False)
    return v
