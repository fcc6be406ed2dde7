"""6. Pages: the DataSets tab with 1,000 DataSets, and a DataSet's page (Overview, History).

The 1,000 DataSets each have a current version, a last run and a daily schedule; their
versions' sparklines are already cached (as after the first view of each), so the figures
are the tab's steady state. The DataSet's page belongs to a DataSet with the real
1,000,000-row version: its first view computes the headline figures, later ones read them.
"""

from __future__ import annotations

import random
from typing import Any

from bench import django_env as dj
from bench.fixtures import calls_version

STATES = ("succeeded",) * 8 + ("failed", "running")


def _many_datasets(user: Any, account: Any, count: int) -> None:
    from django.utils import timezone

    from datacenter.models import DataSet, Version
    from scheduler.models import Run, Schedule
    from scheduler.recurrence import next_runs, to_rule
    from twilio_reports.definitions import REPORTS

    rng = random.Random(7)
    now = timezone.now()
    reports = list(REPORTS)
    datasets = DataSet.objects.bulk_create([
        DataSet(owner=user, account=account if i % 50 else None, name=f"DataSet {i:04d}",
                report=reports[i % len(reports)], params={"filters": {}}, time_zone="UTC")
        for i in range(count)])
    columns = [[c.name, c.type] for c in REPORTS["calls"].columns]
    versions = Version.objects.bulk_create([
        Version(dataset=d, number=1, delta_version=0, rows=rng.randrange(10**6),
                columns=columns, bytes=rng.randrange(10**8),
                metrics={"sparkline": {"tz": "UTC",
                                       "counts": [rng.randrange(5000) for _ in range(30)]}})
        for d in datasets])
    # Each DataSet's last run is its latest Run row (scheduler.selectors derives it).
    Run.objects.bulk_create([
        Run(dataset=d, trigger="scheduled", state=STATES[i % len(STATES)], started_at=now,
            finished_at=None if STATES[i % len(STATES)] == "running" else now,
            rows=rng.randrange(10**6), version=v)
        for i, (d, v) in enumerate(zip(datasets, versions, strict=True))])
    for d, v in zip(datasets, versions, strict=True):
        d.current_version, d.last_success_at = v, now
    DataSet.objects.bulk_update(datasets, ["current_version", "last_success_at"])
    rule = to_rule(dj.DAILY)
    assert rule is not None
    upcoming = next_runs(rule, after=now, count=1)[0]
    Schedule.objects.bulk_create([
        Schedule(dataset=d, spec=dj.DAILY, rule=rule.to_dict(), next_run_at=upcoming)
        for d in datasets])


def run(config: dict[str, Any]) -> dict[str, Any]:
    uri = calls_version(config["work"], int(config["rows"]))
    dj.setup(config["work"], "pages")
    from django.urls import reverse

    user = dj.make_user()
    account = dj.make_account(user)
    count = int(config["datasets"])
    _many_datasets(user, account, count - 1)
    big = dj.dataset_with_table(user, account, uri, name="Calls (real 1M version)")
    client = dj.logged_in_client(user)
    reps = int(config.get("reps", 7))
    tab = reverse("datasets")
    out: dict[str, Any] = {"datasets": count, "version_rows": big.current_version.rows}
    out["datasets_tab_first"] = dj.series([dj.get(client, tab)])
    out["datasets_tab"] = dj.series(dj.repeat(reps, lambda _: dj.get(client, tab)))
    out["datasets_tab_sorted_rows_page_10"] = dj.series(dj.repeat(
        reps, lambda _: dj.get(client, f"{tab}?sort=-rows&page=10")))
    page = reverse("dataset", args=[big.pk])
    out["dataset_page_first"] = dj.series([dj.get(client, page)])
    out["dataset_page"] = dj.series(dj.repeat(reps, lambda _: dj.get(client, page)))
    history = reverse("dataset-history", args=[big.pk])
    out["history_tab"] = dj.series(dj.repeat(reps, lambda _: dj.get(client, history)))
    return out
