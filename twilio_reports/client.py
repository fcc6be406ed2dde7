"""HTTP to Twilio: auth, timeouts, retries with backoff, paging, and plain-words errors.

One `TwilioClient` (one `httpx.Client`, i.e. one connection pool) serves a whole pull and is
shared by its fetch threads; every request holds a slot of its account's budget (budget.py),
shared with every other pull of that account, because Twilio's concurrency limit (error
20429) is counted per account.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pyarrow as pa

from twilio_reports.budget import LOCAL
from twilio_reports.errors import TwilioError, _Cancelled
from twilio_reports.lean import cores, hidden
from twilio_reports.pull_config import (
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_PAGES,
    PullConfig,
    PullStats,
    RetryPolicy,
    parse_retry_after,
)

with hidden("httpx._main"):  # httpx's command line client (see lean.py)
    import httpx

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "DEFAULT_MAX_PAGES", "PullConfig", "PullStats",
           "RetryPolicy", "TwilioClient", "TwilioError", "parse_retry_after"]

T = TypeVar("T")


class BrokenBody(ValueError):
    """A 2xx body that is not the JSON object it must be (truncated, garbled): retried."""


def plain_error(label: str, status: int, body: dict[str, Any] | None) -> TwilioError:
    """Twilio's error JSON -> `Calls: Twilio rejected the credentials (20003)`."""
    code = _int_or_none((body or {}).get("code"))
    said = str((body or {}).get("message") or "").strip()
    tag = f" ({code})" if code else f" (HTTP {status})"
    if status == 401 or code == 20003:
        # Twilio's own words matter to the user ("Authenticate", "Account suspended"...).
        return TwilioError(
            f"{label}: Twilio rejected the credentials{tag}"
            + (f'. Twilio said: "{said}"' if said else ""),
            code=code,
            status=status,
        )
    if status == 403:
        text = "Twilio refused access" + (f": {said}" if said else "")
    elif status == 404:
        text = "Twilio found nothing at this address" + (f": {said}" if said else "")
    elif status == 429:
        text = "Twilio kept answering 'too many requests'"
    elif status >= 500:
        text = f"Twilio kept failing (HTTP {status})"
    else:
        text = "Twilio rejected the request" + (f": {said}" if said else "")
    return TwilioError(f"{label}: {text}{tag}", code=code, status=status)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class TwilioClient:
    def __init__(
        self,
        auth: tuple[str, str],
        *,
        label: str,
        config: PullConfig,
        stats: PullStats,
        stop: threading.Event | None = None,
        rng: Callable[[], float] = random.random,
        budget_key: str | None = None,
    ):
        self._auth = auth
        # Whose request budget the credentials spend: the Account SID (an API key's
        # requests count against its account).
        self.budget_key = budget_key or auth[0]
        self._budget = config.budget or LOCAL
        self.label = label
        self.config = config
        self.stats = stats
        self.stop = stop or threading.Event()
        self._rng = rng
        self._http = httpx.Client(
            auth=httpx.BasicAuth(*auth),
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout,
                                  pool=None),
            limits=httpx.Limits(max_connections=config.max_workers + 4,
                                max_keepalive_connections=config.max_workers + 4),
            headers={"Accept": "application/json", "User-Agent": "twilio-advanced-connector"},
            follow_redirects=False,
            transport=config.transport,
        )
        # A Calls page is ~2 MB. With 10 requests in flight, reading every answer as it comes
        # holds ten bodies in memory at once although only one per core can be decoded at a
        # time. A request that has its answer's headers waits here for a slot before it
        # reads the body, so the rest of the body waits in the socket (the kernel's buffer,
        # then the server), not in this process; the slot is held until the body is decoded.
        # Requests in flight, and so the latency each one waits out, are not limited by it.
        self._bodies = threading.BoundedSemaphore(
            config.bodies_at_once or cores())

    def __repr__(self) -> str:  # the auth tuple holds the secret: never show it
        return f"TwilioClient(user={self._auth[0]!r}, label={self.label!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TwilioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sleep(self, seconds: float) -> None:
        if self.config.sleep is not None:
            self.config.sleep(seconds)
        elif self.stop.wait(seconds):
            raise _Cancelled()

    def get_json(self, url: str, params: dict[str, str] | None = None, *,
                 account: str = "", auth: tuple[str, str] | None = None) -> dict[str, Any]:
        """GET a JSON object, retrying what is safe to retry; raises TwilioError otherwise."""
        return self.get(url, params, parse=parse_object, account=account, auth=auth)

    def get(self, url: str, params: dict[str, str] | None = None, *,
            parse: Callable[[pa.Buffer], T], account: str = "",
            auth: tuple[str, str] | None = None) -> T:
        """GET a 2xx body (an Arrow buffer, see `_read_body`) decoded by `parse`; a body
        `parse` calls broken is retried.

        `parse` runs in the calling (fetch) thread, outside the in-flight semaphore, so a
        slow decode never holds a request slot.
        """
        policy = self.config.retry
        failures = 0  # retries spent on 5xx / network / broken bodies
        throttled = 0  # retries spent on 429
        while True:
            if self.stop.is_set():
                raise _Cancelled()
            retry_after: str | None = None
            problem: TwilioError
            throttled_now = False  # a 429: wait (outside the body slot), then ask again
            with ExitStack() as body_slot:  # from reading the body to the end of `parse`
                try:
                    response, content = self._send(url, params, auth, body_slot)
                except httpx.TimeoutException:
                    problem = TwilioError(f"{self.label}: Twilio did not answer in time")
                except httpx.TransportError as exc:
                    host = urlsplit(url).netloc
                    problem = TwilioError(
                        f"{self.label}: could not reach Twilio at {host} ({type(exc).__name__})")
                else:
                    status = response.status_code
                    body = None if 200 <= status < 300 else _loads(content)
                    error_body = body if isinstance(body, dict) else None
                    if 200 <= status < 300:
                        try:
                            return parse(content)
                        except BrokenBody:
                            problem = TwilioError(
                                f"{self.label}: Twilio sent a broken page (invalid JSON)")
                    elif status == 429:
                        throttled += 1
                        if throttled > policy.max_429_retries:
                            raise plain_error(self.label, status, error_body)
                        throttled_now, retry_after = True, response.headers.get("Retry-After")
                    elif status >= 500:
                        problem = plain_error(self.label, status, error_body)
                        retry_after = response.headers.get("Retry-After")
                    else:
                        raise plain_error(self.label, status, error_body)
            if throttled_now:
                self.stats.add(retries=1)
                self._sleep(policy.delay(min(throttled, 16), retry_after, self._rng))
                continue
            failures += 1
            if failures > policy.max_retries:
                problem.message += f" after {policy.max_retries} retries"
                problem.args = (problem.message,)
                raise problem
            self.stats.add(retries=1)
            self._sleep(policy.delay(failures, retry_after, self._rng))

    def _send(self, url: str, params: dict[str, str] | None, auth: tuple[str, str] | None,
              body_slot: ExitStack) -> tuple[httpx.Response, pa.Buffer]:
        """One request and its whole body; the body slot it takes stays held by `body_slot`."""
        # Twilio caps requests in flight per authenticating account: a main account reading
        # its subaccounts' lists spends its own budget.
        key = auth[0] if auth else self.budget_key
        with self._budget.slot(key, self.config.max_in_flight):
            self.stats.add(requests=1)
            extra = {"auth": httpx.BasicAuth(*auth)} if auth else {}
            with self._http.stream("GET", url, params=params, **extra) as response:
                body_slot.enter_context(self._bodies)
                return response, _read_body(response)

    def iter_pages(self, base: str, path: str, params: dict[str, str], *,
                   account: str = "", auth: tuple[str, str] | None = None,
                   ) -> Iterator[dict[str, Any]]:
        """Every page of a list as a decoded JSON object (see `iter_parsed`)."""
        return self.iter_parsed(base, path, params, parse=parse_object, link=next_link,
                                account=account, auth=auth)

    def iter_parsed(self, base: str, path: str, params: dict[str, str], *,
                    parse: Callable[[pa.Buffer], T], link: Callable[[T], str | None],
                    account: str = "", auth: tuple[str, str] | None = None) -> Iterator[T]:
        """Every page of a list, decoded by `parse`, following `link(page)` until it is null.

        A next link seen twice or more pages than the configured limit ends the pull with an
        error instead of looping forever.
        """
        url: str | None = base.rstrip("/") + path
        query: dict[str, str] | None = {**params, "PageSize": str(self.config.page_size)}
        seen: set[str] = set()
        while url:
            page = self.get(url, query, parse=parse, account=account, auth=auth)
            self.stats.add(pages=1)
            if self.stats.pages > self.config.max_pages:
                raise TwilioError(
                    f"{self.label}: stopped after {self.config.max_pages} pages "
                    "(the page limit); Twilio kept sending more")
            yield page
            nxt = link(page)
            if not nxt:
                return
            url = repoint(nxt, base)
            if url in seen:
                raise TwilioError(f"{self.label}: Twilio sent the same next page twice; "
                                  "stopped instead of looping")
            seen.add(url)
            query = None  # the next link carries every parameter


