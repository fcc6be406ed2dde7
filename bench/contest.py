"""Contestants that run as whole processes: the floor (bench/floor.py) and our CLI
(`manage.py twilio_report ... --format parquet`). Wall time is from spawn to exit (process
start included, printed separately); peak RSS is that process's own (wait4's rusage,
through harness.spawn_measured).
Each is warmed once against the same sandbox before the measured run."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.harness import PYTHON, spawn_measured
from bench.sandbox import MAX_IN_FLIGHT, Sandbox
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, MAIN_FRIENDLY_NAME

WINDOW_DAYS = 30
SUMMARY = re.compile(r"(\d+) rows in (\d+) pages(?:, ([\d,]+) of ([\d,]+) accounts done)? "
                     r"\((\d+) retries, ([\d.]+)s\)")


def window(today: date) -> tuple[date, date]:
    return today - timedelta(days=WINDOW_DAYS - 1), today


def run_process(cmd: list[str], env: dict[str, str] | None = None,
                timeout: float = 900) -> dict[str, Any]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        done = spawn_measured(cmd, env=env, stdout=out, stderr=err, timeout=timeout)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if done["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd[1:3])} exited {done['returncode']}: {stderr[-1500:]}")
    return {"wall_s": done["wall_s"], "peak_rss_mb": done["peak_rss_mb"], "stdout": stdout,
            "stderr": stderr}


def warm_then_measure(fn: Callable[[], dict[str, Any]], runs: int = 1) -> dict[str, Any]:
    """Once to warm the server's caches for this contestant's queries, then `runs` measured
    runs; the fastest is the figure (the machine is shared: a neighbour's burst slows one run),
    every run's wall time is kept beside it."""
    warm = fn()
    measured = [fn() for _ in range(runs)]
    best = min(measured, key=lambda r: r.get("wall_s", r.get("seconds", 0)))
    best["warm_wall_s"] = warm.get("wall_s", warm.get("seconds"))
    best["runs_wall_s"] = [r.get("wall_s", r.get("seconds")) for r in measured]
    return best


def floor(sb: Sandbox, sids: Path, *, mode: str = "days", date_upper: str = "before"
          ) -> dict[str, Any]:
    first, last = window(sb.today)
    done = run_process([PYTHON, "bench/floor.py", sb.url, MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN,
                        first.isoformat(), last.isoformat(), "--mode", mode,
                        "--date-upper", date_upper, "--sids", str(sids),
                        "--in-flight", str(MAX_IN_FLIGHT)])
    body = json.loads(done["stdout"].strip().splitlines()[-1])
    return {**body, "wall_s": done["wall_s"], "peak_rss_mb": done["peak_rss_mb"],
            "process_start_s": done["wall_s"] - body["seconds"],
            "rows_per_s": body["rows"] / done["wall_s"]}


def cli_env(work: Path) -> dict[str, str]:
    drop = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    keep = {k: v for k, v in os.environ.items() if k not in drop}
    var = work / "cli-var"
    var.mkdir(parents=True, exist_ok=True)
    # The harness admits 10 requests in flight per account, as the floor uses; the product's
    # default (8) stays below Twilio's limit on purpose, so the CLI is told, as a user would.
    return {**keep, "VAR_DIR": str(var), "LOG_LEVEL": "WARNING",
            "TWILIO_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT)}


def cli(sb: Sandbox, out: Path, work: Path, *, every_account: bool = False) -> dict[str, Any]:
    """`manage.py twilio_report calls` over the window to Parquet: the main account, or with
    no --account-name the main account and every subaccount."""
    first, last = window(sb.today)
    cmd = [PYTHON, "manage.py", "twilio_report", "calls", "--account-sid", MAIN_ACCOUNT_SID,
           "--auth-token", MAIN_AUTH_TOKEN, "--api-base", sb.url, "--monitor-base", sb.url,
           "--start", first.isoformat(), "--end", last.isoformat(), "--tz", "UTC",
           "--format", "parquet", "--out", str(out)]
    if not every_account:
        cmd += ["--account-name", MAIN_FRIENDLY_NAME]
    done = run_process(cmd, env=cli_env(work))
    found = SUMMARY.findall(done["stderr"])
    if not found:
        raise RuntimeError(f"no summary in the CLI's output: {done['stderr'][-500:]}")
    rows, pages, acc_done, acc_total, retries, elapsed = found[-1]
    result = {"rows": int(rows), "pages": int(pages), "retries": int(retries),
              "seconds": float(elapsed), "wall_s": done["wall_s"],
              "peak_rss_mb": done["peak_rss_mb"],
              "process_start_s": done["wall_s"] - float(elapsed),
              "rows_per_s": int(rows) / done["wall_s"], "file_bytes": out.stat().st_size}
    if acc_total:
        result["accounts_done"] = int(acc_done.replace(",", ""))
        result["accounts_total"] = int(acc_total.replace(",", ""))
    return result


def parquet_sids(path: Path, sids: Path) -> None:
    import pyarrow.parquet as pq

    sids.write_text("\n".join(pq.read_table(path, columns=["sid"]).column("sid").to_pylist()))
