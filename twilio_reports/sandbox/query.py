"""Filters with Twilio semantics, and PageToken paging over a selection.

A Selection is an index range of a series (narrowed by time bisection) plus an optional
per-item predicate for the filters that cannot be turned into a range (To, Status, ...).
Page tokens carry the index where the next page starts, so a next link keeps returning
exactly the following rows however long the client waits before following it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .calls import NEVER_STARTED, CallSeries
from .conferences import ConferenceSeries
from .errors import bad_request
from .messages import MessageSeries
from .notices import LOG_LEVELS, AlertSeries, NotificationSeries
from .series import Series
from .timefmt import DAY, parse_bound

CALL_STATUSES = ("queued", "ringing", "in-progress", "completed", "busy", "failed",
                 "no-answer", "canceled")
CONFERENCE_STATUSES = ("init", "in-progress", "completed")
MESSAGE_HISTORY_DAYS = 400
ALERT_RESULT_CAP = 10_000
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000


@dataclass
class Selection:
    record: Callable[[int], dict[str, Any]]
    lo: int
    hi: int
    match: Callable[[int], bool] | None = None

    def count(self) -> int:
        if self.match is None:
            return self.hi - self.lo
        return sum(1 for j in range(self.lo, self.hi) if self.match(j))


def list_selection(items: list[dict[str, Any]]) -> Selection:
    return Selection(items.__getitem__, 0, len(items))


def _address(value: str) -> str:
    # An unencoded "+1415..." arrives as " 1415..." after query-string decoding.
    return "+" + value[1:] if value.startswith(" ") else value


def _time_range(series: Series, params: Mapping[str, str], name: str,
                date_upper: str) -> tuple[int, int, bool]:
    """`X>` on or after, `X<` on or before (a bare date read as `date_upper` says), `X` that
    exact day (or instant). The flag says whether any of them was given: then items whose
    field is null (a call that never started, a message never sent) cannot match."""
    lo_ts: int | None = None
    hi_ts: int | None = None
    try:
        if name + ">" in params:
            lo_ts = parse_bound(params[name + ">"], upper=False)
        if name + "<" in params:
            hi_ts = parse_bound(params[name + "<"], upper=True, date_upper=date_upper)
        if name in params:
            day_lo = parse_bound(params[name], upper=False)
            day_hi = parse_bound(params[name], upper=True, date_upper="whole-day")
            lo_ts = day_lo if lo_ts is None else max(lo_ts, day_lo)
            hi_ts = day_hi if hi_ts is None else min(hi_ts, day_hi)
    except ValueError:
        raise bad_request(f"Invalid date for {name}: expected YYYY-MM-DD or an ISO 8601 "
                          "date-time") from None
    lo, hi = series.index_range(lo_ts, hi_ts)
    return lo, hi, lo_ts is not None or hi_ts is not None


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(name)
    if value is not None and value not in allowed:
        raise bad_request(f"Invalid {name}: {value!r}. Allowed: {', '.join(allowed)}")
    return value


def select_calls(series: CallSeries, params: Mapping[str, str], date_upper: str = "before"
                 ) -> Selection:
    lo, hi, timed = _time_range(series, params, "StartTime", date_upper)
    to = _address(params["To"]) if "To" in params else None
    from_ = _address(params["From"]) if "From" in params else None
    status = _choice(params, "Status", CALL_STATUSES)
    if to is None and from_ is None and status is None and not timed:
        return Selection(series.record, lo, hi)

    def match(j: int) -> bool:
        c = series.core(j)
        return ((to is None or c.to == to) and (from_ is None or c.from_ == from_)
                and (status is None or c.status == status)
                and not (timed and c.status in NEVER_STARTED))
    return Selection(series.record, lo, hi, match)


def select_messages(series: MessageSeries, params: Mapping[str, str], today: date,
                    date_upper: str = "before") -> Selection:
    oldest = today - timedelta(days=MESSAGE_HISTORY_DAYS)
    for key in ("DateSent>", "DateSent"):
        if key in params:
            try:
                asked = parse_bound(params[key], upper=False)
            except ValueError:
                raise bad_request(f"Invalid date for {key}") from None
            if asked < (oldest - date(1970, 1, 1)).days * DAY:
                raise bad_request(
                    f"Messages older than {MESSAGE_HISTORY_DAYS} days cannot be retrieved; "
                    f"{key} must be on or after {oldest.isoformat()}", code=20004)
    lo, hi, timed = _time_range(series, params, "DateSent", date_upper)
    to = _address(params["To"]) if "To" in params else None
    from_ = _address(params["From"]) if "From" in params else None
    if to is None and from_ is None and not timed:
        return Selection(series.record, lo, hi)

    def match(j: int) -> bool:
        m = series.core(j)
        return ((to is None or m.to == to) and (from_ is None or m.from_ == from_)
                and not (timed and m.unsent))
    return Selection(series.record, lo, hi, match)


def select_conferences(series: ConferenceSeries, params: Mapping[str, str],
                       date_upper: str = "before") -> Selection:
    lo, hi, _ = _time_range(series, params, "DateCreated", date_upper)
    # Since July 2026 Twilio lists only in-progress conferences when Status is absent.
    status = _choice(params, "Status", CONFERENCE_STATUSES) or "in-progress"
    name = params.get("FriendlyName")

    def match(j: int) -> bool:
        got_status, got_name = series.status_name(j, series.digest(j))
        return got_status == status and (name is None or got_name == name)
    return Selection(series.record, lo, hi, match)


def select_notifications(series: NotificationSeries, params: Mapping[str, str],
                         date_upper: str = "before") -> Selection:
    lo, hi, _ = _time_range(series, params, "MessageDate", date_upper)
    log = _choice(params, "Log", ("0", "1"))
    if log is None:
        return Selection(series.record, lo, hi)
    return Selection(series.record, lo, hi, lambda j: series.log(series.digest(j)) == log)


def select_alerts(series: AlertSeries, params: Mapping[str, str], date_upper: str = "before"
                  ) -> Selection:
    try:
        lo_ts = parse_bound(params["StartDate"], upper=False) if "StartDate" in params else None
        hi_ts = (parse_bound(params["EndDate"], upper=True, date_upper=date_upper)
                 if "EndDate" in params else None)
    except ValueError:
        raise bad_request("Invalid StartDate or EndDate: expected YYYY-MM-DD or "
                          "YYYY-MM-DDThh:mm:ssZ") from None
    lo, hi = series.index_range(lo_ts, hi_ts)
    level = _choice(params, "LogLevel", tuple(name for name, _ in LOG_LEVELS))
    match = None if level is None else (lambda j: series.log_level(series.digest(j)) == level)
    selection = Selection(series.record, lo, hi, match)
    if hi - lo > ALERT_RESULT_CAP and selection.count() > ALERT_RESULT_CAP:
        raise bad_request(f"Too many results: this query matches more than "
                          f"{ALERT_RESULT_CAP} alerts. Narrow StartDate/EndDate or add LogLevel.")
    return selection


# Paging ------------------------------------------------------------------------------


def page_size(params: Mapping[str, str]) -> int:
    """PageSize defaults to 50; above Twilio's maximum of 1000 it is clamped to 1000."""
    raw = params.get("PageSize")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise bad_request(f"Invalid PageSize: {raw!r}") from None
    if size < 1:
        raise bad_request("PageSize must be at least 1")
    return min(size, MAX_PAGE_SIZE)


