"""3. Browse: the Data tab on a 1,000,000-row version, through the real view.

"cold" = the process's caches of that version dropped first (datacenter.tables._store.forget:
Delta log, parquet footers, sort orders, search masks), i.e. the first request after a
restart or for a new version; "warm" = the same request again. Sorts and searches use a
different column / needle on each cold run, so no run benefits from another's work.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from bench import django_env as dj
from bench.fixtures import calls_version

SORTS = (("start_time", True), ("duration", False), ("price", False), ("to", False),
         ("status", True), ("date_created", False), ("from", True))
NEEDLES = ("no-answer", "+1415", "machine", "+4420", "CA1f", "zzz-nothing", "outbound-dial")


def run(config: dict[str, Any]) -> dict[str, Any]:
    uri = calls_version(config["work"], int(config["rows"]))
    dj.setup(config["work"], "browse")
    from django.urls import reverse

    from datacenter import tables
    from datacenter.tables import _store

    user = dj.make_user()
    dataset = dj.dataset_with_table(user, dj.make_account(user), uri)
    client = dj.logged_in_client(user)
    base = reverse("dataset-data", args=[dataset.pk])
    table = tables.table_uri(dataset.pk)
    reps = int(config.get("reps", 5))

    def url(**params: Any) -> str:
        return f"{base}?{urlencode(params)}"

    def cold(target: str) -> dj.Hit:
        _store.forget(table)
        return dj.get(client, target)

    out: dict[str, Any] = {"rows": dataset.current_version.rows}
    dj.get(client, url(view="table"))  # imports, templates and URL resolver loaded once
    out["first_page_cold"] = dj.series(dj.repeat(reps, lambda _: cold(url(view="table"))))
    out["first_page_warm"] = dj.series(dj.repeat(reps, lambda _: dj.get(client, url(view="table"))))
    sorts = [SORTS[i % len(SORTS)] for i in range(reps)]
    out["sorted_cold"] = dj.series([
        cold(url(view="table", sort=c, desc="1" if d else "0")) for c, d in sorts])
    out["sorted_cold"]["columns"] = [c + (" desc" if d else "") for c, d in sorts]
    out["sorted_next_page_warm"] = dj.series(dj.repeat(reps, lambda i: dj.get(
        client, url(view="table", sort="from", desc="1", page=i + 2))))
    needles = [NEEDLES[i % len(NEEDLES)] for i in range(reps)]
    out["search_cold"] = dj.series([cold(url(view="table", q=n)) for n in needles])
    out["search_cold"]["needles"] = needles
    out["search_cold"]["matches"] = {
        n: tables.read_page(table, 0, offset=0, limit=0, search=n).total for n in needles}
    stats_reps = max(1, reps // 2)
    out["stats_cold"] = dj.series(dj.repeat(stats_reps, lambda _: cold(url(view="stats"))))
    out["stats_warm"] = dj.series(
        dj.repeat(stats_reps, lambda _: dj.get(client, url(view="stats"))))
    return out
