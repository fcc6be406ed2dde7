"""A DataSet's page: Overview (live progress), Data, Charts, History; Run Now and Delete."""

import zoneinfo
from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from datacenter import selectors, services, tables, version_figures
from datacenter.metrics import charts_to_jsonable
from datacenter.models import DataSet, Version
from scheduler import selectors as run_selectors
from scheduler.models import ACTIVE_STATES, Run
from scheduler.services import RunAlreadyActive, run_request, run_request_full
from twilio_reports.dates import zone
from web.views._common import chosen_version, header_context, last_run_of
from web.views.chart_text import with_colours
from web.views.data_tab import DATA_PAGE_SIZE, add_filter_redirect, table_context  # noqa: F401

HISTORY_PAGE_SIZE = 50
DATA_VIEWS = ("table", "schema", "stats")


# --- Overview ---------------------------------------------------------------------------------


@require_GET
def overview(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    version = dataset.current_version
    headline = []
    if version is not None and version.reclaimed_at is None:
        today = timezone.localdate(timezone=_zone(dataset))
        headline = version_figures.headline(dataset, version, today)
    context = header_context(dataset, "overview") | {
        "run": last_run_of(dataset),
        "headline": headline,
        "progress": progress_payload(last_run_of(dataset)),
    }
    return render(request, "web/dataset_overview.html", context)


def _zone(dataset: DataSet) -> zoneinfo.ZoneInfo:
    try:
        return zone(dataset.time_zone)
    except ValueError:
        return zone("UTC")


def progress_payload(run: Run | None) -> dict:
    """What static/js/progress.js polls: the last run's counters, in plain JSON."""
    if run is None:
        return {"state": None, "active": False}
    end = run.finished_at or timezone.now()
    elapsed = (end - run.started_at).total_seconds() if run.started_at else None
    return {
        "state": run.state,
        "state_label": run.get_state_display(),
        "active": run.state in ACTIVE_STATES,
        "trigger": run.get_trigger_display(),
        "pages": run.pages,
        "rows": run.rows,
        "retries": run.retries,
        "slices_done": run.slices_done,
        "slices_total": run.slices_total,
        "accounts_done": run.accounts_done,
        "accounts_total": run.accounts_total,
        "elapsed_seconds": round(elapsed, 1) if elapsed is not None else None,
        "queued_at": run.queued_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "warnings": list(run.warnings or []),
        "error": run.error,
        # Only the number: the version row itself is read when the run has produced one.
        "version": run.version.number if run.version_id else None,
    }


@require_GET
def progress(request: HttpRequest, pk: int) -> JsonResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    response = JsonResponse(progress_payload(last_run_of(dataset)))
    response["Cache-Control"] = "no-store"
    return response


# --- Data -------------------------------------------------------------------------------------


@require_GET
def data(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    added = add_filter_redirect(request)
    if added is not None:
        return added
    shown = chosen_version(request, dataset)
    view = request.GET.get("view", "table")
    if view not in DATA_VIEWS:
        messages.warning(request, f"There is no “{view[:30]}” view; showing the table.")
        view = "table"
    context = header_context(dataset, "data") | {
        "shown": shown,
        "view": view,
        "versions": _version_numbers(dataset),
    }
    if shown is None:
        return render(request, "web/dataset_data.html", context)
    if shown.reclaimed_at is not None:
        context["reclaimed"] = True
        return render(request, "web/dataset_data.html", context)
    uri = tables.table_uri(dataset.pk)
    try:
        if view == "table":
            context |= table_context(request, dataset, shown)
        elif view == "stats":
            context["stats"] = tables.describe(uri, shown.delta_version)
    except LookupError:
        # Retention removed the files after the page looked the version up.
        context["reclaimed"] = True
    return render(request, "web/dataset_data.html", context)


def _version_numbers(dataset: DataSet) -> list[int]:
    return list(
        Version.objects.filter(dataset=dataset, reclaimed_at__isnull=True).values_list(
            "number", flat=True
        )
    )


# --- Charts -----------------------------------------------------------------------------------


@require_GET
def charts(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    shown = chosen_version(request, dataset)
    context = header_context(dataset, "charts") | {
        "shown": shown,
        "versions": _version_numbers(dataset),
    }
    if shown is not None and shown.reclaimed_at is None:
        try:
            found = version_figures.charts(dataset, shown)
        except LookupError:
            context["reclaimed"] = True
        else:
            context |= {"charts": found, "charts_json": with_colours(charts_to_jsonable(found))}
    elif shown is not None:
        context["reclaimed"] = True
    return render(request, "web/dataset_charts.html", context)


# --- History ----------------------------------------------------------------------------------


@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    runs = Paginator(run_selectors.run_history(dataset=dataset), HISTORY_PAGE_SIZE)
    versions = Paginator(selectors.version_list(dataset=dataset), HISTORY_PAGE_SIZE)
    version_page = versions.get_page(request.GET.get("vpage"))
    version_page.object_list = list(version_page.object_list)
    made_by = run_selectors.runs_by_version(versions=version_page.object_list)
    for version in version_page.object_list:
        version.source_run = made_by.get(version.pk)
    context = header_context(dataset, "history") | {
        "runs": runs.get_page(request.GET.get("page")),
        "version_page": version_page,
        "summary": run_selectors.run_summary(dataset=dataset),
        "now": timezone.now(),
        "excel_max_rows": tables.EXCEL_MAX_ROWS,
    }
    return render(request, "web/dataset_history.html", context)


# --- Actions ----------------------------------------------------------------------------------


@require_POST
def run_now(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    return _queued(request, dataset, run_request, "is queued; progress shows below.")


@require_POST
def refresh_everything(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    return _queued(request, dataset, run_request_full, "is queued to pull its whole window again.")


def _queued(request: HttpRequest, dataset: DataSet, queue: Callable[..., Run],
            done: str) -> HttpResponse:
    if dataset.account_id is None:
        messages.error(request, f"“{dataset.name}” cannot run: its Twilio account was deleted. "
                                "Choose an account in Edit to resume it.")
        return redirect("dataset", pk=dataset.pk)
    try:
        queue(dataset=dataset)
    except RunAlreadyActive:
        messages.info(
            request, f"“{dataset.name}” is already queued or running; nothing new was queued."
        )
    else:
        messages.success(request, f"“{dataset.name}” {done}")
    return redirect("dataset", pk=dataset.pk)


@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    if request.method == "POST":
        name = dataset.name
        services.dataset_delete(dataset=dataset)
        messages.success(request, f"Deleted “{name}” and all its versions.")
        return redirect("datasets")
    context = header_context(dataset, "delete") | {
        "version_count": dataset.versions.count(),
    }
    return render(request, "web/dataset_delete.html", context)
