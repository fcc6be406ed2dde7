"""Staged slices of a pull, so an interrupted pull resumes instead of starting again.

Each finished slice's rows go to an Arrow IPC file of the DataSet's staging folder and are
recorded in its manifest together with what they cover (twilio_reports.coverage). The next
attempt of the same request (same report, filters, window, zone and account) reuses them and
asks Twilio only for the rest. Nothing here is visible to readers: the version is written
from the staged files in one Delta commit, then the folder is removed. Folders of attempts
that never came back are reclaimed by `staging_reclaim` (run with the stale-run reaper).

Staging is on the worker's local disk (DATASET_STAGING_DIR, default var/staging): a retry
that lands on another machine starts from the beginning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from twilio_reports.coverage import Coverage, add

if TYPE_CHECKING:  # pyarrow loads with a pull, not with the services that clean staging up
    import pyarrow as pa
    import pyarrow.ipc as ipc

    from twilio_reports.plan import PullRequest
    from twilio_reports.service import SliceDone, SliceEvent

MANIFEST = "manifest.json"


def staging_root() -> Path:
    return Path(settings.DATASET_STAGING_DIR)


def fingerprint(request: PullRequest, account_sid: str) -> str:
    """Same request, same account: the staged slices still answer it."""
    fields = {**asdict(request), "window": [str(d) for d in request.window or ()],
              "account": account_sid}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


class Staging:
    def __init__(self, dataset_id: int, key: str, schema: pa.Schema) -> None:
        self.folder = staging_root() / str(dataset_id)
        self.schema = schema
        self.key = key
        self.slices: list[dict[str, Any]] = []
        self.covered: Coverage = {}
        self._open: dict[int, tuple[Path, ipc.RecordBatchStreamWriter, Any, int]] = {}
        self._load()

    # --- what an earlier attempt left -------------------------------------------------------
    def _load(self) -> None:
        manifest = self._read_manifest()
        if manifest.get("key") != self.key:
            shutil.rmtree(self.folder, ignore_errors=True)  # another request: start afresh
            manifest = {"key": self.key, "slices": []}
        self.folder.mkdir(parents=True, exist_ok=True)
        self.slices = list(manifest["slices"])
        named = {s["file"] for s in self.slices}
        for path in self.folder.iterdir():  # half-written files of a killed attempt
            if path.name != MANIFEST and path.name not in named:
                path.unlink(missing_ok=True)
        for s in self.slices:
            add(self.covered, s["account"], _ranges(s["covered"]))
        self._write_manifest()

    def _read_manifest(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / MANIFEST).read_text())
        except (OSError, ValueError):
            return {}

    def _write_manifest(self) -> None:
        tmp = self.folder / f".{MANIFEST}.{uuid.uuid4().hex}"
        tmp.write_text(json.dumps({"key": self.key, "slices": self.slices}))
        os.replace(tmp, self.folder / MANIFEST)  # atomic: a kill never leaves half a manifest

    @property
    def staged_rows(self) -> int:
        return sum(s["rows"] for s in self.slices)

    # --- this attempt -----------------------------------------------------------------------
    def absorb(self, events: Iterator[SliceEvent]) -> None:
        """Stage every slice of `events`; a slice counts once its SliceDone arrived."""
        from twilio_reports.fetch import SliceDone, SliceRows

        try:
            for event in events:
                if isinstance(event, SliceRows):
                    self._write(event.slice, event.batch)
                elif isinstance(event, SliceDone):
                    self._finish(event)
        finally:
            for path, writer, sink, _rows in self._open.values():
                with contextlib.suppress(Exception):
                    writer.close()
                    sink.close()
                path.unlink(missing_ok=True)
            self._open.clear()

    def _write(self, uid: int, batch: pa.RecordBatch) -> None:
        import pyarrow as pa
        import pyarrow.ipc as ipc

        if uid not in self._open:
            path = self.folder / f"{uuid.uuid4().hex}.arrows.part"
            sink = pa.OSFile(str(path), "wb")
            self._open[uid] = (path, ipc.new_stream(sink, self.schema), sink, 0)
        path, writer, sink, rows = self._open[uid]
        writer.write_batch(batch)
        self._open[uid] = (path, writer, sink, rows + batch.num_rows)

    def _finish(self, done: SliceDone) -> None:
        entry = self._open.pop(done.slice, None)
        name = ""
        rows = 0
        if entry is not None:
            path, writer, sink, rows = entry
            writer.close()
            sink.close()
            name = path.name.removesuffix(".part")
            os.replace(path, self.folder / name)
        covered = done.covered if isinstance(done.covered, str) else [list(r) for r in done.covered]
        self.slices.append({"file": name, "account": done.account, "covered": covered,
                            "rows": rows})
        add(self.covered, done.account, _ranges(covered))
        self._write_manifest()

    def batches(self) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.ipc as ipc

        for s in self.slices:
            if not s["file"]:
                continue
            with pa.OSFile(str(self.folder / s["file"]), "rb") as source:
                yield from ipc.open_stream(source)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _ranges(covered: Any) -> Any:
    return covered if isinstance(covered, str) else tuple(tuple(r) for r in covered)


def staging_reclaim(*, older_than_seconds: float = 2 * 86_400,
                    keep: set[int] | None = None) -> int:
    """Remove staging folders untouched for `older_than_seconds`, except DataSets in
    `keep` (their runs are active). Returns how many went."""
    root = staging_root()
    if not root.exists():
        return 0
    removed = 0
    cutoff = time.time() - older_than_seconds
    for folder in root.iterdir():
        if not folder.is_dir() or (keep and folder.name.isdigit() and int(folder.name) in keep):
            continue
        manifest = folder / MANIFEST
        touched = manifest.stat().st_mtime if manifest.exists() else folder.stat().st_mtime
        if touched < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def staging_remove(dataset_id: int) -> None:
    shutil.rmtree(staging_root() / str(dataset_id), ignore_errors=True)
