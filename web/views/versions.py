"""Versions: preview, CSV and Excel downloads (constant memory), export of the current one,
and revert (a new version equal to an older one)."""

from collections.abc import Iterator
from itertools import chain

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from datacenter import selectors, services, tables
from datacenter.models import DataSet, Version
from web.views._common import header_context, is_active
from web.views.cells import format_row

PREVIEW_ROWS = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_response(request: HttpRequest, dataset: DataSet, version: Version) -> HttpResponse:
    gone = redirect("dataset-history", pk=dataset.pk)
    if version.reclaimed_at is not None:
        messages.error(request, f"Version {version.number} was removed by the retention policy.")
        return gone
    chunks = tables.iter_csv(tables.table_uri(dataset.pk), version.delta_version)
    try:
        # Pull the header now: a missing version must become a message, not a broken download.
        first = next(chunks)
    except LookupError:
        messages.error(request, f"Version {version.number}'s files are no longer available.")
        return gone
    body: Iterator[bytes] = chain([first], chunks)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = f"{slugify(dataset.name) or 'dataset'}-v{version.number}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def export_current(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    if dataset.current_version is None:
        messages.info(
            request, "Nothing to export yet: run the DataSet to create its first version."
        )
        return redirect("dataset", pk=dataset.pk)
    return _csv_response(request, dataset, dataset.current_version)


@require_GET
def download(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    version = selectors.version_get(dataset=dataset, number=number)
    return _csv_response(request, dataset, version)


def _xlsx_response(request: HttpRequest, dataset: DataSet, version: Version) -> HttpResponse:
    gone = redirect("dataset-history", pk=dataset.pk)
    if version.reclaimed_at is not None:
        messages.error(request, f"Version {version.number} was removed by the retention policy.")
        return gone
    try:
        body = tables.write_xlsx(tables.table_uri(dataset.pk), version.delta_version)
    except tables.TooManyRows as exc:
        messages.error(request, f"Version {version.number} cannot be an Excel file: {exc}")
        return gone
    except LookupError:
        messages.error(request, f"Version {version.number}'s files are no longer available.")
        return gone
    filename = f"{slugify(dataset.name) or 'dataset'}-v{version.number}.xlsx"
    return FileResponse(body, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


@require_GET
def download_xlsx(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    version = selectors.version_get(dataset=dataset, number=number)
    return _xlsx_response(request, dataset, version)


@require_GET
def preview(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    version = selectors.version_get(dataset=dataset, number=number)
    context = header_context(dataset, "history") | {"shown": version, "rows": [], "columns": []}
    if version.reclaimed_at is None:
        try:
            page = tables.read_page(
                tables.table_uri(dataset.pk), version.delta_version, offset=0, limit=PREVIEW_ROWS
            )
        except LookupError:
            context["reclaimed"] = True
        else:
            kinds = [kind for _, kind in page.columns]
            context |= {
                "columns": page.columns,
                "rows": [format_row(row, kinds) for row in page.rows],
                "total": page.total,
            }
    else:
        context["reclaimed"] = True
    return render(request, "web/version_preview.html", context)


@require_POST
def revert(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    dataset = selectors.dataset_get(owner=request.user, pk=pk)
    version = selectors.version_get(dataset=dataset, number=number)
    if is_active(dataset):
        # A restore beside a running pull would race it for the next Delta version.
        messages.warning(request, "A run is in progress: revert once it has finished.")
        return redirect("dataset-history", pk=dataset.pk)
    try:
        new = services.version_revert(dataset=dataset, version=version)
    except (ValueError, LookupError) as exc:
        messages.error(request, f"Could not revert to version {number}: {exc}")
    else:
        messages.success(request, f"Version {new.number} now equals version {version.number}")
    return redirect("dataset-history", pk=dataset.pk)
