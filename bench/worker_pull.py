"""What a worker runs for a DataSet's run, in a process of its own (the Memory scenario).

Django set up in a temporary VAR_DIR (SQLite, filesystem broker), a saved sandbox account,
a Calls DataSet of the main account over the sandbox's 30-day window, a queued run, then
`scheduler.services.runs.run_execute` (the body of the Celery task): the pull into staging,
one Delta version, the run's record. Peak RSS is this process's; seconds are run_execute's.
The version's table is moved to `table_uri` for the scenarios that read it.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

from bench import django_env
from bench.harness import RssSampler, peak_rss_mb, rss_mb
from bench.sandbox import MAX_IN_FLIGHT
from twilio_reports.sandbox import MAIN_FRIENDLY_NAME

WINDOW = {"duration": "range", "start_mode": "relative", "start_days_back": 29,
          "end_mode": "relative", "end_days_back": 0}


def run(config: dict[str, Any]) -> dict[str, Any]:
    os.environ["TWILIO_SANDBOX_URL"] = config["url"]
    django_env.setup(config["work"], "worker")
    from datacenter import tables
    from datacenter.models import DataSet
    from scheduler.models import Run, RunState, RunTrigger
    from scheduler.services.runs import run_execute

    user = django_env.make_user()
    account = django_env.make_account(user)
    account.max_in_flight = MAX_IN_FLIGHT
    account.save(update_fields=["max_in_flight"])
    dataset = DataSet.objects.create(
        owner=user, account=account, name="Calls", report="calls", time_zone="UTC",
        params={"filters": {"account_name": MAIN_FRIENDLY_NAME}, "dates": WINDOW})
    run = Run.objects.create(dataset=dataset, trigger=RunTrigger.MANUAL, state=RunState.QUEUED)
    start_rss = rss_mb()
    began = time.perf_counter()
    with RssSampler() as sampler:
        run_execute(run_id=run.pk)
    seconds = time.perf_counter() - began
    run.refresh_from_db()
    if run.state != RunState.SUCCEEDED:
        raise RuntimeError(f"the run ended {run.state}: {run.error}")
    if config.get("table_uri"):
        shutil.move(tables.table_uri(dataset.pk), config["table_uri"])
    return {"method": "worker run", "rows": run.rows, "pages": run.pages, "seconds": seconds,
            "rows_per_s": run.rows / seconds, "start_rss_mb": start_rss,
            "sampled_peak_rss_mb": sampler.peak, "peak_rss_mb": peak_rss_mb(),
            "accounts": f"{run.accounts_done}/{run.accounts_total}"}
