"""Saving a DataSet's schedule and computing its next run."""

from datetime import datetime

from django.utils import timezone

from datacenter.models import DataSet
from scheduler.models import Schedule
from scheduler.recurrence import Rule, next_runs, to_rule
from twilio_reports.dates import today_in


def schedule_save(
    *,
    dataset: DataSet,
    spec: dict,
    retry_enabled: bool = True,
    retry_every_minutes: int = 15,
    retry_max: int = 3,
    remind_after_hours: int | None = None,
    now: datetime | None = None,
) -> Schedule:
    """Store the Scheduling pane's choices and compute the next run."""
    now = now or timezone.now()
    # Cycles ("every 3 days") count from the day the schedule is saved, in its zone.
    rule = to_rule(spec, today=today_in(spec.get("tz") or "UTC", now))
    schedule, _ = Schedule.objects.update_or_create(
        dataset=dataset,
        defaults={
            "spec": spec,
            "rule": rule.to_dict() if rule else None,
            "next_run_at": next_after(rule, now),
            "retry_enabled": retry_enabled,
            "retry_every_minutes": max(1, retry_every_minutes),
            "retry_max": retry_max,
            "remind_after_hours": remind_after_hours if rule is None else None,
            "retry_at": None,
            "retries_made": 0,
        },
    )
    return schedule


def next_after(rule: Rule | None, now: datetime) -> datetime | None:
    if rule is None:
        return None
    upcoming = next_runs(rule, after=now, count=1)
    return upcoming[0] if upcoming else None
