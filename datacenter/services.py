"""Writes for accounts, DataSets and versions. Views and tasks call these, nothing else writes."""

import logging
import shutil
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from datacenter import crypto, tables
from datacenter.broker import task_app
from datacenter.models import DataSet, EmptyResult, Region, TwilioAccount, UpdateMethod, Version
from datacenter.selectors import credentials_build, credentials_for_account, dataset_has_versions
from datacenter.staging import staging_remove
from twilio_reports.service import TwilioError, check_credentials

logger = logging.getLogger(__name__)

VERSION_PRECOMPUTE_TASK = "datacenter.tasks.version_precompute"


class ReportLocked(ValueError):
    """A DataSet with versions keeps its report: its table has that report's columns."""


# sensitive_variables(): no local of this call or anything it calls shows in an error report.
@sensitive_variables()
def credentials_check(
    *, account_sid: str, secret: str, key_sid: str = "", region: str = Region.US1
) -> str:
    """Ask Twilio whether these credentials work; returns the account's friendly name.

    Raises TwilioError with Twilio's reason in plain words. Used by Connect before saving.
    """
    return check_credentials(
        credentials_build(account_sid=account_sid, secret=secret, key_sid=key_sid, region=region)
    )


@sensitive_variables()
def account_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    account_sid: str,
    secret: str,
    key_sid: str = "",
    region: str = Region.US1,
    checked_ok: bool | None = None,
) -> TwilioAccount:
    return TwilioAccount.objects.create(
        owner=owner,
        name=name,
        account_sid=account_sid,
        key_sid=key_sid,
        secret_encrypted=crypto.encrypt(secret),
        region=region,
        is_valid=checked_ok,
        last_checked_at=timezone.now() if checked_ok is not None else None,
    )


@sensitive_variables()
def account_update(
    *,
    account: TwilioAccount,
    name: str,
    secret: str = "",
    region: str | None = None,
    checked_ok: bool | None = None,
    max_in_flight: int | None = None,
) -> TwilioAccount:
    """Rename, and replace the secret only when a new one is given (it is never pre-filled).

    A new secret or region makes the validity unknown, unless the caller has just checked the
    new credentials with Twilio (`checked_ok`), as the Edit page does before saving.
    """
    account.name = name
    fields = ["name", "updated"]
    if max_in_flight is not None:
        account.max_in_flight = max_in_flight
        fields.append("max_in_flight")
    changed = False
    if secret:
        account.secret_encrypted = crypto.encrypt(secret)
        fields.append("secret_encrypted")
        changed = True
    if region is not None and region != account.region:
        account.region = region
        fields.append("region")
        changed = True
    if changed or checked_ok is not None:
        account.is_valid = checked_ok
        account.check_message = ""
        account.last_checked_at = timezone.now() if checked_ok is not None else None
        fields += ["is_valid", "check_message", "last_checked_at"]
    account.save(update_fields=fields)
    return account


@sensitive_variables()
def account_test(*, account: TwilioAccount) -> TwilioAccount:
    """Test connection: record whether the saved credentials work now."""
    try:
        check_credentials(credentials_for_account(account))
        account.is_valid, account.check_message = True, ""
    except TwilioError as exc:
        account.is_valid, account.check_message = False, exc.message[:300]
    account.last_checked_at = timezone.now()
    account.save(update_fields=["is_valid", "check_message", "last_checked_at", "updated"])
    return account


def account_delete(*, account: TwilioAccount) -> list[DataSet]:
    """Delete the account; its DataSets stay (account set to NULL: they need attention)."""
    affected = list(account.datasets.all())
    account.delete()
    return affected


def dataset_create(
    *,
    owner: AbstractBaseUser,
    account: TwilioAccount | None,
    name: str,
    description: str,
    report: str,
    params: dict,
    time_zone: str,
    update_method: str = UpdateMethod.REPLACE,
    on_empty: str = EmptyResult.KEEP,
    incremental: bool = False,
    lookback_days: int = 3,
    append_skip_existing: bool = False,
) -> DataSet:
    if account is not None and account.owner_id != owner.pk:
        raise PermissionError("That account belongs to another user.")
    return DataSet.objects.create(
        owner=owner,
        account=account,
        name=name,
        description=description,
        report=report,
        params=params,
        time_zone=time_zone,
        update_method=update_method,
        on_empty=on_empty,
        incremental=incremental,
        lookback_days=lookback_days,
        append_skip_existing=append_skip_existing,
    )