def encode_token(direction: str, index: int) -> str:
    # Opaque to clients; "PA" + position (like Twilio's PA-prefixed tokens).
    return f"P{direction}{index:08x}"


def decode_token(token: str) -> tuple[str, int]:
    if len(token) < 3 or token[0] != "P" or token[1] not in "AB":
        raise bad_request(f"Invalid PageToken: {token!r}")
    try:
        return token[1], int(token[2:], 16)
    except ValueError:
        raise bad_request(f"Invalid PageToken: {token!r}") from None


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_token: str | None
    previous_token: str | None


def take_page(sel: Selection, size: int, token: str | None) -> Page:
    """One page of a selection. PA<i> = forward from index i; PB<i> = the page that ends
    just before index i (a previous link)."""
    direction, at = decode_token(token) if token else ("A", sel.lo)
    at = min(max(at, sel.lo), sel.hi)
    match = sel.match
    if direction == "A":
        found: list[int] = []
        j = at
        while j < sel.hi and len(found) <= size:  # one extra match tells if a next exists
            if match is None or match(j):
                found.append(j)
            j += 1
        rows = found[:size]
        nxt = encode_token("A", found[size]) if len(found) > size else None
    else:
        found = []
        j = at - 1
        while j >= sel.lo and len(found) < size:
            if match is None or match(j):
                found.append(j)
            j -= 1
        rows = found[::-1]
        nxt = encode_token("A", at) if at < sel.hi else None
    prev = None
    if rows:
        first = rows[0]
        has_prev = first > sel.lo and (
            match is None or any(match(k) for k in range(first - 1, sel.lo - 1, -1)))
        prev = encode_token("B", first) if has_prev else None
    return Page([sel.record(j) for j in rows], nxt, prev)
