"""5. Dispatch: 5,000 DataSets due in the same minute, one dispatcher tick with a second
tick racing it on another thread (its own database connection), publishing for real.

Counted afterwards: runs per DataSet (must be exactly one each) and messages the broker
received (files in the filesystem broker's queue folder, or the Redis list length)."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import django_env as dj


def _due_datasets(user: Any, account: Any, count: int, due_at: Any) -> None:
    from datacenter.models import DataSet
    from scheduler.models import Schedule
    from scheduler.recurrence import to_rule

    datasets = DataSet.objects.bulk_create([
        DataSet(owner=user, account=account, name=f"Due {i:05d}", report="calls",
                params={"filters": {}}, time_zone="UTC") for i in range(count)])
    rule = to_rule(dj.DAILY)
    assert rule is not None
    Schedule.objects.bulk_create([
        Schedule(dataset=d, spec=dj.DAILY, rule=rule.to_dict(), next_run_at=due_at)
        for d in datasets])


def _published(var: Path) -> int | None:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if url.startswith("filesystem://"):
        return sum(1 for _ in (var / "broker" / "queue").iterdir())
    try:
        import redis

        return int(redis.Redis.from_url(url).llen("celery"))
    except Exception:  # noqa: BLE001 - a count we cannot read is reported as unknown
        return None


def run(config: dict[str, Any]) -> dict[str, Any]:
    var = dj.setup(config["work"], "dispatch")
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from scheduler.models import Run
    from scheduler.services import dispatch_due

    user = dj.make_user()
    count = int(config["datasets"])
    now = timezone.now().replace(second=30, microsecond=0)
    _due_datasets(user, dj.make_account(user), count, now - timedelta(seconds=20))
    claimed: dict[str, int] = {}
    errors: list[str] = []

    def tick(name: str) -> None:
        try:
            claimed[name] = dispatch_due(now=now)
        except Exception as exc:  # noqa: BLE001 - reported, and fails the check below
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
        finally:
            if name == "racing":
                connection.close()  # the thread's own connection

    racer = threading.Thread(target=tick, args=("racing",))
    began = time.perf_counter()
    racer.start()
    tick("main")
    racer.join()
    seconds = time.perf_counter() - began
    per_dataset = Run.objects.values("dataset_id").annotate(n=Count("id"))
    duplicates = per_dataset.filter(n__gt=1).count()
    with_run = per_dataset.count()
    return {
        "datasets": count, "seconds": seconds, "claimed": claimed, "errors": errors,
        "runs": Run.objects.count(), "datasets_with_a_run": with_run,
        "duplicates": duplicates, "published": _published(var),
        "broker": os.environ.get("CELERY_BROKER_URL", "").split("://")[0],
        "ok": not errors and duplicates == 0 and with_run == count,
    }
