"""No Twilio secret ever leaves memory: not in the database (every table through Django,
and `pg_dump` on PostgreSQL), the logs, a page, a CSV, the broker's messages (every key of a
Redis broker before and after the runs, or the filesystem transport's queue) or an e-mail.

The sandbox's tokens are the needles: the main account's auth token, an API key secret, and
the three subaccounts' tokens, which Twilio itself sends in every Accounts list (the Accounts
report and the per-account reports read them; both must drop them). Accounts are saved
through the real views, all seven reports run through a real worker on the real broker, and
then everything the product wrote is searched for each token and its Basic-auth form.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from celery.signals import before_task_publish
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from connector_site.pytest_plugin import need, need_postgres, need_redis, wait_for
from datacenter import tables
from datacenter.models import DataSet, TwilioAccount, Version
from datacenter.tests.factories import dataset_make, user_make
from scheduler.models import ACTIVE_STATES, Run, RunState
from scheduler.services import run_request
from tests.support import fill, named_urls
from twilio_reports.definitions import REPORTS
from twilio_reports.sandbox import (
    MAIN_ACCOUNT_SID,
    MAIN_API_KEY_SECRET,
    MAIN_API_KEY_SID,
    MAIN_AUTH_TOKEN,
    SUBACCOUNTS,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SECRETS = {
    "main auth token": (MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN),
    "API key secret": (MAIN_API_KEY_SID, MAIN_API_KEY_SECRET),
    **{f"subaccount {name} token": (sid, token) for sid, token, name in SUBACCOUNTS},
}


def _needles() -> dict[str, str]:
    """Each secret as typed, and inside an HTTP Basic Authorization value."""
    out = {}
    for label, (user, secret) in SECRETS.items():
        out[label] = secret
        out[f"{label} (Basic auth)"] = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return out


def _find(haystack: dict[str, str]) -> list[tuple[str, str]]:
    needles = _needles()
    return [
        (where, label)
        for where, text in haystack.items()
        for label, needle in needles.items()
        if needle in text
    ]


# --- Where secrets could end up ----------------------------------------------------------------


def _database_dump() -> dict[str, str]:
    """Every row of every table, every column, as text (a pg_dump-like SELECT *); session
    data is decoded too, since it is stored base64-encoded."""
    out = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - table names from introspection
            rows = cursor.fetchall()
            out[f"table {table}"] = "\n".join(
                "\t".join(
                    bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                    for v in row
                )
                for row in rows
            )
            if table == "django_session":
                out["sessions decoded"] = "\n".join(
                    json.dumps(SessionStore().decode(row[1]), default=str) for row in rows
                )
    return out


def _postgres_dump() -> dict[str, str]:
    """`pg_dump` of the test database, when it is PostgreSQL: what a backup would hold,
    read by PostgreSQL's own tool rather than through Django (large objects, sequences,
    every schema). Nothing when the tests run on SQLite."""
    if connection.vendor != "postgresql":
        return {}
    need(shutil.which("pg_dump") is not None, "pg_dump is not installed (postgresql-client)")
    s = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": s.get("PASSWORD") or ""}
    done = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", "-h", s["HOST"] or "127.0.0.1",
         "-p", str(s["PORT"] or 5432), "-U", s["USER"], s["NAME"]],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )
    assert "COPY " in done.stdout, "pg_dump printed no table data"
    return {"pg_dump": done.stdout}


def _redis_dump(url: str, label: str) -> dict[str, str]:
    """Every key of the broker's Redis database, whatever its type (queues, the unacked
    hash and index, bindings, results), with kombu's base64 message bodies decoded."""
    import redis

    r = redis.Redis.from_url(url)
    values: dict[str, list[bytes]] = {}
    for key in r.scan_iter(count=1000):
        kind = r.type(key)
        if kind == b"string":
            items = [r.get(key) or b""]
        elif kind == b"list":
            items = r.lrange(key, 0, -1)
        elif kind == b"hash":
            items = [part for pair in r.hgetall(key).items() for part in pair]
        elif kind == b"set":
            items = list(r.smembers(key))
        elif kind == b"zset":
            items = list(r.zrange(key, 0, -1))
        else:
            items = [r.dump(key) or b""]
        values[key.decode("latin-1")] = items
    out = {}
    for key, items in values.items():
        out[f"redis {label} {key}"] = "\n".join(i.decode("latin-1") for i in items)
        bodies = [_decoded_body(i) for i in items]
        out[f"redis {label} {key} (bodies)"] = "\n".join(b for b in bodies if b)
    return out


