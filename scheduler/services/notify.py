"""E-mails to DataSet owners: a scheduled update failed for good; a Manually DataSet lapsed."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from datacenter.models import DataSet
from scheduler.models import Run, RunTrigger, Schedule


def _dataset_link(dataset: DataSet) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("dataset", args=[dataset.pk])


def notify_failure(dataset: DataSet, run: Run) -> None:
    owner = dataset.owner
    if not owner.email:
        return
    send_mail(
        subject=f"DataSet “{dataset.name}” failed to update",
        message=(
            f"The scheduled update of “{dataset.name}” failed"
            f"{' after its retries' if run.trigger == RunTrigger.RETRY else ''}.\n\n"
            f"Error: {run.error}\n\nThe previous version is unchanged.\n"
            f"Open the DataSet: {_dataset_link(dataset)}\n"
        ),
        from_email=None,
        recipient_list=[owner.email],
    )


def send_reminders(now: datetime) -> None:
    """'Not updated for X' reminders for Manually scheduled DataSets, once per lapse."""
    candidates = Schedule.objects.filter(
        rule__isnull=True, remind_after_hours__isnull=False, reminded_at__isnull=True
    ).select_related("dataset__owner")
    for s in candidates:
        last = s.dataset.last_success_at or s.dataset.created
        if now - last < timedelta(hours=s.remind_after_hours):
            continue
        claimed = Schedule.objects.filter(pk=s.pk, reminded_at__isnull=True).update(reminded_at=now)
        if claimed and s.dataset.owner.email:
            send_mail(
                subject=f"DataSet “{s.dataset.name}” has not been updated",
                message=(
                    f"“{s.dataset.name}” has not been updated for {s.remind_after_hours} hours.\n"
                    f"Run it now: {_dataset_link(s.dataset)}\n"
                ),
                from_email=None,
                recipient_list=[s.dataset.owner.email],
            )
