"""A wrong or half-rotated CREDENTIAL_KEYS: refused at start, plain words everywhere else.

The half-rotated database is the sharp case: the first account's secret decrypts with the
configured key and a later one's does not, so a check of the first account alone passes.
Gunicorn (with the project's config, as the Dockerfile, compose and `make run` start it) and
the Celery worker must refuse to start; views and runs that meet the secret say "this
account's secret cannot be decrypted with the configured CREDENTIAL_KEYS" instead of a 500 or
"Unexpected error (CredentialKeyError)".
"""

from __future__ import annotations

import html
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse

from connector_site.pytest_plugin import ROOT, service_env
from datacenter import services
from datacenter.checks import check_credential_keys
from datacenter.models import TwilioAccount
from datacenter.tests.base import connector_post
from datacenter.tests.factories import dataset_make, user_make
from scheduler.models import Run, RunState
from scheduler.services import run_execute
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
PLAIN_WORDS = "cannot be decrypted with the configured CREDENTIAL_KEYS"
ACCOUNT_WORDS = "This account's secret " + PLAIN_WORDS
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "connector_site/gunicorn_conf.py"]


def _half_rotated(settings) -> tuple[TwilioAccount, TwilioAccount]:
    """Account 1 under OLD, account 2 under NEW; the installation then configures OLD only."""
    alice = user_make("alice")
    settings.CREDENTIAL_KEYS = [OLD]
    first = services.account_create(
        owner=alice, name="First", account_sid=MAIN_ACCOUNT_SID, secret=MAIN_AUTH_TOKEN,
        region="sandbox",
    )
    settings.CREDENTIAL_KEYS = [NEW]
    second = services.account_create(
        owner=alice, name="Second", account_sid=MAIN_ACCOUNT_SID, secret=MAIN_AUTH_TOKEN,
        region="sandbox",
    )
    settings.CREDENTIAL_KEYS = [OLD]
    return first, second


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_until_exit(cmd: list[str], env: dict[str, str], log: Path, timeout: float = 90):
    """Start a process; wait for it to exit on its own. A process still up is killed."""
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            return proc.wait(timeout=timeout), log.read_text()
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None, log.read_text()


# --- Start-up ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_fails_the_system_check_when_any_stored_secret_does_not_decrypt(settings):
    _half_rotated(settings)
    errors = check_credential_keys(None)
    assert [e.id for e in errors] == ["datacenter.E002"]
    assert "1 of 2" in errors[0].msg and PLAIN_WORDS in errors[0].msg
    settings.CREDENTIAL_KEYS = [NEW, OLD]
    assert check_credential_keys(None) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_start_gunicorn_without_a_working_key(settings, tmp_path):
    _half_rotated(settings)
    port = _free_port()
    cmd = [*GUNICORN, "--bind", f"127.0.0.1:{port}", "connector_site.wsgi:application"]
    code, output = _run_until_exit(cmd, service_env(CREDENTIAL_KEYS=OLD), tmp_path / "web.log")
    assert code not in (None, 0), output[-3000:]
    assert PLAIN_WORDS in output and "Refusing to start" in output, output[-3000:]
    assert "Booting worker" not in output


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_starts_gunicorn_when_every_secret_decrypts(settings, tmp_path):
    _half_rotated(settings)
    port = _free_port()
    cmd = [*GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", "1",
           "connector_site.wsgi:application"]
    log = tmp_path / "web.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=service_env(CREDENTIAL_KEYS=f"{NEW},{OLD}"),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/login/", timeout=5).status_code
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert status == 200, log.read_text()[-3000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_start_the_worker_without_a_working_key(settings, tmp_path):
    _half_rotated(settings)
    cmd = [sys.executable, "-m", "celery", "-A", "connector_site", "worker", "-l", "info",
           "--concurrency", "1", "--without-gossip", "--without-mingle"]
    code, output = _run_until_exit(cmd, service_env(CREDENTIAL_KEYS=OLD), tmp_path / "w.log")
    assert code not in (None, 0), output[-3000:]
    assert PLAIN_WORDS in output and "Refusing to start" in output, output[-3000:]
    assert "ready." not in output


# --- Views and runs that meet an undecryptable secret -------------------------------------------


@pytest.fixture
def undecryptable(settings, db) -> dict:
    settings.TWILIO_SANDBOX_URL = "http://127.0.0.1:9"  # never reached: decryption fails first
    _, second = _half_rotated(settings)
    client = Client(raise_request_exception=False)
    client.force_login(second.owner)
    return {"account": second, "client": client}


def test_it_says_so_when_testing_the_account(undecryptable):
    account, client = undecryptable["account"], undecryptable["client"]
    response = client.post(reverse("account-test", args=[account.pk]))
    assert response.status_code == 409
    assert ACCOUNT_WORDS in html.unescape(response.content.decode())


def test_it_says_so_in_the_preview_of_a_saved_account(undecryptable):
    account, client = undecryptable["account"], undecryptable["client"]
    post = connector_post(**{"cred-account": account.pk})
    pane = client.post(reverse("connect-twilio"), {**post, "_preview": "1"},
                       HTTP_HX_REQUEST="true", HTTP_HX_TARGET="pane-details")
    assert pane.status_code == 200 and ACCOUNT_WORDS in html.unescape(pane.content.decode())
    page = client.post(reverse("connect-twilio"), {**post, "_preview": "1"})
    assert page.status_code == 200 and ACCOUNT_WORDS in html.unescape(page.content.decode())


def test_it_says_so_when_an_edit_needs_the_old_secret(undecryptable):
    account, client = undecryptable["account"], undecryptable["client"]
    # A new region without a new token is checked with the stored token.
    response = client.post(reverse("account-edit", args=[account.pk]),
                           {"name": "Second", "secret": "", "region": "us1"})
    assert response.status_code == 409
    assert ACCOUNT_WORDS in html.unescape(response.content.decode())


def test_it_fails_a_run_in_plain_words(undecryptable, settings, tmp_path):
    settings.DATASET_STORAGE_URI = str(tmp_path / "datasets")
    dataset = dataset_make(undecryptable["account"].owner, undecryptable["account"])
    run = Run.objects.create(dataset=dataset, trigger="manual")
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert ACCOUNT_WORDS in run.error and "Unexpected error" not in run.error
