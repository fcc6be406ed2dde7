"""`make bench`: every scenario against the sandbox over real HTTP, one process each.

    .venv/bin/python bench/run.py                  # full run (~10 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick          # smoke sizes (~1-2 minutes)
    .venv/bin/python bench/run.py --only pull,memory

Prints the table and writes it, with the machine, versions, settings and every raw figure,
to bench/results/latest.json (--quick: bench/results/quick.json). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/run.py`

from bench import report  # noqa: E402
from bench.harness import ROOT, machine, run_child  # noqa: E402
from bench.sandbox import LATENCY_MS, MAX_IN_FLIGHT, PAGE_CACHE_MB, PROCESSES, launcher  # noqa: E402

ORDER = ("lean", "pull", "crowd", "memory", "browse", "export", "charts", "pages", "dispatch",
         "refresh", "units")
FULL: dict[str, dict[str, Any]] = {
    "lean": {},
    "pull": {"rows": 246_000},  # ~237,000 calls in the window: the harness
    "crowd": {"calls": 20_000, "subaccounts": 1_000},
    "memory": {"sizes": [250_000, 500_000, 1_000_000]},
    "browse": {"rows": 1_000_000, "reps": 5},
    "export": {"rows": 1_000_000},
    "charts": {"rows": 1_000_000, "reps": 5},
    "pages": {"rows": 1_000_000, "datasets": 1_000, "reps": 7},
    "dispatch": {"datasets": 5_000},
    "refresh": {"rows": 200_000, "messages": 40_000},
    "units": {},
}
QUICK: dict[str, dict[str, Any]] = {
    "lean": {},
    "pull": {"rows": 20_000},
    "crowd": {"calls": 2_000, "subaccounts": 1_000},
    "memory": {"sizes": [25_000, 50_000, 100_000]},
    "browse": {"rows": 100_000, "reps": 3},
    "export": {"rows": 100_000},
    "charts": {"rows": 100_000, "reps": 3},
    "pages": {"rows": 100_000, "datasets": 1_000, "reps": 3},
    "dispatch": {"datasets": 500},
    "refresh": {"rows": 20_000, "messages": 8_000},
    "units": {},
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a smoke run")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ORDER)}")
    parser.add_argument("--out", type=Path, default=None, help="where to write the JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (tables, DBs)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(ORDER)
    unknown = sorted(set(chosen) - set(ORDER))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(ORDER)}")
    args.scenarios = [s for s in ORDER if s in chosen]
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    work = Path(tempfile.mkdtemp(prefix="bench-work-"))
    began = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    facts = machine()
    load_before = os.getloadavg()
    print(f"{facts['cpu']}, {facts['cores_logical']} logical cores, {facts['ram_gb']} GB RAM; "
          f"python {facts['versions']['python']}; load {_load(load_before)}; work folder {work}")
    results: dict[str, dict[str, Any]] = {}
    configs: dict[str, dict[str, Any]] = {}
    try:
        for name in args.scenarios:
            config = {**sizes[name], "work": str(work)}
            if name == "memory" and "pull" not in args.scenarios:
                config["sdk_rows"] = sizes["pull"]["rows"]  # the SDK figure beside ours
            configs[name] = config
            print(f"-- {name} {json.dumps(sizes[name])} ...", flush=True)
            t0 = time.perf_counter()
            results[name] = run_child(f"bench.scenarios.{name}", config, timeout=1800)
            state = f"error: {results[name]['error']}" if "error" in results[name] else "done"
            print(f"   {state} in {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    rows = report.rows_for(results)
    table = report.render(rows)
    total = time.perf_counter() - began
    load_after = os.getloadavg()
    summary = (f"{sum(r.verdict == 'PASS' for r in rows)} PASS, "
               f"{sum(r.verdict == 'MISS' for r in rows)} MISS, "
               f"{sum(r.verdict == 'FAILED' for r in rows)} FAILED; whole run {total:.0f} s; "
               f"load average {_load(load_before)} before, {_load(load_after)} after")
    print()
    print(table)
    print(f"\n{summary}")
    out = args.out or ROOT / "bench" / "results" / ("quick.json" if args.quick else "latest.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "started": started,
        "duration_s": round(total, 1),
        "mode": "quick" if args.quick else "full",
        "machine": facts,
        "load_average": {"before": load_before, "after": load_after},
        "settings": {"sandbox": " ".join(launcher()[1:]), "sandbox_processes": PROCESSES,
                     "latency_ms": LATENCY_MS, "page_cache_mb": PAGE_CACHE_MB,
                     "max_in_flight_per_account": MAX_IN_FLIGHT, "page_size": 1000,
                     "database": "SQLite (temporary file)", "django_debug": True,
                     "scenarios": {k: {kk: vv for kk, vv in v.items() if kk != "work"}
                                   for k, v in configs.items()}},
        "table": report.as_json(rows),
        "results": results,
    }, indent=2, default=str) + "\n")
    print(f"written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if not args.quick and args.scenarios == list(ORDER) and args.out is None:
        _write_readme(facts, started, table, summary)
        print("table written to README.md (Performance)")
    return 0


def _load(avg: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in avg)


README_BLOCK = re.compile(r"(<!-- bench:table -->\n).*?(<!-- /bench:table -->)", re.DOTALL)


def _write_readme(facts: dict[str, Any], started: str, table: str, summary: str) -> None:
    """The README's table is this run's output, written here, never edited by hand."""
    path = ROOT / "README.md"
    text = path.read_text()
    block = (f"Latest run ({started[:10]}, {facts['cpu']}, {facts['cores_logical']} cores, "
             f"{facts['ram_gb']} GB, Python {facts['versions']['python']}, commit "
             f"{facts['git_commit']}), as `make bench` printed it:\n\n```\n{table}\n\n"
             f"{summary}\n```\n")
    if not README_BLOCK.search(text):
        raise SystemExit("README.md has no <!-- bench:table --> block to write the table to")
    path.write_text(README_BLOCK.sub(lambda m: m.group(1) + block + m.group(2), text))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
