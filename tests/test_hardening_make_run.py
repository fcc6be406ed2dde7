"""`make run` (scripts/run_local.py) serves like production minus TLS, and every port knob
reaches every process.

The script is started for real, on free ports and a fresh VAR_DIR, with no secrets in the
environment, exactly as `make run` starts it: migrate, collectstatic, the first login, then
gunicorn, a Celery worker, beat and the sandbox. Checked: no debug page anywhere (a missing
page is the site's 404), the favicon served by whitenoise from the manifest, keys generated
under var/ with mode 0600, the server bound to 127.0.0.1, a sign-in over plain http (cookies
not Secure), PORT/SANDBOX_PORT/SITE_URL in every process's environment, and "Use the sandbox
account" reaching the sandbox on SANDBOX_PORT. Everything it started is stopped.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from connector_site.pytest_plugin import ROOT

pytestmark = pytest.mark.slow

# Whatever points the tests at other services must not reach `make run`.
SCRUBBED = (
    "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_BROKER_DIR", "SECRET_KEY",
    "CREDENTIAL_KEYS", "DJANGO_DEBUG", "TWILIO_SANDBOX_URL", "SITE_URL", "VAR_DIR",
    "DATASET_STORAGE_URI", "HOST", "PORT", "SANDBOX_PORT", "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
)
DEBUG_PAGE = ("You're seeing this error because you have", "Traceback", "DEBUG = True")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Started:
    def __init__(self, proc: subprocess.Popen, port: int, sandbox_port: int, var: Path,
                 log: Path) -> None:
        self.proc, self.port, self.sandbox_port, self.var, self.log = (
            proc, port, sandbox_port, var, log
        )
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def make_run(tmp_path_factory) -> Iterator[Started]:
    tmp = tmp_path_factory.mktemp("make-run")
    port, sandbox_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    # What `PORT=… SANDBOX_PORT=… make run` puts in the environment (VAR_DIR: a fresh var/).
    env |= {"PORT": str(port), "SANDBOX_PORT": str(sandbox_port), "VAR_DIR": str(tmp / "var")}
    log = tmp / "make-run.log"
    proc = subprocess.Popen(
        [sys.executable, "scripts/run_local.py"], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    started = Started(proc, port, sandbox_port, tmp / "var", log)
    family: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert proc.poll() is None, "run_local.py exited:\n" + started.output()[-4000:]
            family = _family(proc.pid) or family
            try:
                if httpx.get(f"{started.url}/login/", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("make run did not serve /login/:\n" + started.output()[-4000:])
        yield started
    finally:
        family = _family(proc.pid) or family
        # Ctrl-C, as a person stops it; then whatever is left, by pid.
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        for child in family:
            if child.is_running():
                child.kill()


def _family(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _role(process: psutil.Process) -> str | None:
    cmd = " ".join(process.cmdline())
    for role, marker in (("web", "gunicorn"), ("worker", " worker"), ("beat", " beat"),
                         ("sandbox", "twilio_sandbox")):
        if marker in cmd:
            return role
    return None


def test_it_serves_with_gunicorn_and_debug_off(make_run):
    login = httpx.get(f"{make_run.url}/login/")
    assert login.status_code == 200
    assert login.headers["server"].startswith("gunicorn")
    missing = httpx.get(f"{make_run.url}/no-such-page/")
    assert missing.status_code == 404
    for text in DEBUG_PAGE:
        assert text not in missing.text and text not in login.text
    assert "There is nothing here" in missing.text  # the site's own 404 page
    # Static files from the manifest (hashed names), served by whitenoise.
    favicon = re.search(r'<link rel="icon" href="([^"]+)"', login.text).group(1)
    assert re.search(r"favicon\.[0-9a-f]{12}\.svg$", favicon), favicon
    assert httpx.get(f"{make_run.url}{favicon}").status_code == 200


def test_it_generates_private_keys_under_var(make_run):
    for name in ("secret_key", "credential.key", "first-login.txt"):
        mode = (make_run.var / name).stat().st_mode & 0o777
        assert mode == 0o600, (name, oct(mode))


def test_it_listens_on_loopback_only(make_run):
    listening = [
        c.laddr.ip for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port in (make_run.port, make_run.sandbox_port)
    ]
    assert listening and set(listening) == {"127.0.0.1"}, listening


def test_it_hands_every_knob_to_every_process(make_run):
    roles: dict[str, dict[str, str]] = {}
    for child in _family(make_run.proc.pid):
        role = _role(child)
        if role and role not in roles:
            roles[role] = child.environ()
    assert set(roles) == {"web", "worker", "beat", "sandbox"}, roles.keys()
    for role, env in roles.items():
        assert env["TWILIO_SANDBOX_URL"] == f"http://127.0.0.1:{make_run.sandbox_port}", role
        assert env["SITE_URL"] == make_run.url, role
        assert env["PORT"] == str(make_run.port) and env["DJANGO_DEBUG"] == "False", role


def test_it_signs_in_over_http_and_uses_the_sandbox_on_its_port(make_run):
    username, password = re.findall(
        r"username: (\S+)\npassword: (\S+)", (make_run.var / "first-login.txt").read_text()
    )[0]
    with httpx.Client(base_url=make_run.url) as client:
        client.get("/login/")
        csrf = client.cookies["csrftoken"]
        signed_in = client.post(
            "/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        )
        assert signed_in.status_code == 302, signed_in.text[:500]
        # Not Secure: plain http on loopback (a Secure cookie would never come back).
        assert "secure" not in signed_in.headers["set-cookie"].lower()
        # "Use the sandbox account" on the connector page: the app asks the sandbox it started.
        answer = client.post(
            "/connect/twilio-advanced/",
            data={"_sandbox": "1", "csrfmiddlewaretoken": client.cookies["csrftoken"]},
            timeout=30,
        )
    assert answer.status_code == 200, answer.text[:500]
    assert "Connected to Twilio" in answer.text, answer.text[-2000:]
