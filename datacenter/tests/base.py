"""Personas and data builders for the view tests (pytest fixtures; import the ones you use).

alice owns everything; bob is the outsider who must only ever see 404s. Versions are real
Delta versions written through datacenter.tables, shaped like the report's schema.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from django.test import Client

from datacenter import services, tables
from datacenter.models import DataSet, TwilioAccount, Version
from datacenter.tests.factories import dataset_make, user_make
from twilio_reports.definitions import REPORTS

# Fixtures re-exported by conftest.py; builders are imported explicitly by the tests.
__all__ = [
    "alice", "alice_account", "alice_client", "bob", "bob_client", "make_dataset", "storage",
    "sandbox", "sandbox_server", "connector_post",
]

STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
DAY0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def call_rows(count: int, *, start: int = 0, day0: datetime = DAY0) -> list[dict]:
    """`count` calls shaped like Twilio's, one per hour from `day0`, numbered from `start`."""
    rows = []
    for i in range(start, start + count):
        begin = day0 + timedelta(hours=i)
        rows.append(
            {
                "sid": f"CA{i:032x}",
                "account_sid": "AC" + "a" * 32,
                "to": f"+1555{i:07d}",
                "from": "+15550000000",
                "status": STATUSES[i % len(STATUSES)],
                "direction": "inbound" if i % 2 else "outbound-api",
                "start_time": begin,
                "end_time": begin + timedelta(seconds=30 + i),
                "duration": 30 + i,
                "price": Decimal("-0.0085") * (i + 1),
                "price_unit": "USD",
            }
        )
    return rows


def write_calls(dataset: DataSet, rows: list[dict], *, mode: str = "replace") -> Version:
    """A new real version of `dataset` holding `rows` (calls schema), recorded as current."""
    schema = REPORTS["calls"].arrow_schema()
    batch = pa.RecordBatch.from_pylist(rows, schema=schema)
    result = tables.write_version(
        tables.table_uri(dataset.pk), iter([batch]), schema, mode=mode, merge_key=("sid",)
    )
    return services.version_record(dataset=dataset, result=result)


@pytest.fixture
def storage(settings, tmp_path):
    """DataSet tables under the test's own folder."""
    settings.DATASET_STORAGE_URI = str(tmp_path / "datasets")
    return tmp_path / "datasets"


@pytest.fixture
def alice(db):
    return user_make("alice")


@pytest.fixture
def bob(db):
    return user_make("bob")


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def alice_account(alice) -> TwilioAccount:
    return services.account_create(
        owner=alice, name="Main", account_sid="AC" + "a" * 32, secret="s" * 32
    )


@pytest.fixture
def make_dataset(alice, alice_account, storage) -> Callable[..., DataSet]:
    """`make_dataset(name="Calls", rows=None|int, **factory_kwargs)`; rows > 0 writes v1."""

    def make(name: str = "Calls", rows: int | None = None, **kwargs) -> DataSet:
        dataset = dataset_make(alice, kwargs.pop("account", alice_account), name=name, **kwargs)
        if rows is not None:
            write_calls(dataset, call_rows(rows))
        return dataset

    return make


@pytest.fixture(scope="session")
def sandbox_server():
    """The real Twilio sandbox over HTTP, one per test session (its data never changes)."""
    from twilio_reports.sandbox import SandboxConfig, start_server

    with start_server(SandboxConfig(calls=300, messages=300, alerts=60)) as server:
        yield server


@pytest.fixture
def sandbox(settings, sandbox_server):
    """Point the "sandbox" region at the running sandbox for this test."""
    settings.TWILIO_SANDBOX_URL = sandbox_server.url
    return sandbox_server


def connector_post(**overrides: object) -> dict[str, object]:
    """A valid post of the connector page (Calls, daily at 06:00 Berlin); pass overrides.

    Pane fields carry their prefixes: cred-, details-, schedule-, ds-. None drops a field.
    """
    data: dict[str, object] = {
        "cred-account": "",
        "cred-name": "Twilio Account",
        "cred-region": "sandbox",
        "details-report": "calls",
        "details-granularity": "daily",
        "details-duration": "range",
        "details-report_date_mode": "relative",
        "details-days_back": "1",
        "details-start_mode": "relative",
        "details-start_days_back": "7",
        "details-end_mode": "relative",
        "details-end_days_back": "0",
        "schedule-tab": "basic",
        "schedule-kind": "daily",
        "schedule-every": "1",
        "schedule-at": "06:00",
        "schedule-day_of_month": "1",
        "schedule-adv_days_by": "every_day",
        "schedule-adv_repeat": "times",
        "schedule-adv_every": "1",
        "schedule-adv_unit": "hours",
        "schedule-start_when": "now",
        "schedule-tz": "Europe/Berlin",
        "schedule-update_method": "replace",
        "schedule-retry": "always",
        "schedule-retry_every_minutes": "15",
        "schedule-retry_max": "3",
        "ds-name": "Daily calls",
        "ds-description": "Calls of the last week",
        "_save": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
