"""Conferences: mostly completed, a few still in progress or stuck in init, because the
July 2026 default (no Status = in-progress only) must visibly hide most of them."""

from __future__ import annotations

from typing import Any

from .accounts import Account
from .series import Series, pick, u16
from .timefmt import rfc2822

NAMES = ("Daily standup", "Support escalation", "Sales pipeline review", "Incident bridge",
         "Customer onboarding", "Board prep", "Vendor sync", "All hands")
_REASONS = (("last-participant-left", 150), ("conference-ended-via-api", 40),
            ("participant-with-end-conference-on-exit-left", 50),
            ("participant-with-end-conference-on-exit-kicked", 8), ("last-participant-kicked", 8))
LIVE_WINDOW = 3 * 3600


class ConferenceSeries(Series):
    prefix = "CF"

    def __init__(self, account: Account, *, seed: int, n: int, window_start: int,
                 window_end: int, call_sid: Any) -> None:
        super().__init__(seed=seed, kind="conferences", account_index=account.index, n=n,
                         window_start=window_start, window_end=window_end)
        self.account = account
        self._call_sid = call_sid  # callable(ts) -> sid of a call near that time, or None
        self._base = f"/2010-04-01/Accounts/{account.sid}/Conferences/"
        self._region = "ie1" if account.currency == "EUR" else "us1"

    def status_name(self, j: int, d: bytes) -> tuple[str, str]:
        ts = self.ts_from(j, d)
        if j < 2:  # the two newest are always live, so the no-Status default is never empty
            status = "in-progress"
        elif not self.settled and ts >= self.window_end - LIVE_WINDOW:
            status = "in-progress" if d[20] < 200 else "init"
        else:
            status = pick((("completed", 216), ("in-progress", 28), ("init", 12)), d[20])
        return status, NAMES[d[21] % len(NAMES)]

    def record(self, j: int) -> dict[str, Any]:
        d = self.digest(j)
        ts = self.ts_from(j, d)
        status, name = self.status_name(j, d)
        sid = "CF" + d[:16].hex()
        base = self._base + sid
        reason = pick(_REASONS, d[22]) if status == "completed" else None
        ender = self._call_sid(ts) if reason and "end-conference-on-exit" in reason else None
        updated = ts + 300 + u16(d, 23) % 3300 if status == "completed" else ts + d[25] % 30
        return {
            "account_sid": self.account.sid,
            "api_version": "2010-04-01",
            "call_sid_ending_conference": ender,
            "date_created": rfc2822(ts),
            "date_updated": rfc2822(min(updated, self.window_end - 1)),
            "friendly_name": name,
            "reason_conference_ended": reason,
            "region": self._region,
            "sid": sid,
            "status": status,
            "subresource_uris": {"participants": f"{base}/Participants.json",
                                 "recordings": f"{base}/Recordings.json"},
            "uri": base + ".json",
        }
