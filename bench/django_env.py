"""A throw-away Django installation for the server-side scenarios.

Everything lives in a temporary VAR_DIR (SQLite database, DataSet tables, filesystem
broker), set before django.setup() so the settings module builds its paths there. Requests
go through django.test.Client with a logged-in user: middleware, view, template and all.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import median


def setup(work: str | Path, name: str) -> Path:
    var = Path(tempfile.mkdtemp(prefix=f"{name}-var-", dir=work))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "connector_site.settings",
        "VAR_DIR": str(var),
        # A temporary SQLite file whatever .env says: the figures must not touch real data.
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
        "DATASET_STORAGE_URI": str(var / "datasets"),
        "CELERY_BROKER_DIR": str(var / "broker"),
        "CELERY_BROKER_URL": os.environ.get("REDIS_URL") or "filesystem://",
        "LOG_LEVEL": "WARNING",
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return var


def make_user() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("bench", "bench@example.com", "bench-pass-1")


def make_account(user: Any) -> Any:
    from datacenter import services
    from datacenter.models import Region
    from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

    return services.account_create(owner=user, name="Sandbox", account_sid=MAIN_ACCOUNT_SID,
                                   secret=MAIN_AUTH_TOKEN, region=Region.SANDBOX,
                                   checked_ok=True)


DAILY = {"kind": "daily", "at": "06:00", "tz": "UTC"}


def dataset_with_table(user: Any, account: Any, uri: str, name: str = "Calls 1M") -> Any:
    """A Calls DataSet whose current version is version 0 of the Delta table at `uri`.

    The table folder is linked (not copied) where table_uri() expects it."""
    from django.utils import timezone

    from datacenter import tables
    from datacenter.models import DataSet, Version
    from scheduler.models import Run, RunState, RunTrigger
    from scheduler.services import schedule_save

    dataset = DataSet.objects.create(owner=user, account=account, name=name, report="calls",
                                     params={"filters": {}}, time_zone="UTC")
    Path(tables.table_uri(dataset.pk)).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(uri, tables.table_uri(dataset.pk))
    columns = tables.version_schema(uri, 0)
    now = timezone.now()
    run = Run.objects.create(dataset=dataset, trigger=RunTrigger.SCHEDULED,
                             state=RunState.SUCCEEDED, started_at=now, finished_at=now)
    version = Version.objects.create(
        dataset=dataset, number=1, delta_version=0,
        rows=tables.read_page(uri, 0, offset=0, limit=0).total,
        columns=[list(c) for c in columns], bytes=0)
    Run.objects.filter(pk=run.pk).update(version=version)
    DataSet.objects.filter(pk=dataset.pk).update(current_version=version, last_success_at=now)
    schedule_save(dataset=dataset, spec=DAILY)
    dataset.refresh_from_db()
    return dataset


def logged_in_client(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@dataclass
class Hit:
    ms: float
    queries: int
    status: int
    bytes: int


def get(client: Any, url: str, *, stream: bool = False) -> Hit:
    """One GET, timed from request to the last byte, with the SQL queries it made."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        began = time.perf_counter()
        response = client.get(url)
        size = 0
        if stream and getattr(response, "streaming", False):
            for chunk in response.streaming_content:  # consumed chunk by chunk: flat memory
                size += len(chunk)
        else:
            size = len(response.content)
        ms = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return Hit(ms, len(ctx.captured_queries), response.status_code, size)


def series(hits: list[Hit]) -> dict[str, Any]:
    return {"median_ms": median([h.ms for h in hits]), "runs_ms": [round(h.ms, 1) for h in hits],
            "queries": max(h.queries for h in hits) if hits else None}


def repeat(n: int, fn: Callable[[int], Hit]) -> list[Hit]:
    return [fn(i) for i in range(n)]
