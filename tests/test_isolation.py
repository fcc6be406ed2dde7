"""Tenant isolation: every URL that names an object is 404 to anyone but its owner.

The URL patterns are enumerated, so a new view that forgets its owner check fails here.
"""

import pyarrow as pa
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from datacenter import services, tables
from datacenter.tests.factories import dataset_make, user_make
from twilio_reports.definitions import REPORTS

pytestmark = pytest.mark.django_db

# Which object each URL keyword names; a pattern with another keyword fails the test.
KNOWN_KWARGS = {"pk", "number"}
# Views for monitors: they answer 403 without a staff session or the STATUS_TOKEN.
MONITOR_VIEWS = {"status-json"}


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            found += _patterns(p, prefix + str(p.pattern))
        elif p.name:
            found.append((prefix + str(p.pattern), p))
    return found


def _object_patterns() -> list[URLPattern]:
    return [p for _, p in _patterns(get_resolver()) if p.pattern.converters]


@pytest.fixture
def world(settings, tmp_path):
    settings.DATASET_STORAGE_URI = str(tmp_path)
    alice, bob = user_make("alice"), user_make("bob")
    account = services.account_create(
        owner=alice, name="A", account_sid="AC" + "a" * 32, secret="s" * 32
    )
    dataset = dataset_make(alice, account)
    schema = REPORTS["calls"].arrow_schema()
    batch = pa.RecordBatch.from_pylist([{"sid": "CA" + "0" * 32}], schema=schema)
    result = tables.write_version(
        tables.table_uri(dataset.pk), iter([batch]), schema, mode="replace", merge_key=("sid",)
    )
    services.version_record(dataset=dataset, result=result)
    return {"alice": alice, "bob": bob, "account": account, "dataset": dataset}


def _url_for(pattern: URLPattern, world) -> str:
    kwargs = set(pattern.pattern.converters)
    assert kwargs <= KNOWN_KWARGS, f"{pattern.name}: teach this test about {kwargs}"
    values = {}
    if "pk" in kwargs:
        obj = world["account"] if pattern.name.startswith("account") else world["dataset"]
        values["pk"] = obj.pk
    if "number" in kwargs:
        values["number"] = 1
    return reverse(pattern.name, kwargs=values)


def test_it_finds_the_object_urls():
    names = {p.name for p in _object_patterns()}
    assert {"account-edit", "dataset", "version-csv", "dataset-export"} <= names


def test_it_answers_404_to_everyone_but_the_owner(client, world):
    client.force_login(world["bob"])
    for pattern in _object_patterns():
        url = _url_for(pattern, world)
        codes = {method: getattr(client, method)(url).status_code for method in ("get", "post")}
        # 405 only says which methods a URL takes; the object itself must never show.
        assert set(codes.values()) <= {404, 405}, f"{url}: {codes}"
        assert 404 in codes.values(), f"{url}: {codes}"
    # Nothing changed for the owner.
    assert world["dataset"].versions.count() == 1


def test_it_serves_the_owner(client, world):
    client.force_login(world["alice"])
    for pattern in _object_patterns():
        url = _url_for(pattern, world)
        response = client.get(url)
        assert response.status_code in (200, 302, 405), f"GET {url}: {response.status_code}"


def test_it_requires_a_login_everywhere_but_the_login_page(client, world):
    for _, pattern in _patterns(get_resolver()):
        if pattern.name in ("login",):
            continue
        url = _url_for(pattern, world) if pattern.pattern.converters else reverse(pattern.name)
        response = client.get(url)
        if pattern.name in MONITOR_VIEWS:
            # Machine-read JSON: no redirect to a login page, a refusal (or a token).
            assert response.status_code == 403, f"{url}: {response.status_code}"
            continue
        assert response.status_code == 302, f"{url}: {response.status_code}"
        assert "/login/" in response["Location"]
