"""Faults at the run level, with the sandbox's fault knobs and real processes.

- A flaky Twilio (429s with and without Retry-After, 5xx, a stalled response, resets): the
  run ends with exactly the sandbox's ground-truth rows, and says it retried.
- A Twilio that keeps failing (truncated pages, invalid JSON, 5xx past the retries): the run
  fails in plain words and the previous version stays current and readable.
- Redis restarted without persistence while runs wait in it: runs_reap_stale re-sends them.
- PostgreSQL restarted under a running pull: every run ends, no version is half-visible,
  scheduled runs resume.
The restart tests run last (tests/conftest.py) and only when this session is the service's
only user, because a restart cuts every client of the machine's Redis or PostgreSQL.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection, connections
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connector_site.pytest_plugin import need_postgres, need_redis, wait_for
from datacenter import tables
from datacenter.models import DataSet
from datacenter.pulls import pull_request_for
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler import services as scheduler_services
from scheduler.models import ACTIVE_STATES, Run, RunState, Schedule
from scheduler.services import dispatch_due, run_execute, run_request, runs_reap_stale
from twilio_reports.dates import day_bounds_utc
from twilio_reports.tests.sandbox_truth import truth_sids

FAST = {"TWILIO_RETRY_SCALE": 0.01, "TWILIO_READ_TIMEOUT": 0.5, "TWILIO_CONNECT_TIMEOUT": 2.0}


@pytest.fixture
def fast_retries(settings) -> None:
    """Backoff and Retry-After shrunk 100x, a 0.5 s read timeout: a stall costs 0.5 s."""
    for key, value in FAST.items():
        setattr(settings, key, value)


def _sids(dataset: DataSet, delta_version: int) -> list[str]:
    table = tables.read_table(tables.table_uri(dataset.pk), delta_version, columns=["sid"])
    return sorted(table.column("sid").to_pylist())


def _run_now(dataset: DataSet) -> Run:
    run = run_request(dataset=dataset)
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


# --- A flaky Twilio: every row arrives, once ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("report", ["calls", "messages"])
def test_it_gets_exactly_the_ground_truth_rows_through_a_flaky_twilio(
    sandbox, fast_retries, security_figures, report
):
    alice = user_make("alice")
    dataset = dataset_make(alice, sandbox_account_make(alice), report=report)
    config = sandbox.config
    config.rate_429, config.retry_after_share = 0.3, 0.5  # half with Retry-After, half without
    config.rate_5xx = 0.05
    config.reset_rate = 0.03
    config.stall_next, config.stall_seconds = 1, 3.0  # one response hangs past the timeout
    sandbox.app.faults.reseed()  # the same fault sequence on every run of the test

    run = _run_now(dataset)

    assert run.state == RunState.SUCCEEDED, run.error
    assert run.retries > 0
    assert config.stall_next == 0  # the stalled response was served (and timed out)
    request = pull_request_for(dataset, now=run.started_at)
    span = day_bounds_utc(*request.window, dataset.time_zone)
    truth = sorted(truth_sids(sandbox.world, report, span=span))
    assert truth, "the window holds no rows: the comparison would prove nothing"
    assert _sids(dataset, run.version.delta_version) == truth
    assert run.rows == run.version.rows == len(truth)
    security_figures.add("faults.flaky_runs_survived")
    security_figures.add("faults.retries_absorbed", run.retries)


# --- A Twilio that keeps failing: plain words, previous version intact ----------------------------


class _BrokenTwilio(BaseHTTPRequestHandler):
    """Answers every request 200 with a body cut in the middle of the JSON."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        body = b'{"calls": [{"sid": "CA0'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def broken_twilio() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


