"""1. Pull: ours vs the SDK vs the floor over the same 200,000 calls, rows verified equal."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.harness import run_child
from bench.sandbox import LATENCY_MS, MAX_IN_FLIGHT, sandbox

METHODS = ("floor", "ours", "sdk")
# The second reading of a date-only upper bound: the server includes the whole bound day.
# The SDK sends date-times, which both readings treat alike, so it runs under the first only.
OTHER_READING = "whole-day"


def run(config: dict[str, Any]) -> dict[str, Any]:
    rows = int(config["rows"])
    scratch = Path(tempfile.mkdtemp(prefix="pull-", dir=config["work"]))
    results: dict[str, dict[str, Any]] = {}
    with sandbox(calls=2 * rows) as sb:  # the main account holds half of the calls
        for method in METHODS:
            results[method] = _pull(method, sb, scratch, "before")
    other: dict[str, dict[str, Any]] = {}
    with sandbox(calls=2 * rows, date_upper=OTHER_READING) as sb2:
        for method in ("floor", "ours"):
            other[method] = _pull(method, sb2, scratch / OTHER_READING, OTHER_READING)
    failed = {m: r["error"] for m, r in results.items() if "error" in r}
    failed.update({f"{m} ({OTHER_READING})": r["error"] for m, r in other.items()
                   if "error" in r})
    out: dict[str, Any] = {"rows_asked": rows, "methods": results,
                           "settings": {"latency_ms": LATENCY_MS,
                                        "max_in_flight_per_account": MAX_IN_FLIGHT,
                                        "sandbox": sb.launcher, "page_size": 1000}}
    if failed:
        out["error"] = "; ".join(f"{m}: {e}" for m, e in failed.items())
        return out
    out["verify"] = verify({m: scratch / f"{m}.sids" for m in METHODS}, rows)
    ours, sdk, floor = (results[m] for m in ("ours", "sdk", "floor"))
    out["ours_vs_sdk_speed"] = ours["rows_per_s"] / sdk["rows_per_s"]
    out["ours_vs_floor_time"] = ours["seconds"] / floor["seconds"]
    # Requests beyond the pages the floor needed, per reading (the floor asks exactly).
    out["extra_requests"] = {"before": ours["requests"] / floor["pages"] - 1}
    o2, f2 = other["ours"], other["floor"]
    out["extra_requests"][OTHER_READING] = o2["requests"] / f2["pages"] - 1
    out["readings"] = {OTHER_READING: {
        "methods": other, "ours_vs_floor_time": o2["seconds"] / f2["seconds"],
        "verify": verify({m: scratch / OTHER_READING / f"{m}.sids" for m in other}, rows)}}
    return out


def _pull(method: str, sb: Any, scratch: Path, reading: str) -> dict[str, Any]:
    scratch.mkdir(parents=True, exist_ok=True)
    return run_child("bench.pullers", {
        "method": method, "url": sb.url, "today": sb.today.isoformat(),
        "date_upper": reading, "sids_path": str(scratch / f"{method}.sids"),
        "table_uri": str(scratch / "ours-table"), "csv_path": str(scratch / "sdk.csv"),
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
