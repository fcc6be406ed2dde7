"""A task sent through the configured broker is executed by a real worker process."""

import uuid

import pytest
from kombu import Connection

from connector_site.celery import app
from connector_site.pytest_plugin import filesystem_transport_options, need_redis, wait_for
from scheduler.models import Heartbeat
from scheduler.tasks import ping

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _send_and_wait(connection: Connection) -> None:
    token = uuid.uuid4().hex
    ping.apply_async(args=[token], connection=connection)
    wait_for(
        lambda: Heartbeat.objects.filter(name=f"ping:{token}").exists(),
        60,
        "the worker to execute the task",
    )


def test_it_executes_a_task_through_the_filesystem_broker(celery_worker):
    celery_worker(broker_url="filesystem://")
    with Connection("filesystem://", transport_options=filesystem_transport_options()) as conn:
        _send_and_wait(conn)


def test_it_executes_a_task_through_redis(celery_worker):
    url = need_redis()
    celery_worker(broker_url=url)
    with Connection(url) as conn:
        _send_and_wait(conn)


def test_it_is_not_in_eager_mode():
    assert not app.conf.task_always_eager
