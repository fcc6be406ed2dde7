"""Plumbing shared by every scenario: child processes, peak RSS, timers, machine facts.

A scenario is a module under bench/scenarios with `run(config: dict) -> dict`. The
orchestrator starts it as `python -m bench.harness <module> <config-json> <result-path>` so
each one gets a fresh interpreter: its peak RSS is its own, caches start cold, and a crash
in one scenario is a row marked FAILED instead of a lost run.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MB = 2**20
KEY_PACKAGES = ("django", "twilio", "httpx", "pyarrow", "deltalake", "pandas", "numpy",
                "celery", "kombu", "psutil")


# --- child processes ---------------------------------------------------------------------


def run_child(module: str, config: dict[str, Any], *, timeout: float = 900) -> dict[str, Any]:
    """Run `module.run(config)` in a fresh interpreter and return its JSON result.

    The result travels through a file, not stdout, so library chatter cannot corrupt it.
    """
    with tempfile.NamedTemporaryFile(prefix="bench-result-", suffix=".json",
                                     delete=False) as handle:
        out = Path(handle.name)
    try:
        cmd = [PYTHON, "-m", "bench.harness", module, json.dumps(config), str(out)]
        proc = subprocess.run(cmd, cwd=ROOT, timeout=timeout, capture_output=True, text=True)
        text = out.read_text() if out.exists() else ""
        if proc.returncode != 0 or not text:
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-15:]
            return {"error": f"{module} exited {proc.returncode}", "log": tail}
        return json.loads(text)
    except subprocess.TimeoutExpired:
        return {"error": f"{module} took longer than {timeout:.0f} s"}
    finally:
        out.unlink(missing_ok=True)


def _child_main(argv: list[str]) -> int:
    # Set the process up as the product's processes are (Arrow's memory pool is chosen there,
    # before pyarrow is imported).
    import connector_site  # noqa: F401

    module, config, out = argv[0], json.loads(argv[1]), Path(argv[2])
    try:
        result = importlib.import_module(module).run(config)
    except Exception as exc:  # noqa: BLE001 - reported as the scenario's result
        result = {"error": f"{type(exc).__name__}: {exc}",
                  "log": traceback.format_exc().splitlines()[-15:]}
    result.setdefault("peak_rss_mb", peak_rss_mb())
    out.write_text(json.dumps(result, default=str))
    return 0


# --- measuring -----------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Kernel-tracked high-water mark of this process's memory (VmHWM, KiB in /proc).

    Not getrusage's ru_maxrss: Linux carries the spawning parent's high-water mark into the
    child's ru_maxrss at exec, so a child started by a 300 MB parent reports >= 300 MB
    however little it uses. VmHWM belongs to the address space exec gave this process.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The launcher `spawn_measured` starts first: a bare interpreter (~10 MB) that starts the
# command, waits for it with wait4 and writes its wall time and rusage to a file. The
# command's ru_maxrss then starts from the launcher's few MB, not from the benchmark
# process's size (see peak_rss_mb: a 300 MB parent made every child report >= 300 MB).
_LAUNCHER = """
import json, os, subprocess, sys, time
cmd, report = json.loads(sys.argv[1]), sys.argv[2]
began = time.perf_counter()
proc = subprocess.Popen(cmd)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - began
with open(report, "w") as handle:
    json.dump({"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
               "returncode": os.waitstatus_to_exitcode(status)}, handle)
"""


def spawn_measured(cmd: list[str], *, env: dict[str, str] | None = None, stdout: Any = None,
                   stderr: Any = None, timeout: float = 900) -> dict[str, Any]:
    """Run `cmd` in ROOT; its wall time (spawn to exit) and its own peak RSS (wait4)."""
    with tempfile.NamedTemporaryFile(prefix="bench-spawn-", suffix=".json") as report:
        launcher = subprocess.Popen(
            [PYTHON, "-S", "-c", _LAUNCHER, json.dumps(cmd), report.name], cwd=ROOT, env=env,
            stdout=stdout, stderr=stderr, start_new_session=True)
        try:
            launcher.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, 9)
            launcher.wait()
            raise RuntimeError(f"{' '.join(cmd[1:3])} took longer than {timeout:.0f} s") from None
        text = Path(report.name).read_text()
    if not text:
        raise RuntimeError(f"the launcher of {' '.join(cmd[1:3])} exited {launcher.returncode}")
    return json.loads(text)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / MB


class RssSampler:
    """Samples RSS every 20 ms: gives the curve's shape (start, peak) during one block,
    where ru_maxrss only knows the process-wide maximum."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.samples.append(proc.memory_info().rss / MB)
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> float:
        return max(self.samples, default=rss_mb())


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    box: dict[str, float] = {}
    began = time.perf_counter()
    try:
        yield box
    finally:
        box["s"] = time.perf_counter() - began


def timed_ms(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return (time.perf_counter() - began) * 1000


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- the machine ---------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return {
        "cpu": _cpu_model(),
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "git_commit": _git_commit(),
    }


def _git_commit() -> str:
    try:  # read-only: which commit the figures belong to (plus a dirty-tree flag)
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