FAILURES = {
    # fault -> words the run's error must contain
    "truncated pages": ({"truncate_rate": 1.0}, "could not reach Twilio"),
    "5xx past the retries": ({"rate_5xx": 1.0}, "Twilio kept failing"),
    "invalid JSON": (None, "broken page"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("fault", sorted(FAILURES))
def test_it_fails_in_plain_words_and_keeps_the_previous_version(
    sandbox, fast_retries, settings, broken_twilio, security_figures, fault
):
    alice = user_make("alice")
    dataset = dataset_make(alice, sandbox_account_make(alice))
    first = _run_now(dataset)
    assert first.state == RunState.SUCCEEDED, first.error
    before = _sids(dataset, first.version.delta_version)
    delta_before = tables.latest_version(tables.table_uri(dataset.pk))

    knobs, words = FAILURES[fault]
    if knobs is None:
        settings.TWILIO_SANDBOX_URL = broken_twilio  # the sandbox region now answers garbage
    for name, value in (knobs or {}).items():
        setattr(sandbox.config, name, value)
    failed = _run_now(dataset)

    assert failed.state == RunState.FAILED
    # Plain words: which report, what Twilio did, that retries were spent; no internals.
    assert failed.error.startswith("Calls: ") and words in failed.error, failed.error
    assert "retries" in failed.error and failed.retries > 0
    for internal in ("Traceback", "Unexpected error", "Exception", "httpx"):
        assert internal not in failed.error, failed.error
    dataset.refresh_from_db()
    assert dataset.current_version_id == first.version_id
    assert tables.latest_version(tables.table_uri(dataset.pk)) == delta_before
    assert _sids(dataset, first.version.delta_version) == before
    # The owner still reads the previous version, and sees why the run failed.
    client = Client()
    client.force_login(alice)
    data = client.get(reverse("dataset-data", args=[dataset.pk]))
    assert data.status_code == 200 and data.context["total"] == len(before)
    history = client.get(reverse("dataset-history", args=[dataset.pk])).content.decode()
    assert words in history
    security_figures.add("faults.failures_contained")


# --- Redis restarted without persistence while runs are queued ------------------------------------

def _redis_address(url: str) -> tuple[str, str, str]:
    """(host, port, db) of the Redis this session uses: the one the test restarts."""
    parts = urlsplit(url)
    db = parts.path.strip("/") or "0"
    return parts.hostname or "127.0.0.1", str(parts.port or 6379), db


def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    host, port, _ = _redis_address(url)
    return subprocess.run(["redis-cli", "-h", host, "-p", port, *args], capture_output=True,
                          text=True, timeout=30)


def _redis_up(url: str) -> bool:
    return _cli(url, "ping").stdout.strip() == "PONG"


def _start_redis(url: str) -> None:
    # As the machine runs it: nothing kept on disk, so a restart loses every message.
    host, port, _ = _redis_address(url)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", host, "--port", port,
                    "--save", "", "--appendonly", "no"], check=True, timeout=30)
    wait_for(lambda: _redis_up(url), 30, "Redis to start")


def _redis_shared_with_others(url: str) -> bool:
    """Clients on other Redis databases belong to other sessions on this machine."""
    ours = _redis_address(url)[2]
    dbs = {part.split("=", 1)[1] for line in _cli(url, "client", "list").stdout.splitlines()
           for part in line.split() if part.startswith("db=")}
    return bool(dbs - {ours, "0"})


@pytest.fixture
def redis_broker(settings) -> Iterator[str]:
    """This process publishes to Redis for the test (like the plugin's `broker`, Redis only)."""
    from connector_site.celery import app

    url = need_redis()
    saved = (app.conf.broker_url, app.conf.broker_transport_options)

    def forget_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    forget_pools()
    app.conf.broker_url, app.conf.broker_transport_options = url, {"visibility_timeout": 7200}
    settings.CELERY_BROKER_URL = url
    yield url
    forget_pools()
    app.conf.broker_url, app.conf.broker_transport_options = saved


@pytest.mark.restarts_services
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_requeues_runs_lost_when_redis_restarts(
    redis_broker, celery_worker, sandbox, monkeypatch, security_figures
):
    if _redis_shared_with_others(redis_broker):
        pytest.skip("another session uses this Redis; restarting it would break that session")
    celery_worker(broker_url=redis_broker)
    alice = user_make("alice")
    account = sandbox_account_make(alice)
    datasets = [dataset_make(alice, account, name=f"Queued {i}") for i in range(3)]
    sandbox.config.latency_ms = 300  # the first run is busy while the others wait in Redis
    runs = [run_request(dataset=ds) for ds in datasets]
    wait_for(lambda: Run.objects.filter(state=RunState.RUNNING).exists(), 60, "a run to start")
    assert Run.objects.filter(pk__in=[r.pk for r in runs], state=RunState.QUEUED).exists()
    try:
        # Redis keeps nothing on disk: the queued messages are gone after this.
        _cli(redis_broker, "shutdown", "nosave")
        wait_for(lambda: not _redis_up(redis_broker), 30, "Redis to stop")
        _start_redis(redis_broker)
    finally:
        if not _redis_up(redis_broker):  # whatever happened, Redis runs after this test
            _start_redis(redis_broker)
    sandbox.config.latency_ms = 0
    # The product's answer: runs_reap_stale re-sends runs still queued after REQUEUE_AFTER.
    monkeypatch.setattr(scheduler_services.reap, "REQUEUE_AFTER", timedelta(seconds=1))

    def all_done() -> bool:
        runs_reap_stale()
        return not Run.objects.filter(state__in=ACTIVE_STATES).exists()

    wait_for(all_done, 120, "every queued run to finish after the restart")
    states = list(Run.objects.filter(pk__in=[r.pk for r in runs]).values_list("state", flat=True))
    assert states == [RunState.SUCCEEDED] * 3, states
    for ds in datasets:
        ds.refresh_from_db()
        assert ds.current_version is not None and ds.current_version.rows > 0
    security_figures.add("faults.broker_restarts_survived")


