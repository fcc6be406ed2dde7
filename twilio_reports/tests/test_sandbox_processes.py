"""`manage.py twilio_sandbox --processes 2`: one port, two processes, one in-flight cap."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

ROOT = Path(__file__).resolve().parents[2]
MAIN = (MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN)
CALLS = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has already stopped


@pytest.fixture
def served() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "twilio_sandbox", "--port", str(port), "--calls", "200",
         "--messages", "50", "--alerts", "10", "--processes", "2", "--max-in-flight", "2",
         "--latency-ms", "300"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if httpx.get(f"{url}/_sandbox/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the sandbox did not come up"
            time.sleep(0.1)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_two_processes_share_one_in_flight_cap_and_stop_on_sigterm(served):
    url, proc = served
    deadline = time.monotonic() + 10
    while len(_children(proc.pid)) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) == 1  # the parent serves too: two processes in all

    # Six fresh connections, so both processes accept some of them; the cap of 2 still
    # holds for the account as a whole.
    statuses: list[int] = []
    gate = threading.Barrier(6)

    def call() -> None:
        with httpx.Client(timeout=10) as client:
            gate.wait()
            statuses.append(client.get(url + CALLS, auth=MAIN).status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 429, 429, 429, 429]
    # The slots are given back: the account can be served again.
    assert httpx.get(url + CALLS, auth=MAIN, timeout=10).status_code == 200

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    for pid in workers:
        assert not _alive(pid)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_sandbox/health", timeout=2)


def test_the_default_single_process_has_no_children():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "manage.py", "twilio_sandbox", "--port", str(port),
                             "--calls", "100", "--messages", "10", "--alerts", "5"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert _children(proc.pid) == []
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
