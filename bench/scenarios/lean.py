"""0. Lean processes: peak RSS of `manage.py check`, an idle web process and an idle worker.

Each is a real process started the way a user starts it, in a temporary VAR_DIR:
- `manage.py check`: peak RSS of that process (os.wait4's rusage: this child alone).
- web: `make run`'s server (gunicorn, DEBUG off, whitenoise, one sync worker) after
  migrate + collectstatic; /login/ is fetched 5 times, then the master's and the worker's
  kernel high-water marks (VmHWM in /proc/PID/status) are read.
- worker: `celery -A connector_site worker --concurrency 2` (filesystem broker), idle until
  it says "ready", then VmHWM of the main process and of each pool process.
Target: each process at 90 MB or less (none of pandas, deltalake, plotly or pyarrow loads:
connector_site/tests/test_lean_imports.py asserts that).
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from cryptography.fernet import Fernet

from bench.harness import PYTHON, ROOT, spawn_measured


def run(config: dict[str, Any]) -> dict[str, Any]:
    var = Path(tempfile.mkdtemp(prefix="lean-var-", dir=config["work"]))
    env = _env(var)
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "collectstatic", "--noinput", "-v", "0")
    return {"check": _check(env), "web": _web(env), "worker": _worker(env)}


def _env(var: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_BROKER_DIR",
                         "DJANGO_SETTINGS_MODULE")}
    return {**keep, "VAR_DIR": str(var), "DJANGO_DEBUG": "False", "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "bench-" + Fernet.generate_key().decode(),
            "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False", "CSRF_COOKIE_SECURE": "False",
            "SECURE_HSTS_SECONDS": "0", "CELERY_BROKER_URL": "filesystem://"}


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)


def _check(env: dict[str, str]) -> dict[str, Any]:
    done = spawn_measured([PYTHON, "manage.py", "check"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    return {"peak_rss_mb": done["peak_rss_mb"], "seconds": done["wall_s"],
            "exit": done["returncode"]}


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _web(env: dict[str, str]) -> dict[str, Any]:
    port = _free_port()
    cmd = [PYTHON, "-m", "gunicorn", "connector_site.wsgi:application", "-c",
           "connector_site/gunicorn_conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1",
           "--timeout", "120"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/login/"
        deadline = time.monotonic() + 60
        statuses = []
        while time.monotonic() < deadline:
            try:
                statuses.append(httpx.get(url, timeout=5).status_code)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        statuses += [httpx.get(url, timeout=5).status_code for _ in range(4)]
        time.sleep(0.5)
        workers = psutil.Process(proc.pid).children()
        return {"login_status": statuses, "master_peak_rss_mb": _hwm_mb(proc.pid),
                "worker_peak_rss_mb": [_hwm_mb(w.pid) for w in workers],
                "peak_rss_mb": max([_hwm_mb(proc.pid)] + [_hwm_mb(w.pid) for w in workers])}
    finally:
        _stop(proc)


def _worker(env: dict[str, str]) -> dict[str, Any]:
    log = Path(env["VAR_DIR"]) / "worker.log"
    cmd = [PYTHON, "-m", "celery", "-A", "connector_site", "worker", "-l", "info",
           "--concurrency", "2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and b" ready." not in log.read_bytes():
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited: {log.read_text()[-1500:]}")
            time.sleep(0.2)
        time.sleep(2)  # idle
        pool = psutil.Process(proc.pid).children()
        main = _hwm_mb(proc.pid)
        children = [_hwm_mb(c.pid) for c in pool]
        return {"main_peak_rss_mb": main, "pool_peak_rss_mb": children,
                "peak_rss_mb": max([main, *children])}
    finally:
        _stop(proc)