def _decoded_body(raw: bytes) -> str:
    """The decoded body of a kombu message envelope (also inside the unacked hash's
    [message, exchange, routing key] triples); empty for anything else."""
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    envelope = data[0] if isinstance(data, list) and data else data
    if not isinstance(envelope, dict) or not isinstance(envelope.get("body"), str):
        return ""
    try:
        return base64.b64decode(envelope["body"]).decode("latin-1")
    except ValueError:
        return envelope["body"]


def _broker_messages(url: str) -> dict[str, str]:
    """The raw messages waiting in the broker, and their base64 bodies decoded: every key of
    a Redis broker's database, or the filesystem transport's queue folder."""
    if url.startswith("redis"):
        return _redis_dump(url, "before the worker")
    queue = Path(os.environ["CELERY_BROKER_DIR"]) / "queue"
    out = {}
    for i, path in enumerate(sorted(queue.glob("*.msg"))):
        message = path.read_bytes()
        out[f"broker message {i}"] = message.decode("latin-1")
        out[f"broker message {i} body"] = _decoded_body(message)
    return out


def _pages(client: Client, datasets: list[DataSet], accounts: list[TwilioAccount]
           ) -> Iterator[tuple[str, str]]:
    """Every page of the user: fixed URLs, every URL of each account, DataSet and version,
    the Data tab's three views; CSVs streamed in full."""
    urls = [reverse(u.name) for u in named_urls() if not u.parameterised and u.name != "logout"]
    for u in (u for u in named_urls() if u.parameterised):
        for ds, account in zip(datasets, [accounts[0]] * len(datasets), strict=True):
            numbers = list(Version.objects.filter(dataset=ds).values_list("number", flat=True))
            for number in numbers or [1]:
                urls.append(fill(u, account_pk=account.pk, dataset_pk=ds.pk, number=number))
        for account in accounts[1:]:
            if u.name.startswith("account"):
                urls.append(fill(u, account_pk=account.pk, dataset_pk=0))
    for ds in datasets:
        data = reverse("dataset-data", args=[ds.pk])
        urls += [f"{data}?view=schema", f"{data}?view=stats"]
    for url in dict.fromkeys(urls):
        response = client.get(url)
        # 403: /status.json refuses a non-staff session.
        assert response.status_code in (200, 302, 403, 405), f"GET {url}: {response.status_code}"
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        )
        yield url, body.decode("utf-8", errors="replace")


# --- The test ------------------------------------------------------------------------------------


def test_it_shows_the_search_finds_tokens_where_twilio_sends_them(sandbox):
    # Control: the sandbox's Accounts list carries every subaccount token, so the leak test
    # below searches for values that really pass through the product.
    response = httpx.get(f"{sandbox.url}/2010-04-01/Accounts.json",
                         auth=(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN))
    found = {label for _, label in _find({"accounts list": response.text})}
    assert {f"subaccount {n} token" for _, _, n in SUBACCOUNTS} <= found


def test_it_shows_the_postgres_dump_finds_a_planted_token():
    # Control for the pg_dump place: a token written to a table is found in the dump.
    need_postgres()
    alice = user_make("alice")
    dataset_make(alice, None, name=f"planted {MAIN_AUTH_TOKEN}")
    found = {label for _, label in _find(_postgres_dump())}
    assert "main auth token" in found


def test_it_shows_the_redis_dump_finds_a_planted_token():
    # Control for the Redis places: a token inside a message body (base64, as kombu sends it)
    # in a queue and in the unacked hash is found, as is a plain string key.
    import redis

    url = need_redis()
    r = redis.Redis.from_url(url)
    body = base64.b64encode(json.dumps([[MAIN_API_KEY_SECRET], {}, {}]).encode()).decode()
    envelope = json.dumps({"body": body, "content-encoding": "utf-8", "headers": {}})
    keys = ("leak-control-queue", "leak-control-unacked", "leak-control-string")
    try:
        r.lpush(keys[0], envelope)
        r.hset(keys[1], "tag", json.dumps([json.loads(envelope), "", "celery"]))
        r.set(keys[2], f"x{MAIN_AUTH_TOKEN}x")
        dump = _redis_dump(url, "control")
    finally:
        r.delete(*keys)
    places = {where for where, label in _find(dump)}
    assert f"redis control {keys[0]} (bodies)" in places
    assert f"redis control {keys[1]} (bodies)" in places
    assert f"redis control {keys[2]}" in places


