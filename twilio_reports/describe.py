"""What a pull asked for, in words: shown when Twilio returns nothing, and on a DataSet page.

"Calls · From +15551230001 · Nov 11–Nov 21, 2026 · America/Los_Angeles"
"""

from __future__ import annotations

from datetime import date

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


def request_in_words(request: PullRequest) -> str:
    parts = [REPORTS[request.report].label, *filters_in_words(request.report, request.params)]
    if request.window is not None:
        parts += [days_in_words(*request.window), request.tz]
    return " · ".join(parts)


def nothing_returned(request: PullRequest) -> str:
    """The warning of a pull that returned no rows: what was asked, and that Twilio had none."""
    return f"Twilio returned no rows for {request_in_words(request)}."
