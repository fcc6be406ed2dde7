"""Reads. Every lookup of an object a user names goes through its owner."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from datacenter import crypto
from datacenter.models import DataSet, Region, TwilioAccount, Version
from twilio_reports.hosts import hosts_for
from twilio_reports.service import Credentials


def account_get(*, owner: AbstractBaseUser, pk: int) -> TwilioAccount:
    return get_object_or_404(TwilioAccount, pk=pk, owner=owner)


def dataset_get(*, owner: AbstractBaseUser, pk: int) -> DataSet:
    return get_object_or_404(
        DataSet.objects.select_related(
            "account", "current_version", "current_version__restored_from", "schedule", "owner"
        ),
        pk=pk,
        owner=owner,
    )


def version_get(*, dataset: DataSet, number: int) -> Version:
    return get_object_or_404(Version, dataset=dataset, number=number)


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


def credentials_build(
    *, account_sid: str, secret: str, key_sid: str = "", region: str = Region.US1
) -> Credentials:
    """The one place Twilio credentials are built: the region picks the hosts."""
    api_base, monitor_base = hosts_for(region)
    return Credentials(
        account_sid=account_sid,
        secret=secret,
        key_sid=key_sid or None,
        api_base=api_base,
        monitor_base=monitor_base,
    )


def credentials_for_account(account: TwilioAccount) -> Credentials:
    """A saved account's credentials, its secret decrypted."""
    return credentials_build(
        account_sid=account.account_sid,
        secret=crypto.decrypt(account.secret_encrypted),
        key_sid=account.key_sid,
        region=account.region,
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


def version_list(*, dataset: DataSet) -> QuerySet[Version]:
    """History tab: every version, newest first, with the version it was restored from."""
    return Version.objects.filter(dataset=dataset).select_related("restored_from")


def dataset_has_versions(*, dataset: DataSet) -> bool:
    """Has the DataSet ever written a version (its table then has its report's columns)?"""
    if dataset.current_version_id is not None:
        return True
    return Version.objects.filter(dataset=dataset).exists()
