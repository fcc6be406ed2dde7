"""7. Charts: the Charts tab on the 1,000,000-row version, first view and cached views.

First = no metrics cached on the Version row and the table caches dropped, so the view
reads the version and computes every chart; later views read the cached JSON."""

from __future__ import annotations

from typing import Any

from bench import django_env as dj
from bench.fixtures import calls_version


def run(config: dict[str, Any]) -> dict[str, Any]:
    uri = calls_version(config["work"], int(config["rows"]))
    dj.setup(config["work"], "charts")
    from django.urls import reverse

    from datacenter import tables
    from datacenter.models import Version
    from datacenter.tables import _store

    user = dj.make_user()
    dataset = dj.dataset_with_table(user, dj.make_account(user), uri)
    client = dj.logged_in_client(user)
    url = reverse("dataset-charts", args=[dataset.pk])
    reps = int(config.get("reps", 5))
    dj.get(client, reverse("dataset-history", args=[dataset.pk]))  # warm imports/templates

    def first(_: int) -> dj.Hit:
        Version.objects.filter(pk=dataset.current_version_id).update(metrics=None)
        _store.forget(tables.table_uri(dataset.pk))
        return dj.get(client, url)

    firsts = dj.repeat(max(1, reps // 2), first)
    cached = dj.repeat(reps, lambda _: dj.get(client, url))
    return {"rows": dataset.current_version.rows, "first": dj.series(firsts),
            "cached": dj.series(cached), "html_kb": cached[-1].bytes / 1024}
