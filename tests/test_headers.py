"""Browser-side protections: CSP without inline scripts, no framing, secure cookies in
production, CSRF on every form and URL, and login throttling.

Pages are enumerated from the URL resolver (tests/support.py) and rendered for a user who
owns an account, a DataSet with a version and charts, so every template is exercised.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from connector_site.tests.test_settings import _production_env, _run
from datacenter import services
from datacenter.tests.base import call_rows, write_calls
from datacenter.tests.factories import dataset_make, user_make
from tests.support import fill, inline_script_problems, named_urls, post_forms_without_token

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pw-alice-Zq81!x"  # datacenter.tests.factories.user_make's password for alice


@pytest.fixture
def world(settings, tmp_path) -> dict:
    settings.DATASET_STORAGE_URI = str(tmp_path / "datasets")
    alice = user_make("alice")
    account = services.account_create(
        owner=alice, name="Main", account_sid="AC" + "a" * 32, secret="s" * 32
    )
    dataset = dataset_make(alice, account)
    write_calls(dataset, call_rows(30))
    client = Client()
    client.force_login(alice)
    return {"alice": alice, "account": account, "dataset": dataset, "client": client}


def _pages(world: dict) -> list[str]:
    """Every GET page of the product for the world's user: fixed URLs and object URLs,
    plus the Data tab's other views (schema, stats) which share one URL."""
    urls = []
    for url in named_urls():
        if url.name in ("logout",):  # POST only
            continue
        if url.parameterised:
            urls.append(
                fill(url, account_pk=world["account"].pk, dataset_pk=world["dataset"].pk)
            )
        else:
            urls.append(reverse(url.name))
    data = reverse("dataset-data", args=[world["dataset"].pk])
    return urls + [f"{data}?view=schema", f"{data}?view=stats"]


def _html_pages(world: dict) -> list[tuple[str, object]]:
    out = []
    for url in _pages(world):
        response = world["client"].get(url)
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            out.append((url, response))
    return out


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def test_it_sends_a_csp_without_inline_scripts_on_every_page(world):
    pages = _html_pages(world)
    # Login and the locked-out page are rendered for anonymous users.
    anonymous = Client()
    pages.append(("login", anonymous.get(reverse("login"))))
    assert len(pages) >= 15, [u for u, _ in pages]
    for url, response in pages:
        csp = _directives(response["Content-Security-Policy"])
        scripts = csp.get("script-src", csp.get("default-src"))
        assert scripts == ["'self'"], f"{url}: script-src {scripts}"
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"], url
        # What the policy would block must not be on the page either.
        problems = inline_script_problems(response.content.decode())
        assert not problems, f"{url}: {problems}"


def test_it_keeps_templates_free_of_inline_scripts():
    # Templates not rendered above (errors, e-mails, partials) are read as text.
    templates = [*ROOT.joinpath("templates").rglob("*.html")]
    for app in ("datacenter", "scheduler", "twilio_reports", "connector_site"):
        templates += ROOT.joinpath(app).rglob("templates/**/*.html")
    assert len(templates) >= 20
    for path in templates:
        problems = inline_script_problems(path.read_text())
        assert not problems, f"{path.relative_to(ROOT)}: {problems}"


def test_it_forbids_framing_every_page(world):
    for url, response in _html_pages(world):
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url


def test_it_puts_a_csrf_token_in_every_post_form(world):
    for url, response in _html_pages(world):
        missing = post_forms_without_token(response.content.decode())
        assert not missing, f"{url}: POST form without a CSRF token: {missing}"


def test_it_refuses_every_post_without_a_csrf_token(world):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world["alice"])
    refused = 0
    for url in _pages(world) + [reverse("logout")]:
        response = strict.post(url, {"name": "x", "ids": [world["dataset"].pk]})
        assert response.status_code == 403, f"POST {url} without a token: {response.status_code}"
        refused += 1
    # The login form too, before anyone is signed in.
    anonymous = Client(enforce_csrf_checks=True)
    login = anonymous.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert login.status_code == 403
    # Nothing happened: no run was queued, the DataSet and account are still there.
    assert not world["dataset"].runs.exists()
    assert world["account"].__class__.objects.filter(pk=world["account"].pk).exists()
    assert refused >= 20


def test_it_accepts_the_same_post_with_the_token(world):
    # The 403s above are the CSRF check, not something else: with the token, Run Now works.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world["alice"])
    page = strict.get(reverse("dataset", args=[world["dataset"].pk]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    response = strict.post(
        reverse("dataset-run", args=[world["dataset"].pk]),
        {"csrfmiddlewaretoken": token.group(1)},
    )
    assert response.status_code == 302
    assert world["dataset"].runs.exists()


def test_it_uses_secure_cookies_and_https_in_production(tmp_path):
    code = (
        "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE']='connector_site.settings';"
        "django.setup(); from django.conf import settings as s;"
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_SECURE',"
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS',"
        "'SECURE_CONTENT_TYPE_NOSNIFF', 'X_FRAME_OPTIONS', 'SECURE_REFERRER_POLICY',"
        "'TWILIO_SANDBOX_URL')}))"
    )
    out = _run(code, **_production_env(tmp_path))
    assert out.returncode == 0, out.stderr
    values = json.loads(out.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
        # No Twilio look-alike in production unless configured on purpose.
        "TWILIO_SANDBOX_URL": "",
    }


def test_it_marks_the_session_cookie_secure_and_httponly_when_configured(settings):
    # The flags reach the Set-Cookie header of a real sign-in, not only the settings.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    user_make("alice")
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"]
    assert response.cookies[settings.CSRF_COOKIE_NAME]["secure"]


def test_it_locks_a_login_after_five_failures(settings):
    alice, _ = user_make("alice"), user_make("bob")
    client = Client()
    url = reverse("login")
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(url, {"username": "alice", "password": f"wrong-{attempt}"})
        # The form again with an error, until the fifth failure locks the sign-in.
        expected = 429 if attempt == settings.AXES_FAILURE_LIMIT else 200
        assert response.status_code == expected, attempt
        assert "_auth_user_id" not in client.session
    # Locked: even the right password is refused, with the "too many attempts" page.
    locked = client.post(url, {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # The lock is per user and address: bob signs in from the same place.
    other = Client()
    bob = other.post(url, {"username": "bob", "password": "pw-bob-Zq81!x"})
    assert bob.status_code == 302 and other.session["_auth_user_id"] != str(alice.pk)
