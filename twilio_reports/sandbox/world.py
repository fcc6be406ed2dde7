"""SandboxWorld: every account's data, deterministic given (seed, today, volumes)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .accounts import ACCOUNTS, MAIN, Account, crowd, split_volume
from .calls import CallSeries
from .conferences import ConferenceSeries
from .config import SandboxConfig
from .messages import MessageSeries
from .notices import AlertSeries, NotificationSeries
from .series import Series, days_window
from .timefmt import DAY, day_start, rfc2822
from .usage import HISTORY_DAYS, Figures, UsageBook, combine
from .usage_records import granularity_slug, periods, render

REPORTS = ("accounts", "alerts", "calls", "conferences", "notifications", "messages",
           "usage-records")
WINDOW_DAYS = 30  # default days of calls, messages, conferences, notifications and alerts
_ACCOUNT_SUBRESOURCES = (
    "addresses", "conferences", "signing_keys", "transcriptions", "connect_apps", "sip",
    "authorized_connect_apps", "usage", "keys", "applications", "recordings", "short_codes",
    "calls", "notifications", "incoming_phone_numbers", "queues", "messages",
    "outgoing_caller_ids", "available_phone_numbers", "balance")


class UnknownAccount(LookupError):
    pass


class NoUsage(LookupError):
    """The account has never had usage: Twilio answers 404 for it."""


class SandboxWorld:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        config = config or SandboxConfig()
        self.seed = config.seed
        self.today: date = config.today or datetime.now(UTC).date()
        self.today_start = day_start(self.today)
        self.window_days = config.days
        self.window_start, self.window_end = days_window(self.today_start, config.days)
        # Nothing is dated after the moment the world is built: on today's data the last
        # call is a few seconds old, not at 23:45 when it is 20:20. `config.now` pins it
        # (forked processes share the world, so they agree).
        now = config.now if config.now is not None else int(time.time())
        if self.today_start <= now < self.window_end:
            self.window_end = now + 1
        self.as_of = f"{self.today.isoformat()}T00:00:00+00:00"
        self.calls: dict[str, CallSeries] = {}
        self.messages: dict[str, MessageSeries] = {}
        self.conferences: dict[str, ConferenceSeries] = {}
        self.notifications: dict[str, NotificationSeries] = {}
        self.alerts: dict[str, AlertSeries] = {}
        window = {"seed": config.seed, "window_start": self.window_start,
                  "window_end": self.window_end}
        n_calls = split_volume(config.calls)
        n_messages = split_volume(config.messages)
        n_alerts = split_volume(config.alerts)
        n_conf = split_volume(config.conferences if config.conferences is not None
                              else config.calls // 25)
        n_notif = split_volume(config.notifications if config.notifications is not None
                               else config.calls // 20)
        self.accounts: tuple[Account, ...] = ACCOUNTS + crowd(config.seed, config.subaccounts,
                                                              config.busy_every)
        self.by_sid: dict[str, Account] = {a.sid: a for a in self.accounts}
        for acct in self.accounts[len(ACCOUNTS):]:
            n_calls[acct.sid] = acct.calls_per_day * config.days
            n_messages[acct.sid] = n_calls[acct.sid] // 2
            n_alerts[acct.sid] = 0
            n_conf[acct.sid] = n_calls[acct.sid] // 25
            n_notif[acct.sid] = n_calls[acct.sid] // 20
        for acct in self.accounts:
            calls = CallSeries(acct, n=n_calls[acct.sid], **window)
            self.calls[acct.sid] = calls
            near = _nearest_call(calls)
            self.messages[acct.sid] = MessageSeries(acct, n=n_messages[acct.sid], **window)
            self.conferences[acct.sid] = ConferenceSeries(acct, n=n_conf[acct.sid],
                                                          call_sid=near, **window)
            self.notifications[acct.sid] = NotificationSeries(acct, n=n_notif[acct.sid],
                                                              call_sid=near, **window)
            self.alerts[acct.sid] = AlertSeries(acct, n=n_alerts[acct.sid], call_sid=near,
                                                **window)
        self._books: dict[str, UsageBook] = {}
        self._books_combined: dict[str, list[Figures]] | None = None
        self._books_lock = threading.Lock()
        self.settled = False

    def settle(self, settled: bool = True) -> None:
        """Let time pass over the newest records: live calls end and get a price, queued
        messages are sent, conferences finish. Twilio changes records like this for hours
        after they are created, which incremental refreshes must pick up."""
        with self._books_lock:
            for table in (self.calls, self.messages, self.conferences):
                for series in table.values():
                    series.settled = settled
            self._books.clear()  # usage is counted from the records
            self._books_combined = None
            self.settled = settled

    # Accounts -----------------------------------------------------------------------

    def account(self, sid: str) -> Account:
        try:
            return self.by_sid[sid]
        except KeyError:
            raise UnknownAccount(sid) from None

    def visible_accounts(self, viewer: Account) -> tuple[Account, ...]:
        """The main account sees itself and its subaccounts; a subaccount only itself."""
        return self.accounts if viewer.is_main else (viewer,)

    def account_record(self, acct: Account) -> dict[str, Any]:
        created = self.today_start - acct.created_days_ago * DAY + 36_000 + acct.index * 977
        base = f"/2010-04-01/Accounts/{acct.sid}"
        return {
            "auth_token": acct.auth_token,
            "date_created": rfc2822(created),
            "date_updated": rfc2822(created + 86_400 * 3),
            "friendly_name": acct.friendly_name,
            "owner_account_sid": MAIN.sid,
            "sid": acct.sid,
            "status": "active",
            "subresource_uris": {name: f"{base}/{_camel(name)}.json"
                                 for name in _ACCOUNT_SUBRESOURCES},
            "type": "Full",
            "uri": base + ".json",
        }

    # Series -------------------------------------------------------------------------

    def series(self, report: str, account_sid: str) -> Series:
        table = {"calls": self.calls, "messages": self.messages,
                 "conferences": self.conferences, "notifications": self.notifications,
                 "alerts": self.alerts}[report]
        self.account(account_sid)
        return table[account_sid]

    # Usage --------------------------------------------------------------------------

    def usage_book(self, account_sid: str) -> UsageBook:
        acct = self.account(account_sid)
        if acct.traffic_share == 0 and not acct.calls_per_day:
            raise NoUsage(account_sid)
        with self._books_lock:  # building reads every call once: do it once
            book = self._books.get(account_sid)
            if book is None:
                book = UsageBook(seed=self.seed, account_index=acct.index, today=self.today,
                                 calls=self.calls[account_sid],
                                 messages=self.messages[account_sid],
                                 phone_numbers=acct.phone_numbers)
                self._books[account_sid] = book
        return book

    def usage_figures(self, account_sid: str, include_subaccounts: bool
                      ) -> dict[str, list[Figures]]:
        book = self.usage_book(account_sid)
        acct = self.account(account_sid)
        if not (acct.is_main and include_subaccounts):
            return book.days
        with self._books_lock:
            combined = self._books_combined
        if combined is None:
            combined = combine([self.usage_book(a.sid) for a in self.accounts
                                if a.traffic_share > 0 or a.calls_per_day])
            with self._books_lock:
                self._books_combined = combined
        return combined

    @property
    def usage_first_day(self) -> date:
        return self.today - timedelta(days=HISTORY_DAYS - 1)

    def usage_records(self, account_sid: str, granularity: str | None = None, *,
                      category: str | None = None, start: date | None = None,
                      end: date | None = None, include_subaccounts: bool = True
                      ) -> list[dict[str, Any]]:
        slug = granularity_slug(granularity)
        figures = self.usage_figures(account_sid, include_subaccounts)
        first = max(start or self.usage_first_day, self.usage_first_day)
        last = min(end or self.today, self.today)
        acct = self.account(account_sid)
        return list(render(account_sid=account_sid, slug=slug, figures=figures,
                           first_day=self.usage_first_day,
                           spans=periods(slug, first, last, self.today), category=category,
                           currency=acct.currency, as_of=self.as_of))

    # Ground truth -------------------------------------------------------------------

    def records(self, report: str, account_sid: str | None = None,
                granularity: str | None = None, *, include_subaccounts: bool = True
                ) -> list[dict[str, Any]]:
        """Every record of a report for one account, in wire format and in the API's
        order. Unlike the API, conferences include every status (the API's no-Status
        default shows only in-progress ones). Usage: granularity None = daily."""
        sid = account_sid or MAIN.sid
        if report == "accounts":
            return [self.account_record(a) for a in self.visible_accounts(self.account(sid))]
        if report == "usage-records":
            return self.usage_records(sid, granularity, include_subaccounts=include_subaccounts)
        if report not in REPORTS:
            raise ValueError(f"unknown report {report!r} (known: {', '.join(REPORTS)})")
        series = self.series(report, sid)
        return [series.record(j) for j in range(series.n)]


def _nearest_call(calls: CallSeries):  # noqa: ANN202 - a small closure factory
    """ts -> sid of the call at about that time (arithmetic, no search), or None."""
    def near(ts: int) -> str | None:
        if calls.n == 0:
            return None
        j = (calls.window_end - 1 - ts) * calls.n // (calls.window_end - calls.window_start)
        return calls.sid(min(max(j, 0), calls.n - 1))
    return near


def _camel(name: str) -> str:
    special = {"sip": "SIP", "short_codes": "SMS/ShortCodes", "usage": "Usage",
               "balance": "Balance"}
    return special.get(name, "".join(p.capitalize() for p in name.split("_")))
