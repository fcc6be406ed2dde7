"""Ground truth from the sandbox world, computed independently of the code under test."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from twilio_reports.sandbox import MAIN_ACCOUNT_SID, SUBACCOUNTS, SandboxWorld

ALL_SIDS = [MAIN_ACCOUNT_SID] + [s[0] for s in SUBACCOUNTS]
NAMES = {MAIN_ACCOUNT_SID: "Sandbox Main", **{s[0]: s[2] for s in SUBACCOUNTS}}
TIME_FIELD = {"calls": "start_time", "messages": "date_sent", "conferences": "date_created",
              "notifications": "message_date", "alerts": "date_generated"}


def instant(text: str | None) -> datetime | None:
    if not text:
        return None
    if "," not in text:  # RFC 2822 has a comma after the weekday; ISO 8601 none
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return email.utils.parsedate_to_datetime(text).astimezone(UTC)


def truth_sids(world: SandboxWorld, report: str, *, sids: list[str] | None = None,
               span: tuple[datetime, datetime] | None = None,
               where: Callable[[dict[str, Any]], bool] = lambda r: True) -> list[str]:
    out: list[str] = []
    for sid in sids or ALL_SIDS:
        for row in world.records(report, sid):
            if span is not None:
                moment = instant(row[TIME_FIELD[report]])
                if moment is None or not span[0] <= moment < span[1]:
                    continue
            if where(row):
                out.append(row["sid"])
    return out


def usage_keys(world: SandboxWorld, granularity: str, *, sids: list[str] | None = None,
               window: tuple[date, date] | None = None, category: str | None = None
               ) -> list[tuple[str, str, str, str]]:
    out = []
    for sid in sids or ALL_SIDS:
        try:
            rows = world.usage_records(sid, granularity, category=category,
                                       start=window[0] if window else None,
                                       end=window[1] if window else None,
                                       include_subaccounts=False)
        except LookupError:  # the archive subaccount has no usage (404)
            continue
        out += [(r["account_sid"], r["category"], r["start_date"], r["end_date"]) for r in rows]
    return out
