"""The 1,000,000-row Calls version shared by Browse, Export and Charts.

It is a real pull from the sandbox (not synthetic rows), made once per bench run: the
Memory scenario's largest pull leaves it in the work folder, and any scenario that finds it
missing (e.g. `--only browse`) makes it the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.harness import run_child
from bench.sandbox import sandbox


def table_dir(work: str | Path, rows: int) -> Path:
    return Path(work) / "tables" / f"calls-{rows}"


def pull_into(work: str | Path, rows: int, uri: Path, **extra: Any) -> dict[str, Any]:
    """Pull `rows` calls of the sandbox's main account into a new version at `uri`, as a
    worker's run does it (bench/worker_pull.py: run_execute, staging, one Delta version)."""
    uri.parent.mkdir(parents=True, exist_ok=True)
    with sandbox(calls=2 * rows) as sb:  # the main account holds half of the calls
        result = run_child("bench.worker_pull", {"url": sb.url, "work": str(work),
                                                 "table_uri": str(uri), **extra})
    result["launcher"] = sb.launcher
    return result


def calls_version(work: str | Path, rows: int) -> str:
    """URI of a Delta table whose version 0 holds `rows` real pulled calls."""
    uri = table_dir(work, rows)
    if not (uri / "_delta_log").exists():
        result = pull_into(work, rows, uri)
        if "error" in result:
            raise RuntimeError(f"could not build the {rows:,}-row version: {result['error']}")
    return str(uri)
