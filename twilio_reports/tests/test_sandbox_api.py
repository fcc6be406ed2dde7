"""The sandbox over a real port: envelopes, paging, auth, accounts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from twilio_reports.sandbox import (
    MAIN_ACCOUNT_SID,
    MAIN_API_KEY_SECRET,
    MAIN_API_KEY_SID,
    MAIN_AUTH_TOKEN,
    SUBACCOUNTS,
    SandboxConfig,
    SandboxServer,
    start_server,
)

TODAY = date(2026, 11, 20)
MAIN = (MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN)
SUPPORT_SID, SUPPORT_TOKEN, _ = SUBACCOUNTS[0]
ENVELOPE_KEYS = {"first_page_uri", "end", "previous_page_uri", "uri", "page_size", "start",
                 "next_page_uri", "page"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with start_server(SandboxConfig(today=TODAY, calls=2000, messages=600)) as server:
        yield server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, auth=MAIN, timeout=10) as c:
        yield c


def follow_2010(client: httpx.Client, url: str, key: str, **params: str) -> list[dict]:
    rows: list[dict] = []
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.keys() >= ENVELOPE_KEYS
        rows += body[key]
        if body["next_page_uri"] is None:
            return rows
        assert body["next_page_uri"].startswith("/2010-04-01/")
        response = client.get(body["next_page_uri"])


def test_it_pages_calls_with_relative_next_links_without_dupes_or_gaps(sandbox, client):
    rows = follow_2010(client, f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json",
                       "calls", PageSize="137")
    truth = sandbox.world.records("calls")
    assert [r["sid"] for r in rows] == [r["sid"] for r in truth]
    assert rows == truth


def test_it_fills_the_2010_envelope_like_twilio(client):
    path = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json"
    first = client.get(path, params={"PageSize": "5", "StartTime>": "2026-11-19"}).json()
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 5, 0, 4)
    assert first["previous_page_uri"] is None
    assert first["uri"] == f"{path}?StartTime%3E=2026-11-19&PageSize=5&Page=0"
    assert first["first_page_uri"] == first["uri"]
    assert "StartTime%3E=2026-11-19" in first["next_page_uri"]
    assert "&Page=1&PageToken=PA" in first["next_page_uri"]
    second = client.get(first["next_page_uri"]).json()
    assert (second["page"], second["start"], second["end"]) == (1, 5, 9)
    back = client.get(second["previous_page_uri"]).json()
    assert [c["sid"] for c in back["calls"]] == [c["sid"] for c in first["calls"]]


def test_it_keeps_next_links_stable_when_followed_twice(client):
    path = f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Messages.json"
    nxt = client.get(path, params={"PageSize": "20"}).json()["next_page_uri"]
    assert client.get(nxt).json()["messages"] == client.get(nxt).json()["messages"]


def test_it_clamps_page_size_to_1000(client):
    body = client.get(f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json",
                      params={"PageSize": "5000"}).json()
    assert body["page_size"] == 1000
    assert len(body["calls"]) == 1000


def test_it_pages_alerts_with_absolute_meta_urls(sandbox, client):
    rows: list[dict] = []
    response = client.get("/v1/Alerts", params={"PageSize": "40"})
    while True:
        body = response.json()
        assert body["meta"]["key"] == "alerts"
        rows += body["alerts"]
        nxt = body["meta"]["next_page_url"]
        if nxt is None:
            break
        assert nxt.startswith(sandbox.url + "/v1/Alerts?")
        response = client.get(nxt)
    assert rows == sandbox.world.records("alerts")


def test_it_pages_usage_records(sandbox, client):
    rows = follow_2010(client, f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Usage/Records/Daily.json",
                       "usage_records", PageSize="1000")
    assert rows == sandbox.world.records("usage-records", granularity="daily")


def test_it_lists_main_and_subaccounts_with_their_tokens_for_the_main_account(client):
    rows = follow_2010(client, "/2010-04-01/Accounts.json", "accounts")
    assert [r["sid"] for r in rows] == [MAIN_ACCOUNT_SID, *(s[0] for s in SUBACCOUNTS)]
    assert rows[0]["friendly_name"] == "Sandbox Main"
    assert {r["auth_token"] for r in rows[1:]} == {s[1] for s in SUBACCOUNTS}
    named = client.get("/2010-04-01/Accounts.json",
                       params={"FriendlyName": "Sandbox Europe"}).json()["accounts"]
    assert [r["sid"] for r in named] == [SUBACCOUNTS[1][0]]


def test_it_shows_a_subaccount_only_itself(sandbox):
    with httpx.Client(base_url=sandbox.url, auth=(SUPPORT_SID, SUPPORT_TOKEN)) as sub:
        rows = sub.get("/2010-04-01/Accounts.json").json()["accounts"]
        assert [r["sid"] for r in rows] == [SUPPORT_SID]
        assert sub.get(f"/2010-04-01/Accounts/{SUPPORT_SID}.json").json()["sid"] == SUPPORT_SID
        denied = sub.get(f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json")
        assert denied.status_code == 404
        assert denied.json()["code"] == 20404


def test_it_fetches_one_account_to_check_credentials(client):
    body = client.get(f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}.json").json()
    assert body["friendly_name"] == "Sandbox Main"
    assert body["subresource_uris"]["calls"].endswith("/Calls.json")


@pytest.mark.parametrize("auth", [(MAIN_ACCOUNT_SID, "wrong" * 6), ("AC" + "0" * 32, "x"), None])
def test_it_rejects_bad_credentials_with_twilio_20003(sandbox, auth):
    response = httpx.get(f"{sandbox.url}/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}.json", auth=auth)
    assert response.status_code == 401
    assert response.json() == {"code": 20003, "message": "Authenticate",
                               "more_info": "https://www.twilio.com/docs/errors/20003",
                               "status": 401}


def test_it_accepts_an_api_key_of_the_main_account(sandbox):
    response = httpx.get(f"{sandbox.url}/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}.json",
                         auth=(MAIN_API_KEY_SID, MAIN_API_KEY_SECRET))
    assert response.status_code == 200


def test_it_answers_unknown_paths_with_404_json(client):
    for path in ("/2010-04-01/Nope.json", f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Queues.json",
                 "/v1/Events"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == 20404


def test_it_refuses_an_invalid_page_token(client):
    response = client.get(f"/2010-04-01/Accounts/{MAIN_ACCOUNT_SID}/Calls.json",
                          params={"PageToken": "garbage"})
    assert response.status_code == 400


def test_it_keeps_connections_alive(client):
    first = client.get("/2010-04-01/Accounts.json")
    assert first.http_version == "HTTP/1.1"
    assert first.headers.get("connection") != "close"
