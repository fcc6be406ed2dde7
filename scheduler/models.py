"""Schedules, runs and process heartbeats."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Schedule(models.Model):
    """When a DataSet refreshes. One form for every schedule: an RFC 5545 rule + zone."""

    dataset = models.OneToOneField(
        "datacenter.DataSet", on_delete=models.CASCADE, primary_key=True, related_name="schedule"
    )
    # The Scheduling pane's choices (scheduler.recurrence.ScheduleSpec), to re-render the form.
    spec = models.JSONField(default=dict)
    # scheduler.recurrence.Rule.to_dict(), or None for "Manually".
    rule = models.JSONField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    retry_enabled = models.BooleanField(default=True)
    retry_every_minutes = models.PositiveIntegerField(default=15)
    retry_max = models.PositiveIntegerField(default=3)
    # Retries made since the last scheduled attempt; reset on success.
    retries_made = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    # "Manually" DataSets may ask to be reminded when not updated for this many hours.
    remind_after_hours = models.PositiveIntegerField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The dispatcher's claim: `next_run_at <= now` (scheduler.services.dispatch_due).
            models.Index(fields=["next_run_at"], name="schedule_next_run_idx"),
            # The dispatcher's retry claim: `retry_at <= now`.
            models.Index(fields=["retry_at"], name="schedule_retry_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(retry_every_minutes__gte=1), name="schedule_retry_every_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Schedule of {self.dataset_id}"


class RunTrigger(models.TextChoices):
    MANUAL = "manual", "Manual"
    SCHEDULED = "scheduled", "Scheduled"
    RETRY = "retry", "Retry"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # Twilio returned no rows and the DataSet kept its current version (EmptyResult.KEEP):
    # not a failure (nothing to retry), but worth a look, so it needs attention.
    EMPTY = "empty", "No rows"


ACTIVE_STATES = (RunState.QUEUED, RunState.RUNNING)
# A DataSet whose last run ended so needs attention (the DataSets tab's quick filter).
ATTENTION_STATES = (RunState.FAILED, RunState.EMPTY)


class Run(models.Model):
    dataset = models.ForeignKey("datacenter.DataSet", on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Updated while the run works: the progress display and runs_reap_stale read it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    rows = models.BigIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    # Slices of the pull done / planned (a resumed pull counts the staged ones as done).
    slices_done = models.PositiveIntegerField(default=0)
    slices_total = models.PositiveIntegerField(default=0)
    # Accounts of the pull whose every slice has ended / all of them (main + subaccounts).
    accounts_done = models.PositiveIntegerField(default=0)
    accounts_total = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    version = models.ForeignKey(
        "datacenter.Version", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    error = models.TextField(blank=True, default="")
    worker = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            # A DataSet never runs twice at once: at most one queued-or-running run.
            models.UniqueConstraint(
                fields=["dataset"],
                condition=Q(state__in=["queued", "running"]),
                name="run_one_active_per_dataset",
            ),
        ]
        indexes = [
            # History tab: a DataSet's runs, newest first (selectors.run_history).
            models.Index(fields=["dataset", "-queued_at"], name="run_dataset_recent_idx"),
            # runs_reap_stale: active runs whose heartbeat is old.
            models.Index(fields=["state", "heartbeat_at"], name="run_state_heartbeat_idx"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.dataset_id} ({self.state})"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class HeartbeatKind(models.TextChoices):
    WORKER = "worker", "Worker"
    BEAT = "beat", "Beat"


class Heartbeat(models.Model):
    """Last sign of life of each worker and of beat, for the /status/ page."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=HeartbeatKind.choices)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name
