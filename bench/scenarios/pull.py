"""1. Pull: ours vs the SDK vs the floor over the same 200,000 calls, rows verified equal."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.harness import run_child
from bench.sandbox import LATENCY_MS, MAX_IN_FLIGHT, sandbox

METHODS = ("floor", "ours", "sdk")


def run(config: dict[str, Any]) -> dict[str, Any]:
    rows = int(config["rows"])
    scratch = Path(tempfile.mkdtemp(prefix="pull-", dir=config["work"]))
    results: dict[str, dict[str, Any]] = {}
    with sandbox(calls=2 * rows) as sb:  # the main account holds half of the calls
        for method in METHODS:
            results[method] = run_child("bench.pullers", {
                "method": method, "url": sb.url, "today": sb.today.isoformat(),
                "sids_path": str(scratch / f"{method}.sids"),
                "table_uri": str(scratch / "ours-table"),
                "csv_path": str(scratch / "sdk.csv"),
            })
    failed = {m: r["error"] for m, r in results.items() if "error" in r}
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
    return out


def verify(paths: dict[str, Path], rows: int) -> dict[str, Any]:
    """Same set of sids everywhere, each sid once, and as many as the window holds."""
    lists = {m: p.read_text().split("\n") for m, p in paths.items()}
    sets = {m: set(v) for m, v in lists.items()}
    reference = sets["floor"]
    report: dict[str, Any] = {
        m: {"rows": len(v), "distinct": len(sets[m]), "same_as_floor": sets[m] == reference}
        for m, v in lists.items()
    }
    report["ok"] = all(
        r["same_as_floor"] and r["rows"] == r["distinct"] == rows for r in report.values()
    )
    return report
