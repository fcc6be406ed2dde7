"""From a saved DataSet to a twilio_reports PullRequest (filters and the date window)."""

from datetime import UTC, date, datetime

from datacenter.models import DataSet
from twilio_reports.dates import DateBlock, resolve_window, today_in
from twilio_reports.definitions import REPORTS
from twilio_reports.service import PullRequest


class PullSetupError(Exception):
    """The DataSet cannot be pulled as configured; the message is for the user."""


def date_block_from(params: dict) -> DateBlock | None:
    raw = params.get("dates")
    if not raw:
        return None
    values = dict(raw)
    for key in ("report_date", "start_date", "end_date"):
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
        else:
            values[key] = None
    for key in ("days_back", "start_days_back", "end_days_back"):
        values[key] = int(values[key]) if values.get(key) not in (None, "") else None
    return DateBlock(**{k: v for k, v in values.items() if k in DateBlock.__dataclass_fields__})


def pull_request_for(
    dataset: DataSet, *, now: datetime | None = None
) -> PullRequest:
    """The request for a run starting at `now`: "today" is the DataSet's zone's today then,
    so a relative window rolls with the schedule."""
    report = REPORTS[dataset.report]
    filters = dict(dataset.params.get("filters", {}))
    window = None
    if report.takes_window(filters):
        block = date_block_from(dataset.params)
        if block is None:
            raise PullSetupError(f"{report.label} needs a date window: choose one in Edit.")
        today = today_in(dataset.time_zone, now or datetime.now(UTC))
        try:
            window = resolve_window(block, dataset.time_zone, today)
        except ValueError as exc:
            raise PullSetupError(str(exc)) from exc
    return PullRequest(report=dataset.report, params=filters, window=window, tz=dataset.time_zone)
