"""A DataSet's page: Overview (live progress), Data, Charts, History; Run Now and Delete."""

import zoneinfo

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
from web.params import whole_number
from web.views._common import chosen_version, header_context, last_run_of
from web.views.cells import format_row

DATA_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 50
DATA_VIEWS = ("table", "schema", "stats")
MAX_SEARCH = 200


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


def _whole_number(request: HttpRequest, name: str, default: int) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    number = whole_number(raw, max_digits=9)
    return number if number is not None and number >= 1 else None


@require_GET
def data(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
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
            context |= _table_context(request, uri, shown)
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


def _table_context(request: HttpRequest, uri: str, version: Version) -> dict:
    """Validate paging/sort/search parameters (bad ones fall back, with a message) and read."""
    names = [name for name, _ in version.columns]
    sort = request.GET.get("sort", "").strip() or None
    if sort is not None and sort not in names:
        messages.warning(request, f"There is no column “{sort[:60]}”; the table is unsorted.")
        sort = None
    descending = request.GET.get("desc") == "1"
    search = request.GET.get("q", "").strip()[:MAX_SEARCH]
    number = _whole_number(request, "page", 1)
    if number is None:
        messages.warning(request, "The page must be a whole number from 1; showing page 1.")
        number = 1
    page = _read(uri, version, number, sort, descending, search)
    last = max(1, -(-page.total // DATA_PAGE_SIZE))
    if number > last:
        messages.info(request, f"There are only {last} page(s); showing the last one.")
        number = last
        page = _read(uri, version, number, sort, descending, search)
    kinds = [kind for _, kind in page.columns]
    return {
        "columns": page.columns,
        "rows": [format_row(row, kinds) for row in page.rows],
        "total": page.total,
        "page_number": number,
        "last_page": last,
        "first_row": (number - 1) * DATA_PAGE_SIZE + 1 if page.total else 0,
        "last_row": min(number * DATA_PAGE_SIZE, page.total),
        "sort": sort,
        "descending": descending,
        "search": search,
    }


def _read(uri: str, version: Version, number: int, sort, descending: bool, search: str):
    return tables.read_page(
        uri,
        version.delta_version,
        offset=(number - 1) * DATA_PAGE_SIZE,
        limit=DATA_PAGE_SIZE,
        sort=sort,
        descending=descending,
        search=search or None,
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
            context |= {"charts": found, "charts_json": charts_to_jsonable(found)}
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
    }
    return render(request, "web/dataset_history.html", context)


# --- Actions ----------------------------------------------------------------------------------


@require_POST
def run_now(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    try:
        run_request(dataset=dataset)
    except RunAlreadyActive:
        messages.info(
            request, f"“{dataset.name}” is already queued or running; nothing new was queued."
        )
    else:
        messages.success(request, f"“{dataset.name}” is queued; progress shows below.")
    return redirect("dataset", pk=dataset.pk)


@require_POST
def refresh_everything(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    try:
        run_request_full(dataset=dataset)
    except RunAlreadyActive:
        messages.info(
            request, f"“{dataset.name}” is already queued or running; nothing new was queued."
        )
    else:
        messages.success(request, f"“{dataset.name}” is queued to pull its whole window again.")
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
