"""Shared by the hostile-input tests: the values drawn, the world they are fed to, and checks."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as examples
from hypothesis import strategies as st

from datacenter.models import DataSet, TwilioAccount, Version
from datacenter.tests.base import call_rows, write_calls
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make
from scheduler.models import Run, Schedule

# Function-scoped fixtures are shared by a test's examples on purpose: the database keeps
# what earlier examples did, so "nothing saved" is checked against a growing state.
HOSTILE = examples(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The connector page renders ~1,300 options (zones, categories) per answer, ~0.3 s a post:
# fewer examples keep each of these tests near 10 s.
HOSTILE_PAGE = examples(HOSTILE, max_examples=40)

NASTY = (
    "", " ", "\x00", "a\x00b", "\t", "\r\n", "0", "-1", "-0", "+1", "1.5", "1e309", "nan",
    "inf", "-inf", "9" * 40, "-" + "9" * 40, "2147483648", "18446744073709551616", "0x1F",
    "1_000", "01", "²", "٣", "１２", "Ⅻ", "' OR '1'='1", "1; DROP TABLE datacenter_dataset;--",
    '" OR 1=1 --', "%", "_", "\\", "%00", "%2e%2e%2f", "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>', "javascript:alert(1)", " JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>", "../../../../etc/passwd",
    "..\\..\\windows\\win.ini", "/etc/passwd", "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/", "//evil.example.com", "https://evil.example.com",
    "http://127.0.0.1:6379/", "{{7*7}}", "{% debug %}", "${7*7}", "%s%s%n", "{0}",
    "\r\nSet-Cookie: x=1", "\u202e", "\u200b", "\ufeff", "😀" * 50, "𝕏", "İ", "null", "None",
    "true", "[]", "{}", "=HYPERLINK(\"http://x\")", "@SUM(1)", "+1-555-0100",
    "AC" + "g" * 32, "AC" + "A" * 32, "SK" + "0" * 33, "a" * 33, "A" * 10_000,
)


def hostile() -> st.SearchStrategy[str]:
    # Any Unicode but lone surrogates (they cannot be sent as UTF-8 at all).
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
    return st.one_of(
        st.sampled_from(NASTY),
        text,
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.tuples(st.sampled_from("A<\x00é'"), st.integers(1000, 120_000)).map(
            lambda pair: pair[0] * pair[1]
        ),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    )


@pytest.fixture
def world(settings, sandbox) -> dict:
    """alice with a saved sandbox account and a DataSet with one version (30 calls)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    alice = user_make("alice")
    account = sandbox_account_make(alice)
    dataset = dataset_make(alice, account)
    write_calls(dataset, call_rows(30))
    client = Client()
    client.force_login(alice)
    return {"alice": alice, "account": account, "dataset": dataset, "client": client}


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (DataSet, TwilioAccount, Schedule, Run, Version)
    }


def _assert_not_a_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: HTTP {response.status_code}"


def _assert_on_site(location: str) -> None:
    # Relative locations are fine as long as the browser resolves them to this site.
    resolved = urlsplit(urljoin("http://testserver/login/", location))
    assert (resolved.scheme, resolved.netloc) == ("http", "testserver"), location
