"""Reads about runs: a DataSet's last run, its history, and the DataSets tab (sorted and
filtered by last run). Every DataSet here was first looked up through its owner."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from datacenter.models import DataSet, Version
from scheduler.models import ACTIVE_STATES, ATTENTION_STATES, Run, RunState

DATASET_FILTERS = ("all", "recent", "attention")


def _by(field: str, descending: bool = False) -> tuple:
    # DataSets with no version or no run yet go last either way, on every database
    # (PostgreSQL and SQLite disagree on where NULLs sort by default).
    column = F(field)
    first = column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)
    return (first, "name", "id")


DATASET_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "rows": _by("current_version__rows"),
    "-rows": _by("current_version__rows", descending=True),
    "last_run": _by("last_run_queued_at"),
    "-last_run": _by("last_run_queued_at", descending=True),
    "status": _by("last_run_state"),
    "-status": _by("last_run_state", descending=True),
}


def _latest_runs() -> QuerySet[Run]:
    return Run.objects.filter(dataset=OuterRef("pk")).order_by("-queued_at", "-id")


def dataset_list(
    *, owner: AbstractBaseUser, quick: str = "all", search: str = "", sort: str = "name"
) -> QuerySet[DataSet]:
    """The DataSets tab, in one query however many DataSets: each row carries its last run's
    id, state, queue time and error (`last_run_pk`, `last_run_state`, ...); pass the page
    shown to `last_runs_attach` for Run objects."""
    latest = _latest_runs()
    qs = (
        DataSet.objects.filter(owner=owner)
        .select_related("account", "current_version", "schedule")
        .annotate(
            last_run_pk=Subquery(latest.values("pk")[:1]),
            last_run_state=Subquery(latest.values("state")[:1]),
            last_run_queued_at=Subquery(latest.values("queued_at")[:1]),
            last_run_error=Subquery(latest.values("error")[:1]),
        )
    )
    if quick == "recent":
        qs = qs.filter(last_run_queued_at__gte=timezone.now() - timezone.timedelta(days=1))
    elif quick == "attention":
        qs = qs.filter(Q(account__isnull=True) | Q(last_run_state__in=ATTENTION_STATES))
    if search:
        qs = qs.filter(name__icontains=search[:100])
    return qs.order_by(*DATASET_SORTS.get(sort, DATASET_SORTS["name"]))


def last_runs_attach(datasets: Iterable[DataSet]) -> list[DataSet]:
    """Set `last_run` on DataSets from `dataset_list`: a Run holding the annotated fields
    (id, state, queued_at, error), or None. No query."""
    shown = list(datasets)
    for dataset in shown:
        dataset.last_run = (
            Run(
                pk=dataset.last_run_pk,
                dataset_id=dataset.pk,
                state=dataset.last_run_state,
                queued_at=dataset.last_run_queued_at,
                error=dataset.last_run_error or "",
            )
            if dataset.last_run_pk
            else None
        )
    return shown


def run_latest(*, dataset: DataSet) -> Run | None:
    """The DataSet's most recently queued run, or None before its first run."""
    return Run.objects.filter(dataset=dataset).order_by("-queued_at", "-id").first()


def run_is_active(run: Run | None) -> bool:
    return run is not None and run.state in ACTIVE_STATES


def dataset_needs_attention(dataset: DataSet, last_run: Run | None) -> bool:
    """Its account was deleted, or its last run failed or got no rows."""
    return dataset.account_id is None or (
        last_run is not None and last_run.state in ATTENTION_STATES
    )


def run_history(*, dataset: DataSet) -> QuerySet[Run]:
    """History tab: a DataSet's runs, newest first, with the version each one produced."""
    return (
        Run.objects.filter(dataset=dataset).select_related("version").order_by("-queued_at", "-id")
    )


def runs_by_version(*, versions: Iterable[Version]) -> dict[int, Run]:
    """Version id -> the run that made it (versions made by Revert have none)."""
    ids = [v.pk for v in versions]
    return {run.version_id: run for run in Run.objects.filter(version_id__in=ids)}


def run_summary(*, dataset: DataSet) -> dict:
    """History summary in one query: finished runs, successes, average successful duration."""
    finished = Run.objects.filter(
        dataset=dataset, state__in=[RunState.SUCCEEDED, RunState.FAILED, RunState.EMPTY])
    figures = finished.aggregate(
        finished=Count("id"),
        succeeded=Count("id", filter=Q(state=RunState.SUCCEEDED)),
        average=Avg(
            F("finished_at") - F("started_at"),
            filter=Q(state=RunState.SUCCEEDED, started_at__isnull=False, finished_at__isnull=False),
        ),
    )
    rate = figures["succeeded"] / figures["finished"] if figures["finished"] else None
    return {
        "finished": figures["finished"],
        "succeeded": figures["succeeded"],
        "success_rate": rate,
        "average_duration": figures["average"],
        "last_success_at": dataset.last_success_at,
    }