def _read_body(response: httpx.Response) -> pa.Buffer:
    """The whole (decoded) body in one Arrow buffer, sized from Content-Length when the body
    is not compressed, so a page is one allocation, not chunks plus a copy. Arrow's pool, not
    Python bytes: it is handed to pyarrow.json as it is (connector_site/__init__.py says
    which allocator holds it)."""
    size = response.headers.get("Content-Length", "")
    if size.isdigit() and "Content-Encoding" not in response.headers:
        buffer = pa.allocate_buffer(int(size), resizable=True)
        sized = pa.FixedSizeBufferWriter(buffer)
        for chunk in response.iter_bytes():
            sized.write(chunk)  # more bytes than announced: h11 has already refused them
        return buffer.slice(0, sized.tell())
    grown = pa.BufferOutputStream()
    for chunk in response.iter_bytes():
        grown.write(chunk)
    return grown.getvalue()


def _loads(content: pa.Buffer) -> Any:
    try:
        return json.loads(content.to_pybytes())
    except (ValueError, UnicodeDecodeError):
        return None


def parse_object(content: pa.Buffer) -> dict[str, Any]:
    """The JSON object a 2xx answer carries; BrokenBody (retried) for anything else."""
    body = _loads(content)
    if not isinstance(body, dict):
        raise BrokenBody("not a JSON object")
    return body


def next_link(page: dict[str, Any]) -> str | None:
    meta = page.get("meta")
    if isinstance(meta, dict) and meta.get("next_page_url"):
        return str(meta["next_page_url"])
    nxt = page.get("next_page_uri")
    return str(nxt) if nxt else None


def repoint(link: str, base: str) -> str:
    """Absolute next links go to the configured base (sandbox, mock, region), not elsewhere."""
    parts = urlsplit(link)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    base_parts = urlsplit(base)
    prefix = base_parts.path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix):]
    return f"{base_parts.scheme}://{base_parts.netloc}{prefix}{path}"
