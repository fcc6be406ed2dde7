"""The Twilio sandbox as a separate process, so its CPU is not the client's.

It is the product's own `manage.py twilio_sandbox`, with the flags a user has.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import httpx

from bench.harness import PYTHON, ROOT

LATENCY_MS = 25
MAX_IN_FLIGHT = 10
# Rendered pages are kept (sandbox/page_cache.py), so once a contestant's warm-up has asked
# for its pages the measured run costs the server next to no CPU: as with api.twilio.com,
# whose CPU is not on this machine, the client is measured, not the server's JSON encoder.
PAGE_CACHE_MB = 2048
# The sandbox renders JSON on one core per process; two processes (shared port, shared
# in-flight cap) keep it from being the bottleneck of the floor on this 2-core machine.
PROCESSES = 2


@dataclass(frozen=True)
class Sandbox:
    url: str
    today: date
    pid: int
    launcher: str
    processes: int = 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launcher() -> list[str]:
    return [PYTHON, "manage.py", "twilio_sandbox"]


@contextmanager
def sandbox(calls: int, *, latency_ms: float = LATENCY_MS,
            max_in_flight: int = MAX_IN_FLIGHT, date_upper: str = "before",
            procs: int = PROCESSES, subaccounts: int = 0,
            extra: tuple[str, ...] = ()) -> Iterator[Sandbox]:
    """A sandbox holding `calls` calls across its accounts (the main account holds half).

    `date_upper`: how it reads a date-only `StartTime<=D` (before D, Twilio's documented
    reading, or the whole of D); the pull must be right and cheap under both. `procs`: server
    processes (1 is what `manage.py twilio_sandbox` gives a user). `subaccounts`: crowd
    subaccounts beyond the fixed three (a few calls a day each, every 100th busy)."""
    port = _free_port()
    cmd = [*launcher(), "--port", str(port), "--calls", str(calls),
           "--latency-ms", str(latency_ms), "--max-in-flight", str(max_in_flight),
           "--date-upper", date_upper, "--page-cache-mb", str(PAGE_CACHE_MB), *extra]
    # procs=1: one process, whose request log (GET /_sandbox/requests) sees every request.
    if procs > 1:
        cmd += ["--processes", str(procs)]
    if subaccounts:
        cmd += ["--subaccounts", str(subaccounts)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        today = _wait_ready(url, proc)
        yield Sandbox(url, today, proc.pid, " ".join(cmd[1:3]), procs)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> date:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"sandbox exited {proc.returncode}: {err[-2000:]}")
        try:
            body = httpx.get(f"{url}/_sandbox/health", timeout=2).json()
            return date.fromisoformat(body["today"])
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.1)
    raise RuntimeError(f"sandbox at {url} did not answer within {timeout:.0f} s")
