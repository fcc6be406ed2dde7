"""A 500 while a token is in play puts no token into Django's error reports.

Each view and service that receives a token is made to fail deep inside (where the token is a
local variable of several frames and a POST field), then the two reports Django builds from
that failure are searched for the token, plain and Basic-auth encoded:

- the technical 500 page (django.views.debug.ExceptionReporter, as DEBUG=True shows it);
- the error e-mail to ADMINS (AdminEmailHandler, text and HTML), as production sends it.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from datacenter import crypto, services
from datacenter.models import TwilioAccount
from datacenter.tests.base import connector_post
from datacenter.tests.factories import sandbox_account_make, user_make
from twilio_reports.sandbox import MAIN_ACCOUNT_SID
from web.views import connect

pytestmark = pytest.mark.django_db

# Marks a post as htmx's (the tests' client sends it as a header, see _post).
HTMX = {"__htmx_target": "pane-details"}
# A token nobody else uses, so any occurrence is this test's.
TOKEN = "5ec7e7d0" * 4


def _needles() -> dict[str, str]:
    return {
        "token": TOKEN,
        "token (Basic auth)": base64.b64encode(f"{MAIN_ACCOUNT_SID}:{TOKEN}".encode()).decode(),
    }


def _boom(*_: object, **__: object) -> None:
    raise RuntimeError("forced failure")


def _new_account_fields(prefix: str = "") -> dict[str, str]:
    return {
        f"{prefix}name": "Leaky",
        f"{prefix}account_sid": MAIN_ACCOUNT_SID,
        f"{prefix}auth_token": TOKEN,
        f"{prefix}region": "sandbox",
    }


# Each case: (the URL, the POST data, what to break). The breakage is deep on purpose: the
# token is then a local of the view, the form, the service and crypto frames.
def _cases(account: TwilioAccount) -> dict[str, tuple[str, dict, Callable]]:
    def twilio_fails(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(services, "check_credentials", _boom)

    def encryption_fails(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(services, "check_credentials", lambda credentials: "ok")
        mp.setattr(crypto, "fernet", _boom)

    def preview_fails(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(connect, "twilio_preview", _boom)

    page = connector_post(**_new_account_fields("cred-"))
    return {
        "account add (Twilio check)": (reverse("account-add"), _new_account_fields(),
                                       twilio_fails),
        "account add (save)": (reverse("account-add"), _new_account_fields(), encryption_fails),
        "account edit (Twilio check)": (
            reverse("account-edit", args=[account.pk]),
            {"name": "Renamed", "secret": TOKEN, "region": "sandbox"},
            twilio_fails,
        ),
        "account edit (save)": (
            reverse("account-edit", args=[account.pk]),
            {"name": "Renamed", "secret": TOKEN, "region": "sandbox"},
            encryption_fails,
        ),
        "connector Connect (htmx)": (
            reverse("connect-twilio"), {**page, "_connect": "1", **HTMX}, twilio_fails
        ),
        "connector Connect (no JavaScript)": (
            reverse("connect-twilio"), {**page, "_connect": "1"}, twilio_fails
        ),
        "connector Preview (htmx)": (
            reverse("connect-twilio"), {**page, "_preview": "1", **HTMX}, preview_fails
        ),
        "connector Load Preview (no JavaScript)": (
            reverse("connect-twilio"), {**page, "_preview": "1"}, preview_fails
        ),
        "connector Save": (reverse("connect-twilio"), page, encryption_fails),
        "account test (service)": (
            reverse("account-test", args=[account.pk]), {}, twilio_fails
        ),
    }


CASE_NAMES = (
    "account add (Twilio check)", "account add (save)", "account edit (Twilio check)",
    "account edit (save)", "connector Connect (htmx)", "connector Connect (no JavaScript)",
    "connector Preview (htmx)", "connector Load Preview (no JavaScript)", "connector Save",
    "account test (service)",
)


@pytest.fixture
def world(settings) -> Iterator[dict]:
    settings.TWILIO_SANDBOX_URL = "http://127.0.0.1:9"  # never reached: Twilio is patched
    settings.ADMINS = [("Ops", "ops@example.com")]
    alice = user_make("alice")
    # The account's own stored token is this test's token too: `account test` decrypts it.
    account = sandbox_account_make(alice, token=TOKEN)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    # The production e-mail, with the HTML report attached (Django's default sends text only).
    handler = AdminEmailHandler(include_html=True)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield {"client": client, "account": account}
    logger.removeHandler(handler)


def _post(client: Client, url: str, data: dict):
    target = data.pop("__htmx_target", None) if "__htmx_target" in data else None
    if target:
        return client.post(url, data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)
    return client.post(url, data)


def _leaks(text: str) -> list[str]:
    return [label for label, needle in _needles().items() if needle in text]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_it_keeps_the_token_out_of_the_debug_page(world, settings, monkeypatch, case):
    url, data, breakage = _cases(world["account"])[case]
    breakage(monkeypatch)
    settings.DEBUG = True
    response = _post(world["client"], url, data)
    assert response.status_code == 500, (case, response.status_code)
    page = response.content.decode()
    assert "forced failure" in page and "Traceback" in page  # the technical 500 page
    assert _leaks(page) == [], case


@pytest.mark.parametrize("case", CASE_NAMES)
def test_it_keeps_the_token_out_of_the_error_email(world, monkeypatch, case):
    url, data, breakage = _cases(world["account"])[case]
    breakage(monkeypatch)
    response = _post(world["client"], url, data)
    assert response.status_code == 500, (case, response.status_code)
    assert mail.outbox, "no error e-mail was sent"
    for message in mail.outbox:
        texts = [message.subject, message.body] + [
            str(content) for content, _ in getattr(message, "alternatives", [])
        ]
        report = "\n".join(texts)
        assert "forced failure" in report
        assert _leaks(report) == [], (case, message.subject)
