"""Malformed query values and missing pages answer in the site's own look, never with Django's
bare "Bad Request (400)" or its debug page.

A malformed value either falls back with a message on the page (sort, page, view) or is a
plain 400/404 page that extends base.html and says what was wrong (`?version=abc`); an
unexpected error is the site's 500 page.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from datacenter.tests.base import call_rows, write_calls
from datacenter.tests.factories import dataset_make, sandbox_account_make, user_make

pytestmark = pytest.mark.django_db

# Present on every page rendered from base.html (the top bar), absent from Django's own pages.
SITE_LOOK = 'class="navbar navbar-expand-md navbar-dark dc-topbar"'
DJANGO_PAGES = ("Bad Request (400)", "Server Error (500)", "Traceback", "technical_500",
                "You're seeing this error because you have", "The requested resource was not")

MALFORMED = ("abc", "-1", "0", "1.5", "²", "9" * 40, "\x00", "<script>", "A" * 2000)
# Every parameter a GET page reads, per page.
VIEW_PARAMS = {
    "datasets": ("quick", "sort", "q", "page"),
    "dataset": ("version",),
    "dataset-data": ("version", "view", "sort", "desc", "q", "page"),
    "dataset-charts": ("version",),
    "dataset-history": ("page", "vpage"),
    "connect-twilio": ("account",),
}


@pytest.fixture
def world(settings, tmp_path) -> dict:
    settings.DATASET_STORAGE_URI = str(tmp_path / "datasets")
    alice = user_make("alice")
    dataset = dataset_make(alice, sandbox_account_make(alice))
    write_calls(dataset, call_rows(10))
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    return {"dataset": dataset, "client": client}


def _assert_site_page(response, what: str) -> str:
    body = response.content.decode()
    assert SITE_LOOK in body, f"{what}: HTTP {response.status_code} not in the site's look"
    for text in DJANGO_PAGES:
        assert text not in body, f"{what}: {text!r}"
    return body


def test_it_says_what_is_wrong_with_a_malformed_version_in_the_site_look(world):
    url = reverse("dataset-data", args=[world["dataset"].pk])
    response = world["client"].get(url, {"version": "abc"})
    assert response.status_code == 400
    body = _assert_site_page(response, "?version=abc")
    assert "The version must be a whole number." in body


def test_it_answers_an_unknown_version_with_the_site_404(world):
    url = reverse("dataset-charts", args=[world["dataset"].pk])
    response = world["client"].get(url, {"version": "99"})
    assert response.status_code == 404
    _assert_site_page(response, "?version=99")


@pytest.mark.parametrize("view", sorted(VIEW_PARAMS))
def test_it_answers_every_malformed_parameter_with_a_page_in_the_site_look(world, view):
    on_a_dataset = view.startswith("dataset") and view != "datasets"
    url = reverse(view, args=[world["dataset"].pk] if on_a_dataset else [])
    for name in VIEW_PARAMS[view]:
        for value in MALFORMED:
            response = world["client"].get(url, {name: value})
            what = f"GET {url}?{name}={value[:20]!r}"
            assert response.status_code in (200, 400, 404), what
            _assert_site_page(response, what)


def test_it_answers_an_unknown_address_with_the_site_404():
    signed_out = Client().get("/no-such-page/")
    assert signed_out.status_code == 404
    _assert_site_page(signed_out, "/no-such-page/ signed out")
    alice = Client()
    alice.force_login(user_make("alice"))
    response = alice.get("/no-such-page/")
    assert response.status_code == 404
    _assert_site_page(response, "/no-such-page/")


def test_it_answers_an_unexpected_error_with_the_site_500(world, monkeypatch):
    from datacenter import selectors

    def broken(**_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "account_list", broken)
    response = world["client"].get(reverse("accounts"))
    assert response.status_code == 500
    body = _assert_site_page(response, "500")
    assert "a bug" not in body
