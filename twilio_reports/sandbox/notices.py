"""Debugger output: 2010 Notifications and monitor Alerts (same events, two shapes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from .accounts import Account
from .series import Series, pick
from .timefmt import iso8601, rfc2822

ERRORS = (("11200", "HTTP retrieval failure"), ("13227", "No International Authorization"),
          ("21211", "Invalid 'To' Phone Number"), ("11750", "TwiML response body too large"))
WARNINGS = (("13224", "Dial: Invalid phone number"), ("82002", "Error on Twilio Function response"),
            ("15003", "Call Progress: Warning Response to Callback URL"))
LOG_LEVELS = (("error", 100), ("warning", 100), ("notice", 40), ("debug", 16))
_URLS = ("https://demo.example.com/twilio/voice", "https://demo.example.com/twilio/status",
         "https://hooks.example.org/sms")


def _event(d: bytes, error: bool) -> tuple[str, str, str, str]:
    code, text = (ERRORS if error else WARNINGS)[d[22] % (4 if error else 3)]
    url = _URLS[d[23] % len(_URLS)]
    msg = (f"Msg={quote_plus(text)}&sourceComponent=12000&ErrorCode={code}"
           f"&url={quote_plus(url)}&LogLevel={'ERROR' if error else 'WARN'}")
    return code, msg, url, "POST" if d[24] < 200 else "GET"


class NotificationSeries(Series):
    prefix = "NO"

    def __init__(self, account: Account, *, seed: int, n: int, window_start: int,
                 window_end: int, call_sid: Callable[[int], str | None]) -> None:
        super().__init__(seed=seed, kind="notifications", account_index=account.index, n=n,
                         window_start=window_start, window_end=window_end)
        self.account = account
        self._call_sid = call_sid
        self._base = f"/2010-04-01/Accounts/{account.sid}/Notifications/"

    def log(self, d: bytes) -> str:
        return "0" if d[20] < 90 else "1"  # 0 = error, 1 = warning

    def record(self, j: int) -> dict[str, Any]:
        d = self.digest(j)
        ts = self.ts_from(j, d)
        log = self.log(d)
        code, msg, url, method = _event(d, log == "0")
        sid = "NO" + d[:16].hex()
        return {
            "account_sid": self.account.sid,
            "api_version": "2010-04-01",
            "call_sid": self._call_sid(ts),
            "date_created": rfc2822(min(ts + 1, self.window_end - 1)),
            "date_updated": rfc2822(min(ts + 1, self.window_end - 1)),
            "error_code": code,
            "log": log,
            "message_date": rfc2822(ts),
            "message_text": msg,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "request_method": method,
            "request_url": url,
            "sid": sid,
            "uri": f"{self._base}{sid}.json",
        }


class AlertSeries(Series):
    prefix = "NO"

    def __init__(self, account: Account, *, seed: int, n: int, window_start: int,
                 window_end: int, call_sid: Callable[[int], str | None]) -> None:
        super().__init__(seed=seed, kind="alerts", account_index=account.index, n=n,
                         window_start=window_start, window_end=window_end)
        self.account = account
        self._call_sid = call_sid

    def log_level(self, d: bytes) -> str:
        return pick(LOG_LEVELS, d[20])

    def record(self, j: int) -> dict[str, Any]:
        d = self.digest(j)
        ts = self.ts_from(j, d)
        level = self.log_level(d)
        code, msg, url, method = _event(d, level == "error")
        sid = "NO" + d[:16].hex()
        return {
            "account_sid": self.account.sid,
            "alert_text": msg,
            "api_version": "2010-04-01",
            "date_created": iso8601(ts),
            "date_generated": iso8601(ts),
            "date_updated": iso8601(min(ts + 1, self.window_end - 1)),
            "error_code": code,
            "log_level": level,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "request_method": method,
            "request_url": url,
            "resource_sid": self._call_sid(ts),
            "service_sid": None,
            "sid": sid,
            "url": f"https://monitor.twilio.com/v1/Alerts/{sid}",
        }