# --- PostgreSQL restarted under a running pull ----------------------------------------------------


def _postgres_cluster() -> tuple[str, str]:
    """(version, cluster name) of the cluster this session's database lives in: the one
    `pg_ctlcluster ... restart` restarts (`main` on the machine and in CI)."""
    port = str(connection.settings_dict.get("PORT") or 5432)
    for line in subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True,
                               timeout=30).stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    return sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1], "main"


def _postgres_shared_with_others() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname IS NOT NULL "
            "AND datname NOT IN (current_database(), 'postgres') AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def _postgres_ready() -> bool:
    port = str(connection.settings_dict.get("PORT") or 5432)
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", port, "-q"],
                          timeout=10).returncode == 0


@pytest.mark.restarts_services
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_settles_every_run_when_postgres_restarts_mid_pull(
    celery_worker, sandbox, settings, security_figures
):
    need_postgres()
    if _postgres_shared_with_others():
        pytest.skip("another session uses this PostgreSQL; restarting it would break that session")
    celery_worker()
    alice = user_make("alice")
    account = sandbox_account_make(alice)
    dataset = dataset_make(alice, account)
    scheduled = dataset_make(alice, account, name="Scheduled",
                             spec={"kind": "daily", "tz": "UTC", "at": "06:00", "every": 1})
    first = run_request(dataset=dataset)
    wait_for(lambda: Run.objects.filter(pk=first.pk).exclude(state__in=ACTIVE_STATES).exists(),
             90, "the first run")
    first.refresh_from_db()
    assert first.state == RunState.SUCCEEDED, first.error

    sandbox.config.latency_ms = 1500  # slow pages: the restart lands mid-pull
    run = run_request(dataset=dataset)
    wait_for(lambda: Run.objects.filter(pk=run.pk).filter(
        Q(state=RunState.RUNNING) | ~Q(state__in=ACTIVE_STATES)).exists(),
        60, "the run to start")
    run.refresh_from_db()
    assert run.state == RunState.RUNNING, (run.state, run.error)
    version, cluster = _postgres_cluster()
    connections.close_all()
    try:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster,
                        "restart"], check=True, capture_output=True, timeout=120)
    finally:
        wait_for(_postgres_ready, 60, "PostgreSQL to accept connections again")
        # This process's connection died with the server: drop it so the next query (and
        # the suite's teardown) opens a fresh one.
        connections.close_all()
    sandbox.config.latency_ms = 0

    # Within minutes every run ends: finished by the worker, or failed by runs_reap_stale once
    # its heartbeat is older than RUN_STALE_AFTER (shrunk here).
    settings.RUN_STALE_AFTER = timedelta(seconds=5)

    def settled() -> bool:
        runs_reap_stale()
        return not Run.objects.filter(state__in=ACTIVE_STATES).exists()

    wait_for(settled, 180, "every run to reach a final state")
    run.refresh_from_db()
    dataset.refresh_from_db()
    assert run.state in (RunState.SUCCEEDED, RunState.FAILED)
    if run.state == RunState.FAILED:
        assert run.error and "Traceback" not in run.error
        assert dataset.current_version_id == first.version_id
    else:
        assert dataset.current_version_id == run.version_id
    # No version is half-visible: each recorded version reads back whole.
    for version in dataset.versions.all():
        assert len(_sids(dataset, version.delta_version)) == version.rows

    # Scheduled runs resume on the restarted database.
    Schedule.objects.filter(dataset=scheduled).update(
        next_run_at=timezone.now() - timedelta(minutes=1)
    )
    assert dispatch_due() == 1
    resumed = Run.objects.filter(dataset=scheduled).first()
    wait_for(lambda: Run.objects.filter(pk=resumed.pk).exclude(state__in=ACTIVE_STATES).exists(),
             90, "the scheduled run")
    resumed.refresh_from_db()
    assert resumed.state == RunState.SUCCEEDED, resumed.error
    security_figures.add("faults.database_restarts_survived")
