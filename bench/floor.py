"""The network floor, as a process of its own: the least any client can do on this machine.

    python bench/floor.py URL ACCOUNT_SID TOKEN FIRST LAST --mode days|accounts
                          [--date-upper before|whole-day] [--sids FILE] [--in-flight 10]

No Django, no pyarrow: httpx, `orjson.loads` of each page (json.loads when orjson is
missing), rows thrown away (only sids kept, for the check). Prints one JSON line.

- `days`: one account (ACCOUNT_SID), one UTC day per slice, 10 threads, each slice following
  its next_page_uri. It is told how the server reads a date-only upper bound and sends the
  one query per day that is exact for it.
- `accounts`: the account list (Accounts.json, every page), then one request per account for
  the whole window plus the next pages its rows need, 10 in flight: exactly the requests a
  pull of a main account and all its subaccounts cannot do without.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

began = time.perf_counter()  # the process's own start, imports included, is printed too

import httpx  # noqa: E402

try:
    from orjson import loads
except ImportError:  # the floor stays runnable without it, a little slower
    loads = json.loads

PAGE_SIZE = 1000
API = "/2010-04-01"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    for name in ("url", "account_sid", "token", "first", "last"):
        p.add_argument(name)
    p.add_argument("--mode", choices=["days", "accounts"], default="days")
    p.add_argument("--date-upper", default="before")
    p.add_argument("--sids", default="")
    p.add_argument("--in-flight", type=int, default=10)
    a = p.parse_args(argv)
    first, last = date.fromisoformat(a.first), date.fromisoformat(a.last)
    http = httpx.Client(auth=(a.account_sid, a.token), timeout=60,
                        limits=httpx.Limits(max_connections=a.in_flight))
    imported = time.perf_counter() - began
    t0 = time.perf_counter()
    whole_day = a.date_upper == "whole-day"
    list_requests = 0
    if a.mode == "days":
        jobs = []
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            upper = day if whole_day else day + timedelta(days=1)
            jobs.append((a.account_sid, day, upper))
    else:
        accounts, list_requests = _accounts(http, a.url, a.account_sid)
        upper = last if whole_day else last + timedelta(days=1)
        jobs = [(sid, first, upper) for sid in accounts]
    sids, pages, per_account = _fetch(http, a.url, jobs, a.in_flight)
    seconds = time.perf_counter() - t0
    http.close()
    if a.sids:
        Path(a.sids).write_text("\n".join(sids))
    print(json.dumps({"rows": len(sids), "pages": pages, "list_requests": list_requests,
                      "requests": pages + list_requests, "seconds": seconds,
                      "start_s": imported, "accounts": len(per_account) if a.mode == "accounts"
                      else 1, "rows_per_account": per_account if a.mode == "accounts" else {}}))
    return 0


def _accounts(http: httpx.Client, base: str, main_sid: str) -> tuple[list[str], int]:
    url: str | None = f"{base}{API}/Accounts.json"
    params: dict[str, str] | None = {"PageSize": str(PAGE_SIZE)}
    sids: list[str] = []
    requests = 0
    while url:
        response = http.get(url, params=params)
        response.raise_for_status()
        requests += 1
        body = loads(response.content)
        sids += [acct["sid"] for acct in body["accounts"]]
        nxt = body.get("next_page_uri")
        url, params = (base + nxt, None) if nxt else (None, None)
    if main_sid not in sids:
        sids.insert(0, main_sid)
    return sids, requests


def _fetch(http: httpx.Client, base: str, jobs: list[tuple[str, date, date]], in_flight: int
           ) -> tuple[list[str], int, dict[str, int]]:
    todo: queue.Queue[tuple[str, date, date]] = queue.Queue()
    for job in jobs:
        todo.put(job)
    sids: list[str] = []
    per_account: Counter[str] = Counter()
    lock = threading.Lock()
    pages = [0]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while True:
                try:
                    sid, lo, hi = todo.get_nowait()
                except queue.Empty:
                    return
                url: str | None = f"{base}{API}/Accounts/{sid}/Calls.json"
                params: dict[str, Any] | None = {
                    "StartTime>": lo.isoformat(), "StartTime<": hi.isoformat(),
                    "PageSize": str(PAGE_SIZE)}
                while url:
                    response = http.get(url, params=params)
                    response.raise_for_status()
                    body = loads(response.content)
                    got = [row["sid"] for row in body["calls"]]
                    with lock:
                        sids.extend(got)
                        per_account[sid] += len(got)
                        pages[0] += 1
                    nxt = body.get("next_page_uri")
                    url, params = (base + nxt, None) if nxt else (None, None)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(in_flight)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return sids, pages[0], dict(per_account)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
