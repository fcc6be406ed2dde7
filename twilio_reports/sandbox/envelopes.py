"""List envelopes of the two APIs (2010: relative *_uri links; monitor: absolute meta urls)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .query import Page

PAGING_PARAMS = ("PageSize", "Page", "PageToken")


def _query(filters: list[tuple[str, str]], size: int, page: int, token: str | None) -> str:
    # urlencode turns the key "StartTime>" into "StartTime%3E", as Twilio writes links.
    items = [*filters, ("PageSize", str(size)), ("Page", str(page))]
    if token:
        items.append(("PageToken", token))
    return urlencode(items)


def filters_of(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params if k not in PAGING_PARAMS]


def envelope_2010(*, list_key: str, path: str, params: list[tuple[str, str]], size: int,
                  page_number: int, token: str | None, page: Page) -> dict[str, Any]:
    filters = filters_of(params)
    start = page_number * size
    return {
        "end": start + len(page.items) - 1 if page.items else start,
        "first_page_uri": f"{path}?{_query(filters, size, 0, None)}",
        list_key: page.items,
        "next_page_uri": f"{path}?{_query(filters, size, page_number + 1, page.next_token)}"
        if page.next_token else None,
        "page": page_number,
        "page_size": size,
        "previous_page_uri":
            f"{path}?{_query(filters, size, max(page_number - 1, 0), page.previous_token)}"
            if page.previous_token else None,
        "start": start,
        "uri": f"{path}?{_query(filters, size, page_number, token)}",
    }


def envelope_monitor(*, list_key: str, base_url: str, params: list[tuple[str, str]],
                     size: int, page_number: int, token: str | None, page: Page
                     ) -> dict[str, Any]:
    filters = filters_of(params)
    return {
        list_key: page.items,
        "meta": {
            "first_page_url": f"{base_url}?{_query(filters, size, 0, None)}",
            "key": list_key,
            "next_page_url": f"{base_url}?{_query(filters, size, page_number + 1, page.next_token)}"
            if page.next_token else None,
            "page": page_number,
            "page_size": size,
            "previous_page_url":
                f"{base_url}?{_query(filters, size, max(page_number - 1, 0), page.previous_token)}"
                if page.previous_token else None,
            "url": f"{base_url}?{_query(filters, size, page_number, token)}",
        },
    }
