"""What a pull asked for, in words: shown when Twilio returns nothing, and on a DataSet page.

"Calls · From +15551230001 · 20 to 10 days ago (Nov 11–Nov 21, 2026) · America/Los_Angeles"
"""

from __future__ import annotations

from datetime import date

from twilio_reports.dates import DateBlock
from twilio_reports.definitions import GRANULARITIES, REPORTS
from twilio_reports.filters import FILTERS
from twilio_reports.plan import PullRequest


def filters_in_words(report: str, params: dict[str, str]) -> list[str]:
    """["From +15551230001", "Status completed"]: each filter given, by its form label."""
    rdef = REPORTS[report]
    out = []
    for name in rdef.fields:
        value = params.get(name)
        fdef = FILTERS.get(name)
        if not value or fdef is None:
            continue
        if fdef.kind == "granularity":
            out.append(GRANULARITIES[value].label if value in GRANULARITIES else value)
            continue
        shown = dict(fdef.choices).get(value, value)
        out.append(f"{fdef.label.removesuffix(' Number')} {shown}")
    return out


def days_in_words(first: date, last: date) -> str:
    """"Nov 11, 2026", "Nov 11–Nov 21, 2026" or "Dec 28, 2025–Jan 3, 2026"."""
    def short(d: date) -> str:
        return f"{d:%b} {d.day}"
    if first == last:
        return f"{short(first)}, {first.year}"
    if first.year == last.year:
        return f"{short(first)}–{short(last)}, {last.year}"
    return f"{short(first)}, {first.year}–{short(last)}, {last.year}"


def _ago(days: int | None) -> str:
    return {0: "today", 1: "yesterday"}.get(days or 0, f"{days} days ago")


def block_in_words(block: DateBlock) -> str:
    """A relative window as the user set it ("20 to 10 days ago", "7 days ago to today",
    "yesterday"); "" for fixed dates, which the resolved days already say."""
    if block.duration != "range":
        return _ago(block.days_back) if block.report_date_mode == "relative" else ""
    start = block.start_days_back if block.start_mode == "relative" else None
    end = block.end_days_back if block.end_mode == "relative" else None
    if start is None and end is None:
        return ""
    if start is not None and end is not None and end >= 2:
        return f"{start} to {end} days ago"
    first = _ago(start) if start is not None else "a fixed day"
    last = _ago(end) if end is not None else "a fixed day"
    return f"{first} to {last}"


def request_in_words(request: PullRequest, block: DateBlock | None = None) -> str:
    """"Calls · From +15551230001 · 20 to 10 days ago (Nov 11–Nov 21, 2026) · Europe/Berlin":
    with `block`, the window as it was set, then the days it resolves to."""
    parts = [REPORTS[request.report].label, *filters_in_words(request.report, request.params)]
    if request.window is not None:
        days = days_in_words(*request.window)
        words = block_in_words(block) if block is not None else ""
        parts += [f"{words} ({days})" if words else days, request.tz]
    return " · ".join(parts)


def nothing_returned(request: PullRequest) -> str:
    """The warning of a pull that returned no rows: what was asked, and that Twilio had none."""
    return f"Twilio returned no rows for {request_in_words(request)}."
