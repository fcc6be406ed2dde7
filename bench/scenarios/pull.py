"""1. Pull: our CLI vs the SDK vs the floor over the same calls, rows verified equal.

Against a sandbox of one process (what `manage.py twilio_sandbox` gives a user) and of
several (`--processes 2`), each contestant warmed once, then measured (the floor, the CLI
and the version pull twice each, the faster run counting for each alike):
- floor: bench/floor.py as a process (10 threads, day slices, httpx + orjson, rows dropped);
- cli: `manage.py twilio_report calls ... --format parquet` as a process (start included);
- sdk: the official SDK, `calls.stream(page_size=1000)` -> CSV (bench/pullers.py);
- version: pull_batches -> write_version in a child (a DataSet version; it also counts
  the requests, for the extra-requests figures).
Then, against a sandbox that reads a date-only `<=D` as the whole of D, the floor and the
version pull again: extra requests and rows under the other reading.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench import contest
from bench.harness import run_child
from bench.sandbox import LATENCY_MS, MAX_IN_FLIGHT, sandbox

MODES = (1, 2)  # sandbox processes
OTHER_READING = "whole-day"
RUNS = 2  # measured runs of the floor, the CLI and the version pull (the fastest counts)


def run(config: dict[str, Any]) -> dict[str, Any]:
    rows = int(config["rows"])
    scratch = Path(tempfile.mkdtemp(prefix="pull-", dir=config["work"]))
    out: dict[str, Any] = {"rows_asked": rows, "modes": {},
                           "settings": {"latency_ms": LATENCY_MS,
                                        "max_in_flight_per_account": MAX_IN_FLIGHT,
                                        "page_size": 1000}}
    errors: list[str] = []
    for procs in MODES:
        where = scratch / f"p{procs}"
        where.mkdir()
        try:
            with sandbox(calls=2 * rows, procs=procs) as sb:
                out["settings"]["sandbox"] = sb.launcher
                out["modes"][str(procs)] = _contest(sb, where, rows, config)
        except Exception as exc:  # noqa: BLE001 - one mode failing still reports the other
            errors.append(f"{procs} process(es): {type(exc).__name__}: {exc}"[:400])
    try:
        out["readings"] = {OTHER_READING: _other_reading(scratch / OTHER_READING, rows)}
    except Exception as exc:  # noqa: BLE001
        errors.append(f"{OTHER_READING}: {type(exc).__name__}: {exc}"[:400])
    if errors:
        out["error"] = "; ".join(errors)
    return out


def _contest(sb: Any, where: Path, rows: int, config: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, dict[str, Any]] = {}
    m["floor"] = contest.warm_then_measure(lambda: contest.floor(sb, where / "floor.sids"),
                                           runs=RUNS)
    m["cli"] = contest.warm_then_measure(
        lambda: contest.cli(sb, where / "cli.parquet", where), runs=RUNS)
    contest.parquet_sids(where / "cli.parquet", where / "cli.sids")
    m["sdk"] = contest.warm_then_measure(lambda: _child("sdk", sb, where, "before"))
    m["version"] = contest.warm_then_measure(lambda: _child("ours", sb, where, "before"),
                                             runs=RUNS)
    for name, result in m.items():
        if "error" in result:
            raise RuntimeError(f"{name}: {result['error']}")
    floor, cli, sdk, version = m["floor"], m["cli"], m["sdk"], m["version"]
    return {
        "processes": sb.processes,
        "methods": m,
        "verify": verify({k: where / f"{k}.sids" for k in ("floor", "cli", "sdk", "ours")},
                         rows),
        # The CLI's wall (process start included) against the floor's process wall.
        "cli_vs_floor_time": cli["wall_s"] / floor["wall_s"],
        "cli_vs_sdk_speed": cli["rows_per_s"] / sdk["rows_per_s"],
        # The DataSet-version pull, in-process times against the floor's in-process time.
        "version_vs_floor_time": version["seconds"] / floor["seconds"],
        "version_vs_sdk_speed": version["rows_per_s"] / sdk["rows_per_s"],
        "extra_requests": version["requests"] / floor["pages"] - 1,
    }


def _other_reading(where: Path, rows: int) -> dict[str, Any]:
    where.mkdir(parents=True)
    with sandbox(calls=2 * rows, procs=1, date_upper=OTHER_READING) as sb:
        floor = contest.warm_then_measure(
            lambda: contest.floor(sb, where / "floor.sids", date_upper=OTHER_READING))
        version = contest.warm_then_measure(lambda: _child("ours", sb, where, OTHER_READING))
    if "error" in version:
        raise RuntimeError(f"version: {version['error']}")
    return {"methods": {"floor": floor, "version": version},
            "extra_requests": version["requests"] / floor["pages"] - 1,
            "version_vs_floor_time": version["seconds"] / floor["seconds"],
            "verify": verify({"floor": where / "floor.sids", "ours": where / "ours.sids"},
                             rows)}


def _child(method: str, sb: Any, where: Path, reading: str) -> dict[str, Any]:
    return run_child("bench.pullers", {
        "method": method, "url": sb.url, "today": sb.today.isoformat(),
        "date_upper": reading, "sids_path": str(where / f"{method}.sids"),
        "table_uri": str(where / "ours-table"), "csv_path": str(where / "sdk.csv"),
    })


def verify(paths: dict[str, Path], rows: int) -> dict[str, Any]:
    """Same set of sids everywhere, each sid once, and nearly all the calls asked for: the
    few queued, ringing or canceled calls have no start_time, so no window holds them."""
    lists = {m: p.read_text().split("\n") for m, p in paths.items()}
    sets = {m: set(v) for m, v in lists.items()}
    reference = sets["floor"]
    report: dict[str, Any] = {
        m: {"rows": len(v), "distinct": len(sets[m]), "same_as_floor": sets[m] == reference}
        for m, v in lists.items()
    }
    report["ok"] = all(
        r["same_as_floor"] and r["rows"] == r["distinct"] and 0.9 * rows <= r["rows"] <= rows
        for r in report.values()
    )
    return report