def test_it_leaks_no_token_anywhere(
    broker, celery_worker, sandbox, caplog, settings, security_figures
):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "celery", "kombu", "django", "axes"):
        caplog.set_level(logging.DEBUG, logger=name)
    published: list[tuple[dict, object]] = []

    def capture(sender=None, body=None, headers=None, **_: object) -> None:
        published.append((dict(headers or {}), body))

    before_task_publish.connect(capture, weak=False)
    try:
        haystack = _run_everything(broker, celery_worker, settings, published)
    finally:
        before_task_publish.disconnect(capture)
    haystack["test process log"] = caplog.text + "\n".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    leaks = _find(haystack)
    security_figures.add("leak.places_searched", len(haystack))
    security_figures.add("leak.characters_searched", sum(len(t) for t in haystack.values()))
    security_figures.set("leak.secrets_searched_for", len(_needles()))
    security_figures.add("leak.leaks_found", len(leaks))
    assert leaks == [], leaks

    # Tasks carry ids, never secrets: run_execute task's only argument is the run's id.
    runs = [(h, b) for h, b in published if h.get("task") == "scheduler.tasks.run_execute"]
    assert len(runs) == len(REPORTS) + 1
    for _, (args, kwargs, _embed) in runs:
        assert kwargs == {} and len(args) == 1 and type(args[0]) is int


def _run_everything(broker: str, celery_worker, settings, published: list) -> dict[str, str]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    haystack: dict[str, str] = {}
    alice = user_make("alice")
    client = Client()
    client.force_login(alice)

    # Accounts through the views: "Use the sandbox", and an API key on the Accounts tab.
    sandbox_button = client.post(reverse("connect-twilio"), {"_sandbox": "1"},
                                 HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pane-credentials")
    assert "Connected to Twilio" in sandbox_button.content.decode()
    haystack["connect answer"] = sandbox_button.content.decode()
    added = client.post(reverse("account-add"), {
        "name": "Key", "account_sid": MAIN_ACCOUNT_SID, "key_sid": MAIN_API_KEY_SID,
        "key_secret": MAIN_API_KEY_SECRET, "region": "sandbox",
    })
    assert added.status_code == 302
    # A refused form (the name is taken) with a token typed in: the token is not echoed.
    refused = client.post(reverse("account-add"), {
        "name": "Key", "account_sid": MAIN_ACCOUNT_SID, "auth_token": MAIN_AUTH_TOKEN,
        "region": "sandbox",
    })
    assert refused.status_code == 200
    haystack["refused account form"] = refused.content.decode()
    accounts = list(TwilioAccount.objects.filter(owner=alice).order_by("pk"))
    assert len(accounts) == 2
    for account in accounts:
        client.post(reverse("account-test", args=[account.pk]))

    # One DataSet per report on the token account, and Calls once more on the API key.
    datasets = [
        dataset_make(alice, accounts[0], report=slug, name=f"Leak {slug}") for slug in REPORTS
    ]
    datasets.append(dataset_make(alice, accounts[1], report="calls", name="Leak calls (key)"))

    # Published through the real broker; read back before any worker takes them.
    runs = [run_request(dataset=ds) for ds in datasets]
    assert len(published) >= len(runs)
    haystack.update(_broker_messages(broker))
    assert any(k.startswith(("broker message", "redis ")) and v for k, v in haystack.items()), (
        "nothing reached the broker"
    )
    haystack["published (signal)"] = json.dumps([[h, b] for h, b in published], default=str)

    worker = celery_worker(broker_url=broker, LOG_LEVEL="DEBUG")
    for run in runs:
        wait_for(lambda run=run: Run.objects.filter(pk=run.pk).exclude(
            state__in=ACTIVE_STATES).exists(), 120, f"run {run.pk}")
        run.refresh_from_db()
        assert run.state == RunState.SUCCEEDED, (run.dataset.report, run.error)
        assert run.rows > 0 or run.dataset.report == "notifications", run.dataset.report

    haystack.update(_database_dump())
    haystack.update(_postgres_dump())
    if broker.startswith("redis"):
        # After the runs: what the broker kept (acknowledged leftovers, unacked entries).
        haystack.update(_redis_dump(broker, "after the runs"))
    for url, body in _pages(client, datasets, accounts):
        haystack[f"page {url}"] = body
    for version in Version.objects.filter(dataset__in=datasets):
        table = tables.read_table(tables.table_uri(version.dataset_id), version.delta_version)
        haystack[f"table of {version}"] = json.dumps(table.to_pylist(), default=str)
    haystack["e-mails"] = "\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox)
    haystack["worker log"] = worker.output()
    return haystack