def dataset_update(
    *,
    dataset: DataSet,
    account: TwilioAccount | None,
    name: str,
    description: str,
    report: str,
    params: dict,
    time_zone: str,
    update_method: str,
    on_empty: str = EmptyResult.KEEP,
    incremental: bool = False,
    lookback_days: int = 3,
    append_skip_existing: bool = False,
) -> DataSet:
    if account is not None and account.owner_id != dataset.owner_id:
        raise PermissionError("That account belongs to another user.")
    if report != dataset.report and dataset_has_versions(dataset=dataset):
        raise ReportLocked(
            "The report of a DataSet that has data cannot change: save the settings as a new "
            "DataSet instead."
        )
    dataset.account = account
    dataset.name = name
    dataset.description = description
    dataset.report = report
    dataset.params = params
    dataset.time_zone = time_zone
    dataset.update_method = update_method
    dataset.on_empty = on_empty
    dataset.incremental = incremental
    dataset.lookback_days = lookback_days
    dataset.append_skip_existing = append_skip_existing
    # Only the settings: runs update the version/run pointers concurrently.
    dataset.save(update_fields=[*DATASET_SETTINGS, "updated"])
    return dataset


DATASET_SETTINGS = (
    "account",
    "name",
    "description",
    "report",
    "params",
    "time_zone",
    "update_method",
    "on_empty",
    "incremental",
    "lookback_days",
    "append_skip_existing",
)


def dataset_delete(*, dataset: DataSet) -> None:
    uri = tables.table_uri(dataset.pk)
    dataset_id = dataset.pk
    dataset.delete()
    # Files go only once the rows are gone for good (the table, and any staged pull).
    transaction.on_commit(lambda: _remove_table(uri))
    transaction.on_commit(lambda: staging_remove(dataset_id))


def _remove_table(uri: str) -> None:
    if "://" in uri:
        # Every object under the table's prefix (data, _delta_log, _stats); only "<uri>/..."
        # keys, so dataset-1 never touches dataset-10.
        fs, root = tables.filesystem(uri)
        try:
            fs.delete_dir(root)
        except FileNotFoundError:
            pass
        except OSError:  # the rows are gone already: log it, a lifecycle rule can finish
            logger.exception("Could not delete object-storage table %s", uri)
        tables.forget(uri)
        return
    shutil.rmtree(Path(uri), ignore_errors=True)


def version_record(
    *,
    dataset: DataSet,
    result: "tables.WriteResult",
    restored_from: Version | None = None,
    fetch: dict[str, Any] | None = None,
) -> Version:
    """Record a Delta version as the DataSet's next version and make it current.

    `fetch`: what the pull fetched (Version.fetched_from ... rows_removed). A revert
    inherits the fetched range of the version it restores: incremental runs go on from it.
    """
    if fetch is None and restored_from is not None:
        fetch = {"fetched_from": restored_from.fetched_from,
                 "fetched_to": restored_from.fetched_to, "full_pull": restored_from.full_pull}
    columns = tables.version_schema(tables.table_uri(dataset.pk), result.delta_version)
    with transaction.atomic():
        # Lock the DataSet row so two writers cannot take the same number.
        DataSet.objects.select_for_update().filter(pk=dataset.pk).first()
        last = dataset.versions.aggregate(n=Max("number"))["n"] or 0
        version = Version.objects.create(
            dataset=dataset,
            number=last + 1,
            delta_version=result.delta_version,
            restored_from=restored_from,
            rows=result.rows,
            columns=[list(c) for c in columns],
            bytes=result.bytes,
            **(fetch or {}),
        )
        now = timezone.now()
        # A revert is not an update from Twilio: "Last successful update" stays where it was.
        moved = {"last_success_at": now} if restored_from is None else {}
        DataSet.objects.filter(pk=dataset.pk).update(current_version=version, updated=now,
                                                     **moved)
        dataset.current_version = version
        if moved:
            dataset.last_success_at = now
    # By name: tasks call this app's functions, so services never import tasks (no circle).
    transaction.on_commit(
        lambda: task_app().send_task(VERSION_PRECOMPUTE_TASK, args=[version.pk])
    )
    return version


def version_revert(*, dataset: DataSet, version: Version) -> Version:
    """Revert: a new version whose rows equal the chosen one's."""
    if version.reclaimed_at is not None:
        raise ValueError(f"Version {version.number} was removed by the retention policy.")
    result = tables.restore(tables.table_uri(dataset.pk), version.delta_version)
    return version_record(dataset=dataset, result=result, restored_from=version)


def versions_reclaim(*, dataset: DataSet, keep: int) -> int:
    """Retention: keep the newest `keep` versions, reclaim the files of older ones."""
    live = list(dataset.versions.filter(reclaimed_at__isnull=True).order_by("-number"))
    if len(live) <= keep:
        return 0
    kept, dropped = live[:keep], live[keep:]
    tables.reclaim(tables.table_uri(dataset.pk), [v.delta_version for v in kept])
    Version.objects.filter(pk__in=[v.pk for v in dropped]).update(reclaimed_at=timezone.now())
    return len(dropped)
