"""The DataSets tab: every DataSet of the user, filtered, searched, sorted; bulk Run Now."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from datacenter import selectors, version_figures
from datacenter.models import DataSet
from scheduler import selectors as run_selectors
from scheduler.services import RunAlreadyActive, run_request
from web.params import whole_number
from web.views._common import next_run_of, safe_next

PAGE_SIZE = 50
QUICK_FILTERS = (("all", "All"), ("recent", "Recently run"), ("attention", "Needs attention"))
SORTS = (("name", "Name"), ("rows", "Rows"), ("last_run", "Last run"), ("status", "Status"))


@dataclass(frozen=True)
class Row:
    dataset: DataSet
    spark: list[int]
    next_run: datetime | None
    needs_attention: bool


@require_GET
def dataset_list(request: HttpRequest) -> HttpResponse:
    quick = request.GET.get("quick", "all")
    if quick not in run_selectors.DATASET_FILTERS:
        quick = "all"
    sort = request.GET.get("sort", "name")
    if sort not in run_selectors.DATASET_SORTS:
        sort = "name"
    # PostgreSQL refuses NUL in a text parameter (a 500): it is never part of a name anyway.
    search = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    datasets = run_selectors.dataset_list(owner=request.user, quick=quick, search=search, sort=sort)
    page = Paginator(datasets, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = run_selectors.last_runs_attach(page.object_list)
    lines = version_figures.sparklines(shown)
    rows = [
        Row(
            d,
            lines.get(d.pk, []),
            next_run_of(d),
            run_selectors.dataset_needs_attention(d, d.last_run),
        )
        for d in shown
    ]
    return render(
        request,
        "web/dataset_list.html",
        {
            "nav": "datasets",
            "page": page,
            "rows": rows,
            "quick": quick,
            "sort": sort,
            "search": search,
            "quick_filters": QUICK_FILTERS,
            "sorts": SORTS,
            # Without filters an empty list means "nothing created yet", not "nothing matched".
            "filtered": bool(search) or quick != "all",
        },
    )


@require_POST
def bulk_run(request: HttpRequest) -> HttpResponse:
    ids = [n for n in map(whole_number, request.POST.getlist("ids")) if n is not None]
    back = safe_next(request)
    if not ids:
        messages.info(request, "Tick the DataSets to run first.")
        return HttpResponseRedirect(back)
    queued: list[str] = []
    busy: list[str] = []
    for dataset in selectors.datasets_owned(owner=request.user, ids=ids):
        try:
            run_request(dataset=dataset)
            queued.append(dataset.name)
        except RunAlreadyActive:
            busy.append(dataset.name)
    if queued:
        messages.success(request, f"Queued {len(queued)} run(s): {', '.join(queued)}.")
    if busy:
        messages.info(
            request,
            f"Already running (nothing new queued): {', '.join(busy)}.",
        )
    if not queued and not busy:
        messages.warning(request, "None of the ticked DataSets could be found.")
    return HttpResponseRedirect(back)
