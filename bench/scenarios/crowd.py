"""3. A thousand subaccounts: a pull of the main account and every subaccount (Account Name
empty) against a sandbox started with `--subaccounts 1000` (a few calls a day each, every
100th busy with 500 a day), one server process, so its request log sees every request.

- floor: bench/floor.py --mode accounts: the account list, then one request per account for
  the whole window plus the next pages its rows need, 10 in flight (rows dropped);
- ours: `manage.py twilio_report calls --format parquet` with no --account-name.
Both warmed once. Requests are counted by the server (GET /_sandbox/requests), and compared
with the least any client needs: the account list's pages plus, per account, one request or
the pages its rows fill (whichever is more).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench import contest
from bench.sandbox import sandbox
from bench.scenarios.pull import verify

PAGE = 1000


def run(config: dict[str, Any]) -> dict[str, Any]:
    where = Path(tempfile.mkdtemp(prefix="crowd-", dir=config["work"]))
    with sandbox(calls=int(config["calls"]), procs=1,
                 subaccounts=int(config["subaccounts"])) as sb:
        floor = contest.warm_then_measure(
            lambda: _counted(sb, lambda: contest.floor(sb, where / "floor.sids",
                                                       mode="accounts")), runs=2)
        ours = contest.warm_then_measure(
            lambda: _counted(sb, lambda: contest.cli(sb, where / "cli.parquet", where,
                                                     every_account=True)), runs=2)
    contest.parquet_sids(where / "cli.parquet", where / "cli.sids")
    per_account = floor["rows_per_account"]
    needed = floor["list_requests"] + sum(max(1, math.ceil(n / PAGE))
                                          for n in per_account.values())
    rows = floor["rows"]
    check = verify({"floor": where / "floor.sids", "cli": where / "cli.sids"}, rows)
    floor.pop("rows_per_account")
    return {
        "accounts": len(per_account), "rows": rows, "needed_requests": needed,
        "busy_accounts": sum(1 for n in per_account.values() if n > PAGE),
        "floor": floor, "ours": ours, "verify": check,
        "requests_ratio": ours["server_requests"] / needed,
        "floor_requests_ratio": floor["server_requests"] / needed,
        "time_ratio": ours["wall_s"] / floor["wall_s"],
    }


def _counted(sb: Any, fn: Any) -> dict[str, Any]:
    """Runs `fn` with the sandbox's request log cleared first; adds what the server saw."""
    httpx.delete(f"{sb.url}/_sandbox/requests", timeout=30)
    result = fn()
    entries = httpx.get(f"{sb.url}/_sandbox/requests", timeout=60).json()
    result["server_requests"] = len(entries)  # every API request (the log skips /_sandbox/)
    result["calls_requests"] = sum(1 for e in entries if e["path"].endswith("/Calls.json"))
    return result
