"""4. Export: the CSV download of the 1,000,000-row version through the real view.

The streamed body is consumed chunk by chunk (as a browser download would), so the
process's peak RSS is what the server needs, not a copy of the file."""

from __future__ import annotations

from typing import Any

from bench import django_env as dj
from bench.fixtures import calls_version
from bench.harness import RssSampler, rss_mb


def run(config: dict[str, Any]) -> dict[str, Any]:
    uri = calls_version(config["work"], int(config["rows"]))
    dj.setup(config["work"], "export")
    from django.urls import reverse

    user = dj.make_user()
    dataset = dj.dataset_with_table(user, dj.make_account(user), uri)
    client = dj.logged_in_client(user)
    url = reverse("dataset-export", args=[dataset.pk])
    rows = dataset.current_version.rows
    before = rss_mb()
    with RssSampler() as sampler:
        hit = dj.get(client, url, stream=True)
    return {"rows": rows, "seconds": hit.ms / 1000, "rows_per_s": rows / (hit.ms / 1000),
            "csv_mb": hit.bytes / 2**20, "queries": hit.queries,
            "rss_before_mb": before, "sampled_peak_rss_mb": sampler.peak,
            "rss_growth_mb": sampler.peak - before}
