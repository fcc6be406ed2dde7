"""Builders shared by the tests: users, saved accounts and DataSets on the sandbox."""

from django.contrib.auth import get_user_model

from datacenter import services
from datacenter.models import DataSet, Region, TwilioAccount
from scheduler.services import schedule_save


def user_make(username: str = "alice", **extra):
    return get_user_model().objects.create_user(
        username, email=f"{username}@example.com", password=f"pw-{username}-Zq81!x", **extra
    )


def sandbox_account_make(
    owner, *, name: str = "Sandbox", token: str | None = None
) -> TwilioAccount:
    from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

    return services.account_create(
        owner=owner,
        name=name,
        account_sid=MAIN_ACCOUNT_SID,
        secret=token or MAIN_AUTH_TOKEN,
        region=Region.SANDBOX,
    )


def dataset_make(
    owner,
    account: TwilioAccount | None,
    *,
    report: str = "calls",
    filters: dict | None = None,
    dates: dict | None = None,
    name: str = "Calls",
    time_zone: str = "UTC",
    update_method: str = "replace",
    on_empty: str = "keep",
    spec: dict | None = None,
    **schedule,
) -> DataSet:
    dataset = services.dataset_create(
        owner=owner,
        account=account,
        on_empty=on_empty,
        name=name,
        description="",
        report=report,
        params={
            "filters": filters or {},
            "dates": dates
            if dates is not None
            else {
                "duration": "range",
                "start_mode": "relative",
                "start_days_back": 6,
                "end_mode": "relative",
                "end_days_back": 0,
            },
        },
        time_zone=time_zone,
        update_method=update_method,
    )
    schedule_save(dataset=dataset, spec=spec or {"kind": "manual", "tz": time_zone}, **schedule)
    return dataset
