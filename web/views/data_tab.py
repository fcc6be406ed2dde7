"""The Data tab's table: its query parameters (paging, sort by one or two columns, filters by
column value, search) checked and read; a bad parameter falls back with a message.

Query string: `sort`/`desc` (the column headers), `then`/`then_desc` (the second sort key),
`f=<column>:<value>` repeated (rows whose column equals the value), `q` (search), `page`.
Without a sort the rows are newest first by the report's time (datacenter.tables.read_view).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect, QueryDict

from datacenter import tables
from datacenter.models import DataSet, Version
from datacenter.version_figures import time_column
from web.params import whole_number
from web.views.cells import format_row

DATA_PAGE_SIZE = 50
MAX_SEARCH = 200
MAX_FILTERS = 5
MAX_FILTER_VALUE = 200


def add_filter_redirect(request: HttpRequest) -> HttpResponseRedirect | None:
    """"Add filter" posts `fcol` and `fval` (a GET form): fold them into `f` and start again
    at page 1, so the address lists the filters one way only."""
    if "fcol" not in request.GET:
        return None
    query: QueryDict = request.GET.copy()
    column, value = query.pop("fcol", [""])[-1], query.pop("fval", [""])[-1]
    query.pop("page", None)
    if column:
        query.appendlist("f", f"{column}:{value}")
    return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")


def _sort_keys(request: HttpRequest, names: list[str]) -> list[tuple[str, bool]]:
    keys: list[tuple[str, bool]] = []
    for name_param, desc_param in (("sort", "desc"), ("then", "then_desc")):
        column = request.GET.get(name_param, "").strip()
        if not column:
            continue
        if column not in names:
            messages.warning(request, f"There is no column “{column[:60]}”; not sorted by it.")
            continue
        if column not in (k for k, _ in keys):
            keys.append((column, request.GET.get(desc_param) == "1"))
    return keys


def _filters(request: HttpRequest, version: Version) -> list[tuple[str, str]]:
    kinds = dict(version.columns)
    found: list[tuple[str, str]] = []
    for raw in request.GET.getlist("f")[:MAX_FILTERS]:
        column, sep, value = raw.partition(":")
        if not sep or column not in kinds:
            messages.warning(request, f"There is no column “{column[:60]}” to filter by.")
            continue
        if kinds[column] not in tables.FILTERABLE:
            messages.warning(request, f"“{column}” ({kinds[column]}) cannot be filtered by "
                                      "value; sort by it instead.")
            continue
        found.append((column, value[:MAX_FILTER_VALUE]))
    return found


def table_context(request: HttpRequest, dataset: DataSet, version: Version) -> dict[str, Any]:
    uri = tables.table_uri(dataset.pk)
    names = [name for name, _ in version.columns]
    keys = _sort_keys(request, names)
    filters = _filters(request, version)
    search = request.GET.get("q", "").strip()[:MAX_SEARCH]
    number = whole_number(request.GET.get("page", "").strip() or "1", max_digits=9)
    if number is None or number < 1:
        messages.warning(request, "The page must be a whole number from 1; showing page 1.")
        number = 1
    newest_by = time_column(dataset.report)

    def read(page_number: int) -> tables.Page:
        return tables.read_view(
            uri, version.delta_version, offset=(page_number - 1) * DATA_PAGE_SIZE,
            limit=DATA_PAGE_SIZE, sort=[tables.SortKey(c, d) for c, d in keys],
            filters=filters, search=search or None, newest_by=newest_by)

    try:
        page = read(number)
    except tables.FilterError as exc:
        messages.warning(request, f"{exc} The filters were not applied.")
        filters = []
        page = read(number)
    last = max(1, -(-page.total // DATA_PAGE_SIZE))
    if number > last:
        messages.info(request, f"There are only {last} page(s); showing the last one.")
        number = last
        page = read(number)
    kinds = [kind for _, kind in page.columns]
    sort, descending = keys[0] if keys else (None, False)
    then, then_desc = keys[1] if len(keys) > 1 else (None, False)
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
        "then": then,
        "then_desc": then_desc,
        "filters": [{"column": c, "value": v, "raw": f"{c}:{v}"} for c, v in filters],
        "filterable": [name for name, kind in version.columns if kind in tables.FILTERABLE],
        "newest_by": newest_by if newest_by in names else None,
        "search": search,
    }
