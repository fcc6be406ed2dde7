"""Helpers shared by the security and reliability tests: URL enumeration and page checks.

The URL list is read from the resolver, so a view added later is covered without editing
these tests (the tests fail when a new URL keyword appears that they cannot fill in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# URL keywords the tests know how to fill: an account or DataSet id, a version number.
KNOWN_KWARGS = frozenset({"pk", "number"})
# Not pages of the product: Django's admin has its own tests.
SKIPPED_NAMESPACES = frozenset({"admin"})


@dataclass(frozen=True)
class NamedUrl:
    name: str
    pattern: URLPattern

    @property
    def kwargs(self) -> frozenset[str]:
        return frozenset(self.pattern.pattern.converters)

    @property
    def parameterised(self) -> bool:
        return bool(self.kwargs)


def named_urls() -> list[NamedUrl]:
    found: list[NamedUrl] = []

    def walk(resolver: URLResolver) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                if p.namespace not in SKIPPED_NAMESPACES:
                    walk(p)
            elif p.name:
                found.append(NamedUrl(p.name, p))

    walk(get_resolver())
    return found


def fill(url: NamedUrl, *, account_pk: int, dataset_pk: int, number: int = 1) -> str:
    """The URL of `url` for the given objects (accounts' URLs take the account's pk)."""
    assert url.kwargs <= KNOWN_KWARGS, f"{url.name}: teach tests/support.py about {url.kwargs}"
    values: dict[str, int] = {}
    if "pk" in url.kwargs:
        values["pk"] = account_pk if url.name.startswith("account") else dataset_pk
    if "number" in url.kwargs:
        values["number"] = number
    return reverse(url.name, kwargs=values)


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
# An event-handler attribute inside a tag: <a onclick=...>, <body onload=...>.
EVENT_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
POST_FORM = re.compile(
    r"<form\b[^>]*method=[\"']?post[^>]*>(.*?)</form>", re.IGNORECASE | re.DOTALL
)


def inline_script_problems(html: str) -> list[str]:
    """Scripts the CSP would block or that need 'unsafe-inline': inline code, event-handler
    attributes, javascript: URLs. JSON data blocks (json_script) are data, not code."""
    problems = []
    for attrs, body in SCRIPT_TAG.findall(html):
        if "src=" in attrs.lower():
            if body.strip():
                problems.append(f"<script{attrs}> with a body")
            continue
        if re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attrs, re.IGNORECASE):
            continue
        problems.append(f"inline <script{attrs}>{body[:60]}")
    problems += [m.group(0)[:80] for m in EVENT_ATTRIBUTE.finditer(html)]
    problems += [m.group(0)[:80] for m in JAVASCRIPT_URL.finditer(html)]
    return problems


def post_forms_without_token(html: str) -> list[str]:
    return [
        body[:80] for body in POST_FORM.findall(html) if "csrfmiddlewaretoken" not in body
    ]
