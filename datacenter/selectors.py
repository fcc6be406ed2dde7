"""Reads. Every lookup of an object a user names goes through its owner."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from datacenter import crypto
from datacenter.models import DataSet, Region, TwilioAccount, Version
from scheduler.models import Run, RunState
from twilio_reports.hosts import hosts_for
from twilio_reports.service import Credentials


def account_get(*, owner: AbstractBaseUser, pk: int) -> TwilioAccount:
    return get_object_or_404(TwilioAccount, pk=pk, owner=owner)


def dataset_get(*, owner: AbstractBaseUser, pk: int) -> DataSet:
    return get_object_or_404(
        DataSet.objects.select_related(
            "account", "current_version", "last_run", "schedule", "owner"
        ),
        pk=pk,
        owner=owner,
    )


def version_get(*, dataset: DataSet, number: int) -> Version:
    return get_object_or_404(Version, dataset=dataset, number=number)


def run_get(*, dataset: DataSet, pk: int) -> Run:
    return get_object_or_404(Run, dataset=dataset, pk=pk)


def account_list(*, owner: AbstractBaseUser) -> QuerySet[TwilioAccount]:
    """The Accounts tab: each account with the DataSets using it, in two queries."""
    return (
        TwilioAccount.objects.filter(owner=owner)
        .select_related("owner")
        .annotate(dataset_count=Count("datasets"))
        .prefetch_related(
            Prefetch("datasets", queryset=DataSet.objects.only("id", "name", "account_id"))
        )
    )


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
    "last_run": _by("last_run__queued_at"),
    "-last_run": _by("last_run__queued_at", descending=True),
    "status": _by("last_run__state"),
    "-status": _by("last_run__state", descending=True),
}


def dataset_list(
    *, owner: AbstractBaseUser, quick: str = "all", search: str = "", sort: str = "name"
) -> QuerySet[DataSet]:
    """The DataSets tab; one query however many DataSets (pointers are denormalised)."""
    qs = DataSet.objects.filter(owner=owner).select_related(
        "account", "current_version", "last_run", "schedule"
    )
    if quick == "recent":
        qs = qs.filter(last_run__queued_at__gte=timezone.now() - timezone.timedelta(days=1))
    elif quick == "attention":
        qs = qs.filter(Q(account__isnull=True) | Q(last_run__state=RunState.FAILED))
    if search:
        qs = qs.filter(name__icontains=search[:100])
    return qs.order_by(*DATASET_SORTS.get(sort, DATASET_SORTS["name"]))


def credentials_for_account(account: TwilioAccount) -> Credentials:
    api_base, monitor_base = hosts_for(account.region)
    return Credentials(
        account_sid=account.account_sid,
        secret=crypto.decrypt(account.secret_encrypted),
        key_sid=account.key_sid or None,
        api_base=api_base,
        monitor_base=monitor_base,
    )


def credentials_for_account_name(name: str) -> Credentials:
    """For operators' command-line pulls (`twilio_report --account NAME`)."""
    matches = list(TwilioAccount.objects.filter(name=name)[:2])
    if len(matches) != 1:
        raise TwilioAccount.DoesNotExist(
            f'No saved account is named "{name}"'
            if not matches
            else f'Several users saved an account named "{name}"; use --account-sid.'
        )
    return credentials_for_account(matches[0])


def sandbox_available() -> bool:
    from django.conf import settings

    return bool(settings.TWILIO_SANDBOX_URL)


def region_choices() -> list[tuple[str, str]]:
    return [c for c in Region.choices if c[0] != Region.SANDBOX or sandbox_available()]


def datasets_owned(*, owner: AbstractBaseUser, ids: list[int]) -> QuerySet[DataSet]:
    """Bulk actions: only the ids that belong to `owner`, others are silently ignored."""
    return DataSet.objects.filter(owner=owner, pk__in=ids).order_by("name", "id")


def run_history(*, dataset: DataSet) -> QuerySet[Run]:
    """History tab: a DataSet's runs, newest first, with the version each one produced."""
    return (
        Run.objects.filter(dataset=dataset).select_related("version").order_by("-queued_at", "-id")
    )


def run_summary(*, dataset: DataSet) -> dict:
    """History summary in one query: finished runs, successes, average successful duration."""
    from django.db.models import Avg, F

    finished = Run.objects.filter(dataset=dataset, state__in=[RunState.SUCCEEDED, RunState.FAILED])
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


def version_list(*, dataset: DataSet) -> QuerySet[Version]:
    """History tab: every version, newest first, with its source run or restored version."""
    return Version.objects.filter(dataset=dataset).select_related("run", "restored_from")
