"""Hostile input on the other posts: the Accounts tab, bulk Run Now, the login redirect; CSV
formula injection at the download views, and the guarantee that no input can point the server
at another host. Same contract as test_hostile_input.py: never a 500, never a partial save."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from datacenter import selectors
from datacenter.models import DataSet, Region, TwilioAccount
from datacenter.tests.base import call_rows, connector_post, write_calls
from scheduler.models import Schedule
from tests.hostile_support import (
    HOSTILE,
    _assert_not_a_server_error,
    _assert_on_site,
    _counts,
    hostile,
)
from twilio_reports.hosts import REGIONS, hosts_for
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

pytestmark = pytest.mark.django_db


# --- Accounts tab -------------------------------------------------------------------------------

ACCOUNT_FIELDS = ("name", "account_sid", "auth_token", "key_sid", "key_secret", "region")


@HOSTILE
@given(values=st.dictionaries(st.sampled_from(ACCOUNT_FIELDS), hostile(), min_size=1))
def test_it_never_half_saves_an_added_account(world, security_figures, values):
    before = _counts()
    post = {"name": "Another", "account_sid": MAIN_ACCOUNT_SID, "auth_token": MAIN_AUTH_TOKEN,
            "region": "sandbox", **values}
    response = world["client"].post(reverse("account-add"), post)
    _assert_not_a_server_error(response, f"{values!r}"[:400])
    after = _counts()
    if response.status_code == 302:
        # Valid and accepted by (sandbox) Twilio: exactly one account, in a known region.
        assert after["TwilioAccount"] == before["TwilioAccount"] + 1
        saved = TwilioAccount.objects.order_by("-pk").first()
        assert saved.region in Region.values and saved.owner_id == world["alice"].pk
    else:
        assert response.status_code == 200
        assert after == before
    # Whatever was typed as a secret is never echoed back into the page.
    for field in ("auth_token", "key_secret"):
        secret = (post.get(field) or "").strip()
        others = [v for k, v in post.items() if k != field]
        if len(secret) >= 8 and not any(secret in v for v in others):
            assert secret not in response.content.decode()
    security_figures.add("inputs.account_add")


@HOSTILE
@given(values=st.dictionaries(st.sampled_from(("name", "secret", "region")), hostile(),
                              min_size=1))
def test_it_never_half_saves_an_edited_account(world, security_figures, values):
    account = world["account"]
    account.refresh_from_db()
    stored = (account.secret_encrypted, account.region)
    post = {"name": account.name, "secret": "", "region": account.region, **values}
    response = world["client"].post(reverse("account-edit", args=[account.pk]), post)
    _assert_not_a_server_error(response, f"{values!r}"[:400])
    account.refresh_from_db()
    if response.status_code == 200:
        # Refused: the token and the region are those stored before.
        assert (account.secret_encrypted, account.region) == stored
    else:
        assert response.status_code == 302
        assert account.region in Region.values
        assert selectors.credentials_for_account(account).secret  # still decrypts
    security_figures.add("inputs.account_edit")


# --- Other POST parameters ----------------------------------------------------------------------


@HOSTILE
@given(ids=st.lists(hostile().filter(lambda v: not (v.isascii() and v.isdigit())), max_size=4),
       target=hostile())
def test_it_keeps_bulk_run_and_redirects_on_the_site(world, security_figures, ids, target):
    before = _counts()
    response = world["client"].post(reverse("datasets-bulk-run"), {"ids": ids, "next": target})
    _assert_not_a_server_error(response, f"{ids!r} {target!r}"[:400])
    assert response.status_code == 302
    # `next` can only send the user back to a page of this site, never elsewhere.
    _assert_on_site(response["Location"])
    assert _counts() == before
    security_figures.add("inputs.bulk_run")


@HOSTILE
@given(target=hostile())
def test_it_never_redirects_off_site_after_login(world, security_figures, target):
    client = Client()
    response = client.post(
        f"{reverse('login')}?{urlencode({'next': target})}",
        {"username": "alice", "password": "pw-alice-Zq81!x", "next": target},
    )
    _assert_not_a_server_error(response, repr(target)[:300])
    assert response.status_code == 302
    _assert_on_site(response["Location"])
    security_figures.add("inputs.login_next")


# --- CSV formula injection at the download views ------------------------------------------------

FORMULAS = ("=1+2", "+1-555", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://x")',
            "+cmd|' /C calc'!A0")


def test_it_neutralises_formulas_in_downloaded_csv(world):
    rows = call_rows(len(FORMULAS), start=100)
    for row, formula in zip(rows, FORMULAS, strict=True):
        row["to"] = formula
        row["caller_name"] = formula
    write_calls(world["dataset"], rows)
    ds = world["dataset"]
    for url in (reverse("dataset-export", args=[ds.pk]), reverse("version-csv", args=[ds.pk, 2])):
        response = world["client"].get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith("attachment;")
        body = b"".join(response.streaming_content).decode()
        table = list(csv.DictReader(io.StringIO(body, newline="")))
        assert len(table) == len(FORMULAS)
        for line, formula in zip(table, FORMULAS, strict=True):
            # Text cells that a spreadsheet would run are prefixed with a quote...
            assert line["to"] == "'" + formula and line["caller_name"] == "'" + formula
            # ...while negative prices stay plain numbers (bare, not quoted, not prefixed).
            assert Decimal(line["price"]) < 0
        first_price = table[0]["price"]
        assert f",{first_price}," in body and f"'{first_price}" not in body


# --- Hosts: only twilio_reports.hosts decides where the server connects -------------------------


def test_it_refuses_a_region_outside_the_choices(world):
    for region in ("evil", "https://evil.example.com", "http://127.0.0.1:6379", "US1 ", ""):
        before = _counts()
        response = world["client"].post(reverse("account-add"), {
            "name": f"R {region}", "account_sid": MAIN_ACCOUNT_SID,
            "auth_token": MAIN_AUTH_TOKEN, "region": region,
        })
        assert response.status_code == 200
        assert "region" in response.context["form"].errors
        assert _counts() == before
        edit = world["client"].post(
            reverse("account-edit", args=[world["account"].pk]),
            {"name": "Sandbox", "region": region},
        )
        assert edit.status_code == 200
        world["account"].refresh_from_db()
        assert world["account"].region == Region.SANDBOX


URL_FIELDS = {
    "api_base": "http://evil.example.com", "monitor_base": "http://evil.example.com",
    "url": "http://evil.example.com", "host": "evil.example.com", "base_url":
    "http://127.0.0.1:6379", "TWILIO_SANDBOX_URL": "http://evil.example.com",
}


def test_it_ignores_extra_url_fields_in_posts(world, sandbox):
    # The account is saved (the sandbox accepts it) but with hosts from its region only.
    response = world["client"].post(reverse("account-add"), {
        "name": "Extra", "account_sid": MAIN_ACCOUNT_SID, "auth_token": MAIN_AUTH_TOKEN,
        "region": "sandbox", **URL_FIELDS,
        **{f"cred-{k}": v for k, v in URL_FIELDS.items()},
    })
    assert response.status_code == 302
    account = TwilioAccount.objects.get(owner=world["alice"], name="Extra")
    creds = selectors.credentials_for_account(account)
    assert (creds.api_base, creds.monitor_base) == (sandbox.url, sandbox.url)
    # The connector page: extra pane fields never reach the DataSet's stored parameters.
    post = connector_post(**{
        "cred-account": str(account.pk),
        **{f"details-{k}": v for k, v in URL_FIELDS.items()},
        **{f"schedule-{k}": v for k, v in URL_FIELDS.items()},
    })
    assert world["client"].post(reverse("connect-twilio"), post).status_code == 302
    saved = DataSet.objects.order_by("-pk").first()
    assert "evil" not in str(saved.params) and "6379" not in str(saved.params)
    assert set(saved.params) <= {"filters", "dates"}
    assert "evil" not in str(Schedule.objects.get(dataset=saved).spec)


def test_it_takes_hosts_only_from_the_region_table(settings):
    # No model stores a URL or host a user could set.
    for model in (TwilioAccount, DataSet, Schedule):
        names = {f.name for f in model._meta.get_fields()}
        assert not {n for n in names if any(w in n for w in ("url", "host", "base"))}, model
    # Every region maps to Twilio's own hosts; the sandbox to the configured setting only.
    for region in Region.values:
        if region == Region.SANDBOX:
            settings.TWILIO_SANDBOX_URL = "http://127.0.0.1:9"
            assert hosts_for(region) == ("http://127.0.0.1:9", "http://127.0.0.1:9")
        else:
            api, monitor = hosts_for(region)
            assert (api, monitor) == REGIONS[region]
            assert api.startswith("https://api.") and api.endswith(".twilio.com")
            assert monitor.startswith("https://monitor.") and monitor.endswith(".twilio.com")
    # Without the setting, the sandbox region is refused rather than guessed.
    settings.TWILIO_SANDBOX_URL = ""
    with pytest.raises(ValueError):
        hosts_for(Region.SANDBOX)
    with pytest.raises(ValueError):
        hosts_for("http://evil.example.com")
