"""Helpers shared by the DataSets tab and a DataSet's page: presentation only, no rules."""

from datetime import datetime

from django.core.exceptions import BadRequest, ObjectDoesNotExist
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from datacenter import selectors, tables
from datacenter.models import DataSet, Version
from datacenter.pulls import PullSetupError, date_block_from, pull_request_for
from scheduler import selectors as run_selectors
from scheduler.models import Run, Schedule
from scheduler.recurrence import describe
from twilio_reports.describe import request_in_words
from web.params import whole_number


def schedule_of(dataset: DataSet) -> Schedule | None:
    # The reverse one-to-one raises when a DataSet has no schedule row yet (created elsewhere).
    try:
        return dataset.schedule
    except ObjectDoesNotExist:
        return None


def next_run_of(dataset: DataSet) -> datetime | None:
    """The next time the dispatcher will start it: the next scheduled run or a pending retry."""
    schedule = schedule_of(dataset)
    if schedule is None:
        return None
    times = [t for t in (schedule.next_run_at, schedule.retry_at) if t is not None]
    return min(times) if times else None


def schedule_words(dataset: DataSet) -> str:
    schedule = schedule_of(dataset)
    if schedule is None or not schedule.spec:
        return "Manually"
    try:
        return describe(schedule.spec)
    except Exception:  # noqa: BLE001 - a spec saved by an older form must not break the page
        return "Schedule needs attention: open Edit to set it again"


def last_run_of(dataset: DataSet) -> Run | None:
    """The DataSet's latest run, read once per request (kept on the instance)."""
    if not hasattr(dataset, "last_run"):
        dataset.last_run = run_selectors.run_latest(dataset=dataset)
    return dataset.last_run


def is_active(dataset: DataSet) -> bool:
    return run_selectors.run_is_active(last_run_of(dataset))


def chosen_version(request: HttpRequest, dataset: DataSet) -> Version | None:
    """`?version=N` (any version of this DataSet) or the current one; None when there is none.

    A malformed number is a 400, an unknown one a 404: never a 500.
    """
    raw = request.GET.get("version", "").strip()
    if not raw:
        return dataset.current_version
    number = whole_number(raw, max_digits=9)
    if number is None:
        raise BadRequest("The version must be a whole number.")
    return selectors.version_get(dataset=dataset, number=number)


def safe_next(request: HttpRequest, fallback: str = "datasets") -> str:
    """Where to go back after a POST: the posted `next` when it is one of our own URLs."""
    target = request.POST.get("next", "")
    # Only a path of this site: a bare word ("0", "a:b") would be taken by redirect() for a
    # view name and raise (a 500), and "//host" or a scheme could lead elsewhere.
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return reverse(fallback)


def asks_for(dataset: DataSet) -> str:
    """What the DataSet asks Twilio for, in words: report, filters, window, zone."""
    try:
        request = pull_request_for(dataset)
    except (PullSetupError, ValueError, KeyError):
        return dataset.get_report_display()
    block = date_block_from(dataset.params) if request.window is not None else None
    return request_in_words(request, block)


def is_paused(dataset: DataSet) -> bool:
    """No account (it was deleted): nothing can run until one is chosen in Edit."""
    return dataset.account_id is None


def header_context(dataset: DataSet, tab: str) -> dict:
    """What the shared header partial (templates/web/_dataset_header.html) shows."""
    return {
        "dataset": dataset,
        "tab": tab,
        "nav": "datasets",
        "version": dataset.current_version,
        "schedule_words": schedule_words(dataset),
        "next_run": next_run_of(dataset),
        "active": is_active(dataset),
        "paused": is_paused(dataset),
        "asks_for": asks_for(dataset),
        # For other tools (DuckDB, pandas, Spark): where the Delta table is. Owner only, as
        # every DataSet page.
        "table_location": tables.table_uri(dataset.pk),
    }
