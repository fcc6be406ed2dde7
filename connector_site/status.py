"""The operations page: database, broker, worker heartbeats, beat tick. Staff only.

`/status.json` is the twin for monitors: HTTP 200 when everything is fresh, 503 otherwise.
"""

import hmac
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

FRESH = timedelta(minutes=2)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seen_at: str | None = None
    age_seconds: float | None = None


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Check("database", True, connection.vendor)
    except Exception as exc:  # the page must say what is wrong, not 500
        return Check("database", False, type(exc).__name__)


def _broker() -> Check:
    from connector_site.celery import app as celery_app  # loads Celery on the first visit

    transport = settings.CELERY_BROKER_URL.split("://", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return Check("broker", True, transport)
    except Exception as exc:  # unreachable broker: report it
        return Check("broker", False, f"{transport}: {type(exc).__name__}")


def _heartbeats() -> list[Check]:
    from scheduler.models import Heartbeat, HeartbeatKind

    now = timezone.now()
    checks = []
    beats = list(Heartbeat.objects.all())
    for kind in (HeartbeatKind.WORKER, HeartbeatKind.BEAT):
        rows = [b for b in beats if b.kind == kind]
        if not rows:
            checks.append(Check(kind.label.lower(), False, "never seen"))
        for b in rows:
            age = (now - b.seen_at).total_seconds()
            checks.append(
                Check(
                    f"{kind.value} {b.name}",
                    age < FRESH.total_seconds(),
                    kind.label,
                    b.seen_at.isoformat(),
                    round(age, 1),
                )
            )
    return checks


def collect() -> list[Check]:
    checks = [_database(), _broker()]
    try:
        checks += _heartbeats()
    except Exception as exc:  # the database is down: already reported above
        checks.append(Check("heartbeats", False, type(exc).__name__))
    return checks


def _healthy(checks: list[Check]) -> bool:
    # A worker that stopped long ago may linger in the table; one fresh worker is enough.
    workers = [c for c in checks if c.name.startswith("worker ")]
    others = [c for c in checks if not c.name.startswith("worker ")]
    return all(c.ok for c in others) and any(c.ok for c in workers)


@staff_member_required
def status_page(request: HttpRequest) -> HttpResponse:
    checks = collect()
    return render(request, "status.html", {"checks": checks, "healthy": _healthy(checks)})


def _monitor_token_ok(request: HttpRequest) -> bool:
    """Monitors cannot sign in: they send `Authorization: Bearer <STATUS_TOKEN>`."""
    expected = settings.STATUS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@login_not_required
def status_json(request: HttpRequest) -> HttpResponse:
    staff = request.user.is_authenticated and request.user.is_staff
    if not staff and not _monitor_token_ok(request):
        return JsonResponse({"error": "staff session or monitor token required"}, status=403)
    checks = collect()
    healthy = _healthy(checks)
    return JsonResponse(
        {"healthy": healthy, "checks": [asdict(c) for c in checks]}, status=200 if healthy else 503
    )
