"""The sandbox's page cache (`--page-cache-mb`): same bytes for the same query, knobs and
faults still honoured, memory bounded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from twilio_reports.management.commands.twilio_sandbox import Command
from twilio_reports.sandbox import (
    MAIN_ACCOUNT_SID,
    MAIN_AUTH_TOKEN,
    SandboxConfig,
    SandboxServer,
    start_server,
)
from twilio_reports.sandbox.page_cache import PageCache

MAIN = (MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN)
CALLS = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json"
DAY = {"PageSize": "50", "StartTime>": "2026-11-10", "StartTime<": "2026-11-12"}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(today=date(2026, 11, 20), calls=2000, page_cache_mb=8)
    with start_server(config) as s:
        yield s


def _get(sandbox: SandboxServer, params: dict[str, str], **kw: object) -> httpx.Response:
    return httpx.get(sandbox.url + CALLS, params=params, auth=MAIN, **kw)  # type: ignore[arg-type]


def test_it_answers_a_repeated_query_with_the_same_bytes(sandbox):
    first = _get(sandbox, DAY)
    again = _get(sandbox, DAY)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and len(first.json()["calls"]) == 50
    assert len(sandbox.app.pages._pages) == 1


def test_it_keeps_the_next_page_apart(sandbox):
    first = _get(sandbox, DAY).json()
    second = httpx.get(sandbox.url + first["next_page_uri"], auth=MAIN).json()
    assert {c["sid"] for c in first["calls"]}.isdisjoint(c["sid"] for c in second["calls"])


def test_it_answers_another_reading_of_the_upper_bound_afresh(sandbox):
    bound = {"PageSize": "1000", "StartTime>": "2026-11-10", "StartTime<": "2026-11-11"}
    before = _get(sandbox, bound).json()["calls"]
    sandbox.config.date_upper = "whole-day"
    whole = _get(sandbox, bound).json()["calls"]
    assert len(whole) > len(before) > 0


def test_it_still_applies_faults_and_auth_to_cached_pages(sandbox):
    assert _get(sandbox, DAY).status_code == 200
    sandbox.config.rate_5xx = 1.0
    assert _get(sandbox, DAY).status_code in (500, 503)
    sandbox.config.rate_5xx = 0.0
    assert httpx.get(sandbox.url + CALLS, params=DAY, auth=(MAIN_ACCOUNT_SID, "wrong")
                     ).status_code == 401


def test_it_is_off_by_default():
    with start_server(SandboxConfig(today=date(2026, 11, 20), calls=200)) as s:
        _get(s, DAY)
        assert not s.app.pages._pages


def test_it_drops_the_least_recently_used_pages_beyond_its_limit():
    cache = PageCache(1)
    cache.put("a", b"x" * 400_000)
    cache.put("b", b"y" * 400_000)
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("c", b"z" * 400_000)
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.put("huge", b"h" * 2_000_000)  # larger than the whole cache: never kept
    assert cache.get("huge") is None


def test_it_is_a_command_flag():
    parser = Command().create_parser("manage.py", "twilio_sandbox")
    options = vars(parser.parse_args(["--port", "1", "--page-cache-mb", "64"]))
    assert Command().config_from(options).page_cache_mb == 64
