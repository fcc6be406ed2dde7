from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduler.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("ops", password="pw-ops-123456", is_staff=True)
    client.force_login(user)
    return client


def test_it_is_for_staff_only(client, django_user_model):
    user = django_user_model.objects.create_user("alice", password="pw-alice-123456")
    client.force_login(user)
    response = client.get(reverse("status"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert client.get(reverse("status-json")).status_code == 403


def test_it_requires_a_login(client):
    assert client.get(reverse("status")).status_code == 302
    assert client.get(reverse("status-json")).status_code == 403


def test_it_answers_monitors_with_the_token(client, settings):
    settings.STATUS_TOKEN = "monitor-token-42"
    Heartbeat.objects.create(name="w1@host", kind="worker", seen_at=timezone.now())
    Heartbeat.objects.create(name="beat@host", kind="beat", seen_at=timezone.now())
    ok = client.get(reverse("status-json"), HTTP_AUTHORIZATION="Bearer monitor-token-42")
    assert ok.status_code == 200 and ok.json()["healthy"] is True
    wrong = client.get(reverse("status-json"), HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403


def test_it_refuses_every_token_when_none_is_configured(client, settings):
    settings.STATUS_TOKEN = ""
    response = client.get(reverse("status-json"), HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_it_shows_database_broker_worker_and_beat_with_ages(staff_client):
    now = timezone.now()
    Heartbeat.objects.create(name="w1@host", kind="worker", seen_at=now - timedelta(seconds=30))
    Heartbeat.objects.create(name="beat@host", kind="beat", seen_at=now - timedelta(seconds=10))
    page = staff_client.get(reverse("status")).content.decode()
    assert "database" in page and "broker" in page
    assert "worker w1@host" in page and "beat beat@host" in page
    data = staff_client.get(reverse("status-json")).json()
    assert data["healthy"] is True
    by_name = {c["name"]: c for c in data["checks"]}
    assert 29 <= by_name["worker w1@host"]["age_seconds"] < 60
    assert by_name["database"]["ok"] and by_name["broker"]["ok"]


def test_it_reports_a_stale_beat_as_unhealthy(staff_client):
    now = timezone.now()
    Heartbeat.objects.create(name="w1@host", kind="worker", seen_at=now)
    Heartbeat.objects.create(name="beat@host", kind="beat", seen_at=now - timedelta(minutes=5))
    response = staff_client.get(reverse("status-json"))
    assert response.status_code == 503
    assert response.json()["healthy"] is False


def test_it_reports_missing_workers(staff_client):
    response = staff_client.get(reverse("status-json"))
    assert response.status_code == 503
    names = [c["name"] for c in response.json()["checks"]]
    assert "worker" in names and "beat" in names
