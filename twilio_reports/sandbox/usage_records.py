"""Usage figures -> usage records in wire format, per Twilio subresource (granularity)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from .usage import CATEGORIES, Figures

# Granularity slug -> path segment after /Usage/Records ("" is Records.json itself).
SUBRESOURCES: dict[str, str] = {
    "records": "", "all-time": "AllTime", "daily": "Daily", "monthly": "Monthly",
    "yearly": "Yearly", "today": "Today", "yesterday": "Yesterday",
    "this-month": "ThisMonth", "last-month": "LastMonth",
}
SLUG_BY_SEGMENT = {seg: slug for slug, seg in SUBRESOURCES.items()}
_SUBRESOURCE_KEYS = (("all_time", "AllTime"), ("today", "Today"), ("yesterday", "Yesterday"),
                     ("this_month", "ThisMonth"), ("last_month", "LastMonth"),
                     ("daily", "Daily"), ("monthly", "Monthly"), ("yearly", "Yearly"))


def granularity_slug(granularity: str | None) -> str:
    """Accept slugs (`daily`, `all-time`), path names (`Daily`, `AllTime`) or None (daily)."""
    if granularity is None:
        return "daily"
    if granularity in SUBRESOURCES:
        return granularity
    if granularity in SLUG_BY_SEGMENT:
        return SLUG_BY_SEGMENT[granularity]
    normal = granularity.lower().replace("_", "-").replace(" ", "-")
    normal = {"alltime": "all-time", "thismonth": "this-month", "lastmonth": "last-month"}.get(
        normal, normal)
    if normal in SUBRESOURCES:
        return normal
    raise ValueError(f"unknown usage granularity {granularity!r}")


def periods(slug: str, first: date, last: date, today: date) -> list[tuple[date, date]]:
    """The (start, end) periods a subresource reports, newest first, clipped to first..last
    for the ranged kinds; the fixed kinds (today, last-month, ...) ignore the range."""
    month_start = today.replace(day=1)
    fixed = {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1),) * 2,
        "this-month": (month_start, today),
        "last-month": ((month_start - timedelta(days=1)).replace(day=1),
                       month_start - timedelta(days=1)),
    }
    if slug in fixed:
        return [fixed[slug]]
    if first > last:
        return []
    if slug in ("records", "all-time"):
        return [(first, last)]
    out: list[tuple[date, date]] = []
    if slug == "daily":
        day = last
        while day >= first:
            out.append((day, day))
            day -= timedelta(days=1)
        return out
    cursor = last
    while cursor >= first:
        start = cursor.replace(day=1) if slug == "monthly" else cursor.replace(month=1, day=1)
        out.append((max(start, first), cursor))
        cursor = start - timedelta(days=1)
    return out


def render(*, account_sid: str, slug: str, figures: dict[str, list[Figures]], first_day: date,
           spans: list[tuple[date, date]], category: str | None, currency: str,
           as_of: str) -> Iterator[dict[str, Any]]:
    base = f"/2010-04-01/Accounts/{account_sid}/Usage/Records"
    segment = SUBRESOURCES[slug]
    list_path = f"{base}/{segment}.json" if segment else f"{base}.json"
    cats = [c for c in CATEGORIES if category is None or c.name == category]
    n_days = len(next(iter(figures.values())))
    for start, end in spans:
        lo = max(0, (start - first_day).days)
        hi = min(n_days, (end - first_day).days + 1)
        for cat in cats:
            days = figures[cat.name][lo:hi] if hi > lo else []
            count = sum(f[0] for f in days)
            usage = sum(f[1] for f in days)
            price = sum(f[2] for f in days)
            yield {
                "account_sid": account_sid,
                "api_version": "2010-04-01",
                "as_of": as_of,
                "category": cat.name,
                "count": str(count),
                "count_unit": cat.count_unit,
                "description": cat.description,
                "end_date": end.isoformat(),
                "price": round(price / 100_000, 5),
                "price_unit": currency.lower(),
                "start_date": start.isoformat(),
                "subresource_uris": {key: f"{base}/{seg}.json?Category={cat.name}"
                                     for key, seg in _SUBRESOURCE_KEYS},
                "uri": f"{list_path}?Category={cat.name}&StartDate={start.isoformat()}"
                       f"&EndDate={end.isoformat()}",
                "usage": f"{usage / 100_000:.5f}" if cat.kind == "total" else str(usage),
                "usage_unit": currency.lower() if cat.kind == "total" else cat.usage_unit,
            }
