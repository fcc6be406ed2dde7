"""Test-suite plumbing, loaded early with `-p connector_site.pytest_plugin` (pyproject.toml).

- Keeps the tests' filesystem broker apart from `make run`'s (var/test-broker).
- `need_*` helpers: tests that need PostgreSQL, Redis or Chromium skip with a reason when
  those are not configured, and fail instead when REQUIRE_SERVICES=1 (CI).
- `celery_worker`: a real `celery worker` process on the test database and a given broker.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_VAR = Path(os.environ.get("VAR_DIR", ROOT / "var"))
# One folder per test session: two sessions on one machine must not share queued messages.
TEST_BROKER_DIR = Path(
    os.environ.setdefault("CELERY_BROKER_DIR", str(TEST_VAR / f"test-broker-{os.getpid()}"))
)
CHROMIUM = "/usr/bin/chromium"


def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def need(condition: bool, reason: str) -> None:
    if condition:
        return
    if require_services():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis") else ""


def need_redis() -> str:
    url = redis_url()
    need(bool(url), "REDIS_URL is not set (a Redis broker is needed)")
    return url


def need_postgres() -> None:
    from django.db import connection

    need(connection.vendor == "postgresql", "DATABASE_URL does not point at PostgreSQL")


def need_chromium() -> str:
    need(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM}")
    return CHROMIUM


def pytest_sessionstart(session: pytest.Session) -> None:
    shutil.rmtree(TEST_BROKER_DIR, ignore_errors=True)
    (TEST_BROKER_DIR / "queue").mkdir(parents=True, exist_ok=True)
    (TEST_BROKER_DIR / "processed").mkdir(parents=True, exist_ok=True)
    (TEST_BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
    # pytest-django read the settings before this module set CELERY_BROKER_DIR: point this
    # process's filesystem broker at the session's folder too, where test workers listen.
    from django.conf import settings

    from connector_site.celery import app

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport_options()
        app.conf.broker_transport_options = filesystem_transport_options()
    # Request budgets in lock files of this session: several tests kill workers in the middle
    # of a pull, and a killed process's Redis leases would throttle the sandbox account for
    # the lease's 30 seconds. Tests of the Redis budget ask for it explicitly.
    settings.TWILIO_BUDGET_URL = str(TEST_BROKER_DIR / "budget")


def pytest_sessionfinish(session: pytest.Session) -> None:
    shutil.rmtree(TEST_BROKER_DIR, ignore_errors=True)


def database_url_for_tests() -> str:
    """The URL of the database the tests are using, for processes we start."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def service_env(**extra: str) -> dict[str, str]:
    """Environment for a process that must share the test's database, keys and storage."""
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "SECRET_KEY": settings.SECRET_KEY,
        "CREDENTIAL_KEYS": ",".join(settings.CREDENTIAL_KEYS),
        "DATASET_STORAGE_URI": str(settings.DATASET_STORAGE_URI),
        "DATASET_STAGING_DIR": str(settings.DATASET_STAGING_DIR),
        "TWILIO_BUDGET_URL": settings.TWILIO_BUDGET_URL,
        "TWILIO_SANDBOX_URL": settings.TWILIO_SANDBOX_URL or "",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_BROKER_DIR": os.environ["CELERY_BROKER_DIR"],
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"Timed out after {timeout:.0f}s waiting for {what}")


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen, hostname: str, log: Path) -> None:
        self.proc, self.hostname, self.log = proc, hostname, log

    def kill(self, sig: int = 9) -> None:
        # The whole process group: the prefork children die with the parent.
        os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=20)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def celery_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes: `celery_worker(broker_url=None, concurrency=1, **env)`.

    Needs `transactional_db` (the worker must see committed rows). Ready once its
    heartbeat row appears in the database.
    """
    started: list[WorkerProcess] = []

    def start(broker_url: str | None = None, concurrency: int = 1, **extra: str) -> WorkerProcess:
        from scheduler.models import Heartbeat

        hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
        env = service_env(**extra)
        if broker_url:
            env["CELERY_BROKER_URL"] = broker_url
        log = tmp_path / f"{hostname}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "connector_site",
                "worker",
                "-l",
                "info",
                "-n",
                hostname,
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = WorkerProcess(proc, hostname, log)
        started.append(worker)
        try:
            wait_for(
                lambda: proc.poll() is not None or Heartbeat.objects.filter(name=hostname).exists(),
                60,
                "the worker's first heartbeat",
            )
        except AssertionError:
            raise AssertionError("worker did not start:\n" + worker.output()[-3000:]) from None
        if proc.poll() is not None:
            raise AssertionError("worker exited:\n" + worker.output()[-3000:])
        return worker

    yield start
    for worker in started:
        # Shown by pytest only when the test failed.
        print(f"--- log of worker {worker.hostname} ---\n{worker.output()[-6000:]}")
        if worker.proc.poll() is None:
            try:
                worker.kill(15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                worker.kill(9)


@pytest.fixture(scope="session")
def sandbox_server():
    """One real Twilio sandbox on a loopback port for the whole session (default knobs)."""
    from twilio_reports.sandbox import SandboxConfig, start_server

    handle = start_server(SandboxConfig())
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(sandbox_server, settings, tmp_path):
    """The sandbox configured as this installation's Twilio, DataSet tables under tmp_path.

    Fault knobs changed by a test are put back afterwards.
    """
    settings.TWILIO_SANDBOX_URL = sandbox_server.url
    settings.DATASET_STORAGE_URI = str(tmp_path / "datasets")
    saved = dict(vars(sandbox_server.config))
    yield sandbox_server
    for key, value in saved.items():
        setattr(sandbox_server.config, key, value)


def filesystem_transport_options() -> dict[str, object]:
    broker_dir = Path(os.environ["CELERY_BROKER_DIR"])
    return {
        "data_folder_in": str(broker_dir / "queue"),
        "data_folder_out": str(broker_dir / "queue"),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),
        "store_processed": False,
    }


@pytest.fixture(params=["filesystem", "redis"])
def broker(request, settings, monkeypatch) -> Iterator[str]:
    """Each broker in turn, for tests that send work to a real worker: this process's Celery
    app publishes to it for the test's duration (the worker gets it through its env)."""
    from connector_site.celery import app

    if request.param == "redis":
        url = need_redis()
        options: dict[str, object] = {"visibility_timeout": 7200}
    else:
        url, options = "filesystem://", filesystem_transport_options()
    saved = (app.conf.broker_url, app.conf.broker_transport_options)

    def reset_pools() -> None:
        # Celery caches its pools on first publish; kombu keeps them per URL in a global
        # registry, so forgetting ours (not closing them) lets the next publish pick the
        # pool of the new URL.
        app._pool = None
        app.amqp._producer_pool = None

    reset_pools()
    # Celery's conf prefers the CELERY_BROKER_URL environment variable (set in CI) over
    # broker_url: change both, or this process keeps publishing to the other broker.
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    app.conf.broker_url, app.conf.broker_transport_options = url, options
    settings.CELERY_BROKER_URL = url
    yield url
    reset_pools()
    app.conf.broker_url, app.conf.broker_transport_options = saved
