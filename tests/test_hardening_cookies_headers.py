"""Hostile cookies and request headers: no value a browser (or a script) can send in a cookie
or a header may turn a page into a 500.

The `tz` cookie is read on every request (web/middleware.py), so a bad one used to take
the whole site down, the login page included: `tz=America` names a directory under zoneinfo
and a 300-character name is longer than a file name may be (both OSError, not the unknown-zone
error). The rest fuzzes every cookie and header the product or Django reads, on the login page
and on the signed-in pages. The number tried is recorded in var/security-figures.json.
"""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from datacenter.tests.base import call_rows, write_calls
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make

pytestmark = pytest.mark.django_db

HOSTILE = examples(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Zone names that are not zones: directories under zoneinfo, names longer than a file name,
# paths, NUL bytes, and names that only look like zones.
BAD_ZONES = (
    "America", "Europe", "Etc", "posix", "right", "A" * 300, "A" * 5000, "America/" + "x" * 300,
    "../../../../etc/passwd", "/etc/localtime", "..", ".", "Europe/../America", "a\x00b",
    "America/New_York\x00", "UTC ", " UTC", "Mars/Olympus_Mons", "é", "😀", "%2e%2e", "\\",
)

# Headers Django or the product reads (HTTP_* as WSGI names them), with how they are used.
HEADERS = (
    "HTTP_HOST",  # ALLOWED_HOSTS
    "HTTP_ACCEPT",  # JSON or HTML answers
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_AUTHORIZATION",  # /status.json's Bearer token
    "HTTP_COOKIE",  # parsed by Django: the whole header, not one cookie
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_ORIGIN",  # CSRF
    "HTTP_RANGE",
    "HTTP_REFERER",  # CSRF on https
    "HTTP_USER_AGENT",  # django-axes records it
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_REQUESTED_WITH",
    "CONTENT_TYPE",
)
# Cookies the product reads, and a few names it does not.
COOKIES = ("tz", "sessionid", "csrftoken", "messages", "django_language", "x", "")


def header_value() -> st.SearchStrategy[str]:
    # A WSGI server hands headers over as latin-1 text; a line break cannot be inside one.
    raw = st.binary(max_size=400).map(lambda b: b.decode("latin-1"))
    return st.one_of(
        st.sampled_from(BAD_ZONES),
        raw,
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=400),
        st.integers(1, 20_000).map(lambda n: "A" * n),
    ).map(_as_wsgi)


def _as_wsgi(value: str) -> str:
    """A header as a WSGI server passes it: its UTF-8 bytes as latin-1 text, one line."""
    if any(ord(c) > 255 for c in value):
        value = value.encode().decode("latin-1")
    return value.replace("\r", "").replace("\n", "")


@pytest.fixture
def world(settings, tmp_path) -> dict:
    settings.DATASET_STORAGE_URI = str(tmp_path / "datasets")
    alice = user_make("alice")
    account = sandbox_account_make(alice)
    dataset = dataset_make(alice, account)
    write_calls(dataset, call_rows(10))
    signed_in = Client()
    signed_in.force_login(alice)
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    return {"dataset": dataset, "account": account, "session": session}


def _pages(world: dict) -> list[str]:
    ds = world["dataset"].pk
    return [
        reverse("login"),
        reverse("datasets"),
        reverse("accounts"),
        reverse("connect-twilio"),
        reverse("dataset", args=[ds]),
        reverse("dataset-data", args=[ds]),
        reverse("dataset-history", args=[ds]),
        reverse("status-json"),
    ]


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_it_ignores_a_tz_cookie_that_is_not_a_zone(world, security_figures, zone):
    for url in _pages(world):
        # Raw, as a WSGI server hands it over: the UTF-8 bytes as latin-1 text.
        cookie = f"tz={zone}".encode().decode("latin-1")
        if url != reverse("login"):
            cookie += f"; sessionid={world['session']}"
        response = Client().get(url, HTTP_COOKIE=cookie)
        # The page, in UTC: the cookie is ignored, not an error.
        assert response.status_code in (200, 403), (url, zone[:40], response.status_code)
        security_figures.add("inputs.cookies")


def test_it_still_uses_a_good_tz_cookie():
    from django.test import RequestFactory
    from django.utils import timezone

    from web.middleware import UserTimezoneMiddleware

    seen = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    for zone, expected in (("Pacific/Auckland", "Pacific/Auckland"), ("America", "UTC")):
        request = RequestFactory().get("/")
        request.COOKIES["tz"] = zone
        UserTimezoneMiddleware(view)(request)
        assert seen[-1] == expected


@HOSTILE
@given(
    data=st.data(),
    cookies=st.dictionaries(st.sampled_from(COOKIES), header_value(), min_size=1, max_size=4),
)
def test_it_answers_hostile_cookies_without_a_500(world, security_figures, data, cookies):
    url = data.draw(st.sampled_from(_pages(world)))
    signed_in = data.draw(st.booleans())
    # The raw Cookie header, as a browser or a script would send it: Django parses it.
    pairs = [f"{name}={value}" for name, value in cookies.items()]
    if signed_in and "sessionid" not in cookies:
        pairs.append(f"sessionid={world['session']}")
    response = Client().get(url, HTTP_COOKIE="; ".join(pairs))
    assert response.status_code < 500, (url, cookies)
    security_figures.add("inputs.cookies")


@HOSTILE
@given(
    data=st.data(),
    headers=st.dictionaries(st.sampled_from(HEADERS), header_value(), min_size=1, max_size=4),
)
def test_it_answers_hostile_headers_without_a_500(world, security_figures, data, headers):
    url = data.draw(st.sampled_from(_pages(world)))
    client = Client()
    client.cookies["sessionid"] = world["session"]
    if data.draw(st.booleans()):
        response = client.get(url, **headers)
    else:
        # A POST as well: the login form (django-axes reads the headers) and the connector.
        target = data.draw(st.sampled_from([reverse("login"), reverse("connect-twilio")]))
        response = client.post(
            target, {"username": "alice", "password": "wrong"}, **headers
        )
    assert response.status_code < 500, (url, headers)
    security_figures.add("inputs.headers")


@pytest.mark.django_db
def test_it_treats_a_session_cookie_with_a_nul_byte_as_no_session():
    # PostgreSQL refuses NUL in text: such a key must never reach a session query.
    client = Client()
    for value in ("America/New_York\x00", "abc\x00defghij", "x" * 300, "../../etc/passwd"):
        client.cookies["sessionid"] = value
        response = client.get(reverse("login"))
        assert response.status_code == 200, repr(value)
