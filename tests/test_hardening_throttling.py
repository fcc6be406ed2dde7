"""Login throttling per address: one password tried across many usernames from one address
is locked out, while one person's typos still lock only their own username there."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from datacenter.tests.factories import user_make

pytestmark = pytest.mark.django_db

SPRAYED = "Summer2026!"


def _login(username: str, password: str, address: str = "203.0.113.7"):
    return Client(REMOTE_ADDR=address).post(
        reverse("login"), {"username": username, "password": password}
    )


def test_it_locks_an_address_that_sprays_one_password_over_many_usernames(settings):
    user_make("alice")
    limit = getattr(settings, "AXES_ADDRESS_FAILURE_LIMIT", 20)
    assert limit > settings.AXES_FAILURE_LIMIT
    # Each username fails once only: the per-username lock never counts past one.
    answers = [_login(f"user{i}", SPRAYED).status_code for i in range(limit)]
    assert answers[:-1] == [200] * (limit - 1)
    assert answers[-1] == 429
    # The address is locked for everyone, even with the right password...
    locked = _login("alice", "pw-alice-Zq81!x")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # ...and only that address.
    assert _login("alice", "pw-alice-Zq81!x", address="198.51.100.9").status_code == 302


def test_it_still_locks_one_username_after_five_failures_without_locking_the_address(settings):
    user_make("alice"), user_make("bob")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login("alice", "wrong")
    assert _login("alice", "pw-alice-Zq81!x").status_code == 429
    assert _login("bob", "pw-bob-Zq81!x").status_code == 302


def test_it_counts_the_client_behind_a_trusted_proxy_not_the_proxy(settings):
    # Behind one reverse proxy every request comes from the proxy's address: the lock must
    # follow the client the proxy names, or 20 failures anywhere would lock out everyone.
    settings.TRUSTED_PROXIES = 1
    user_make("alice")
    limit = settings.AXES_ADDRESS_FAILURE_LIMIT

    def via_proxy(username: str, password: str, client: str):
        return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client).post(
            reverse("login"), {"username": username, "password": password}
        )

    for i in range(limit):
        # A spoofed left-hand entry does not change who is counted.
        via_proxy(f"user{i}", SPRAYED, f"6.6.6.{i}, 203.0.113.7")
    assert via_proxy("alice", "pw-alice-Zq81!x", "203.0.113.7").status_code == 429
    assert via_proxy("alice", "pw-alice-Zq81!x", "198.51.100.9").status_code == 302


def test_it_ignores_forwarded_addresses_without_a_trusted_proxy(settings):
    from connector_site.throttling import client_ip

    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9",
                                   HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_ip(request) == "198.51.100.9"
    settings.TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.7"
    request.META["HTTP_X_FORWARDED_FOR"] = "not-an-address"
    assert client_ip(request) == "198.51.100.9"
