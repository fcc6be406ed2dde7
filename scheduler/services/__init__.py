"""Runs and schedules: request a run, execute it, dispatch due DataSets, reap dead runs.

Work is claimed with conditional UPDATEs (healthchecks' pattern) so two workers or two
dispatcher ticks can never do the same thing twice; the database's partial unique index
`run_one_active_per_dataset` is the last line of defence.
"""

from scheduler.services.dispatch import dispatch_due
from scheduler.services.reap import runs_reap_stale
from scheduler.services.runs import RunAlreadyActive, run_execute, run_request, run_request_full
from scheduler.services.schedules import schedule_save

__all__ = [
    "RunAlreadyActive",
    "dispatch_due",
    "run_execute",
    "run_request",
    "run_request_full",
    "runs_reap_stale",
    "schedule_save",
]
