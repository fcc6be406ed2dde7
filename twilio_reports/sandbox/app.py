"""The sandbox as a WSGI application: auth, routing, faults, JSON rendering.

Truncated bodies and connection resets cannot be expressed in WSGI; the app marks them in
`environ["sandbox.fault"]` and the sandbox's own server (server.py) carries them out. Under
another WSGI server a "truncate" still sends a body shorter than its Content-Length and a
"reset" becomes an empty 500.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from . import query
from .accounts import MAIN, MAIN_API_KEY_SECRET, MAIN_API_KEY_SID, Account
from .config import SandboxConfig
from .envelopes import envelope_2010, envelope_monitor
from .errors import (
    ApiError,
    bad_request,
    not_found,
    server_error,
    too_many_requests,
    unauthorized,
)
from .faults import Faults, InFlight
from .page_cache import PageCache
from .timefmt import parse_day
from .usage_records import SLUG_BY_SEGMENT
from .world import NoUsage, SandboxWorld, UnknownAccount

StartResponse = Callable[..., Any]
Response = tuple[int, Any, list[tuple[str, str]]]

_ACCOUNT = r"(?P<sid>AC[0-9a-fA-F]{32})"
ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/2010-04-01/Accounts\.json$"), "accounts"),
    (re.compile(rf"^/2010-04-01/Accounts/{_ACCOUNT}\.json$"), "account"),
    (re.compile(rf"^/2010-04-01/Accounts/{_ACCOUNT}/(?P<kind>Calls|Conferences|Notifications"
                r"|Messages)\.json$"), "list"),
    (re.compile(rf"^/2010-04-01/Accounts/{_ACCOUNT}/Usage/Records"
                r"(?:/(?P<sub>Daily|Monthly|Yearly|Today|Yesterday|ThisMonth|LastMonth|AllTime))?"
                r"\.json$"), "usage"),
    (re.compile(r"^/v1/Alerts$"), "alerts"),
)
_LIST_KEYS = {"Calls": "calls", "Conferences": "conferences",
              "Notifications": "notifications", "Messages": "messages"}
_REASONS = {200: "OK", 400: "BAD REQUEST", 401: "UNAUTHORIZED", 404: "NOT FOUND",
            405: "METHOD NOT ALLOWED", 429: "TOO MANY REQUESTS",
            500: "INTERNAL SERVER ERROR", 503: "SERVICE UNAVAILABLE"}


class SandboxApp:
    def __init__(self, config: SandboxConfig, world: SandboxWorld | None = None,
                 in_flight: InFlight | None = None) -> None:
        self.config = config
        self.world = world or SandboxWorld(config)
        self.faults = Faults(config, in_flight)
        self._usage_cache: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()
        self._usage_lock = threading.Lock()
        self.pages = PageCache(config.page_cache_mb)
        # Every API request as (path, decoded query pairs), newest last: tests read what a
        # client really asked for (GET /_sandbox/requests; DELETE clears it).
        self.requests: deque[tuple[str, list[tuple[str, str]]]] = deque(maxlen=200_000)

    # WSGI entry ---------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if path.startswith("/_sandbox/"):
            status, body, headers = self._control(environ, path)
            return _send(start_response, status, body, headers)
        self.requests.append((path, parse_qsl(environ.get("QUERY_STRING", ""),
                                              keep_blank_values=True)))
        try:
            status, body, headers = self._api(environ, path)
        except ApiError as err:
            status, body, headers = err.status, err.body(), err.headers
        fault = environ.get("sandbox.fault")
        if fault == "reset":
            start_response("500 INTERNAL SERVER ERROR", [("Content-Length", "0")])
            return [b""]
        if isinstance(body, bytes):
            data = body  # from the page cache
        else:
            data = json.dumps(body).encode()
            if status == 200 and "sandbox.page_key" in environ:
                self.pages.put(environ["sandbox.page_key"], data)
        if fault == "truncate":
            # Honest headers, cut body: the client must notice the short read.
            headers = [*headers, ("Content-Length", str(len(data)))]
            data = data[: max(1, len(data) // 2)]
        return _send(start_response, status, data, headers)

    def _api(self, environ: dict[str, Any], path: str) -> Response:
        route = None
        for pattern, name in ROUTES:
            m = pattern.match(path)
            if m:
                route = (name, m.groupdict())
                break
        if route is None:
            raise not_found(path)
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            raise ApiError(405, 20004, "Method not allowed")
        viewer = self._authenticate(environ.get("HTTP_AUTHORIZATION", ""))
        held = viewer is not None
        if viewer is not None and not self.faults.acquire(viewer.sid):
            raise too_many_requests(retry_after=False)
        try:
            if self.faults.take_stall():
                self.faults.wait(self.config.stall_seconds)
            self.faults.wait(self.config.latency_ms / 1000)
            fault = self.faults.draw()
            if fault in ("429", "429-retry-after"):
                raise too_many_requests(retry_after=fault == "429-retry-after")
            if fault in ("500", "503"):
                raise server_error(int(fault))
            if fault:
                environ["sandbox.fault"] = fault
            if viewer is None:
                raise unauthorized()
            params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            self._sync_settled()
            # What the body depends on: who asks, what, and the knobs that change answers.
            key = (viewer.sid, path, environ.get("QUERY_STRING", ""),
                   environ.get("HTTP_HOST"), self.config.date_upper, self.config.settled)
            page = self.pages.get(key)
            if page is not None:
                return 200, page, []
            environ["sandbox.page_key"] = key
            return self._route(route[0], route[1], viewer, params, environ, path)
        finally:
            if held and viewer is not None:
                self.faults.release(viewer.sid)

    def _sync_settled(self) -> None:
        """The `settled` knob, applied to the world (and its cached usage) when it changed."""
        if self.world.settled != self.config.settled:
            with self._usage_lock:
                self.world.settle(self.config.settled)
                self._usage_cache.clear()

    # Auth ---------------------------------------------------------------------------

    def _authenticate(self, header: str) -> Account | None:
        if not header.startswith("Basic "):
            return None
        try:
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if user == MAIN_API_KEY_SID:
            return MAIN if hmac.compare_digest(secret, MAIN_API_KEY_SECRET) else None
        acct = self.world.by_sid.get(user)
        if acct is not None and hmac.compare_digest(secret, acct.auth_token):
            return acct
        return None

    def _visible(self, viewer: Account, sid: str, path: str) -> Account:
        try:
            acct = self.world.account(sid)
        except UnknownAccount:
            raise not_found(path) from None
        if acct not in self.world.visible_accounts(viewer):
            raise not_found(path)
        return acct

    # Routes -------------------------------------------------------------------------

    def _route(self, name: str, groups: dict[str, str], viewer: Account,
               params: list[tuple[str, str]], environ: dict[str, Any], path: str) -> Response:
        p = dict(params)
        size = query.page_size(p)
        token = p.get("PageToken") or None
        try:
            page_number = max(0, int(p.get("Page", "0") or 0))
        except ValueError:
            raise bad_request(f"Invalid Page: {p['Page']!r}") from None
        paging = {"params": params, "size": size, "page_number": page_number, "token": token}

        if name == "account":
            return 200, self.world.account_record(self._visible(viewer, groups["sid"], path)), []
        if name == "accounts":
            rows = [self.world.account_record(a) for a in self.world.visible_accounts(viewer)]
            rows = [r for r in rows if ("FriendlyName" not in p or r["friendly_name"] ==
                                        p["FriendlyName"]) and ("Status" not in p or
                                                                r["status"] == p["Status"])]
            page = query.take_page(query.list_selection(rows), size, token)
            return 200, envelope_2010(list_key="accounts", path=path, page=page, **paging), []
        if name == "alerts":
            sel = query.select_alerts(self.world.alerts[viewer.sid], p,
                                      self.config.date_upper)
            page = query.take_page(sel, size, token)
            host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:" \
                f"{environ.get('SERVER_PORT', '80')}"
            base_url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}/v1/Alerts"
            return 200, envelope_monitor(list_key="alerts", base_url=base_url, page=page,
                                         **paging), []
        acct = self._visible(viewer, groups["sid"], path)
        if name == "usage":
            sel = self._usage(acct, groups.get("sub") or "", p, path)
            page = query.take_page(sel, size, token)
            return 200, envelope_2010(list_key="usage_records", path=path, page=page,
                                      **paging), []
        kind = groups["kind"]
        sel = self._list(kind, acct, p)
        page = query.take_page(sel, size, token)
        return 200, envelope_2010(list_key=_LIST_KEYS[kind], path=path, page=page, **paging), []

    def _list(self, kind: str, acct: Account, p: Mapping[str, str]) -> query.Selection:
        w = self.world
        upper = self.config.date_upper  # a live knob: read on every request
        if kind == "Calls":
            return query.select_calls(w.calls[acct.sid], p, upper)
        if kind == "Messages":
            return query.select_messages(w.messages[acct.sid], p, w.today, upper)
        if kind == "Conferences":
            return query.select_conferences(w.conferences[acct.sid], p, upper)
        return query.select_notifications(w.notifications[acct.sid], p, upper)

    def _usage(self, acct: Account, segment: str, p: Mapping[str, str], path: str
               ) -> query.Selection:
        try:
            start = parse_day(p["StartDate"], self.world.today) if "StartDate" in p else None
            end = parse_day(p["EndDate"], self.world.today) if "EndDate" in p else None
        except ValueError:
            raise bad_request("Invalid StartDate or EndDate: expected YYYY-MM-DD") from None
        include = p.get("IncludeSubaccounts", "true").strip().lower() not in ("false", "0")
        key = (acct.sid, segment, p.get("Category") or None, start, end, include)
        with self._usage_lock:
            rows = self._usage_cache.get(key)
        if rows is None:
            try:
                rows = self.world.usage_records(acct.sid, SLUG_BY_SEGMENT[segment],
                                                category=key[2], start=start, end=end,
                                                include_subaccounts=include)
            except NoUsage:
                raise not_found(path) from None
            with self._usage_lock:
                # Paging a daily list re-asks the same query once per page: keep a few.
                self._usage_cache[key] = rows
                while len(self._usage_cache) > 16:
                    self._usage_cache.popitem(last=False)
        return query.list_selection(rows)

    # Control endpoint -----------------------------------------------------------------

    def _control(self, environ: dict[str, Any], path: str) -> tuple[int, bytes, list]:
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_sandbox/requests":
            if method == "DELETE":
                self.requests.clear()
            log = [{"path": p, "params": q} for p, q in list(self.requests)]
            return 200, json.dumps(log).encode(), []
        if path == "/_sandbox/health":
            return 200, json.dumps({"ok": True, "today": self.world.today.isoformat()}).encode(), []
        if path != "/_sandbox/knobs":
            return 404, json.dumps(not_found(path).body()).encode(), []
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                raw = environ["wsgi.input"].read(length) if length else b"{}"
                values = json.loads(raw or b"{}")
                if not isinstance(values, dict):
                    raise ValueError("body must be a JSON object")
                self.config.set_knobs(values)
            except (ValueError, TypeError) as exc:
                err = bad_request(f"Invalid knobs: {exc}")
                return 400, json.dumps(err.body()).encode(), []
            self.faults.reseed()
        elif method != "GET":
            return 405, json.dumps(ApiError(405, 20004, "Method not allowed").body()).encode(), []
        return 200, json.dumps(self.config.knobs()).encode(), []


def _send(start_response: StartResponse, status: int, data: bytes,
          headers: list[tuple[str, str]]) -> list[bytes]:
    names = {k.lower() for k, _ in headers}
    out = [("Content-Type", "application/json; charset=utf-8"), *headers]
    if "content-length" not in names:
        out.append(("Content-Length", str(len(data))))
    start_response(f"{status} {_REASONS.get(status, 'UNKNOWN')}", out)
    return [data]


def make_app(config: SandboxConfig | None = None) -> SandboxApp:
    """WSGI callable with `.world`, `.config` (knobs may change live) and `.faults`."""
    return SandboxApp(config or SandboxConfig())
