"""2. Memory: peak RSS of a worker's run (run_execute: the pull into staging, one Delta
version) as the pull grows (250k, 500k, 1M calls).

Each size runs in a fresh process against its own sandbox. The largest version is kept in
the work folder: Browse, Export, Pages and Charts read it. The SDK's peak for a 200k pull
comes from the Pull scenario when it ran; otherwise it is measured here."""

from __future__ import annotations

import shutil
from typing import Any

from bench.fixtures import pull_into, table_dir
from bench.harness import run_child
from bench.sandbox import sandbox


def run(config: dict[str, Any]) -> dict[str, Any]:
    sizes = [int(s) for s in config["sizes"]]
    largest = max(sizes)
    out: dict[str, Any] = {"sizes": {}}
    for rows in sorted(sizes):
        uri = table_dir(config["work"], rows)
        shutil.rmtree(uri, ignore_errors=True)
        result = pull_into(config["work"], rows, uri)
        out["sizes"][str(rows)] = result
        if rows != largest:
            shutil.rmtree(uri, ignore_errors=True)
    if config.get("sdk_rows"):
        rows = int(config["sdk_rows"])
        with sandbox(calls=2 * rows) as sb:
            out["sdk"] = run_child("bench.pullers", {
                "method": "sdk", "url": sb.url, "today": sb.today.isoformat(),
                "csv_path": str(table_dir(config["work"], rows).with_suffix(".csv"))})
    errors = [f"{k}: {v['error']}" for k, v in out["sizes"].items() if "error" in v]
    if errors:
        out["error"] = "; ".join(errors)
    return out
