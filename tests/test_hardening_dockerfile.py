"""The image as the Dockerfile builds it can serve (Docker itself does not run here).

The Dockerfile is parsed and its build replayed: the build context is copied as `COPY . .`
would copy it (honouring .dockerignore), its ENV lines are the environment, and its RUN lines
run with /bin/sh in that copy, exactly as written, except the two that change the machine
rather than the image's files (`pip install`: the test's virtualenv holds the same pinned
requirements; `useradd`). Then compose's own commands run in the copy with production
settings: `migrate`, and the web service's gunicorn command (on a free loopback port). /login/
must answer 200 and its favicon, a hashed name from the staticfiles manifest, must resolve.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet

from connector_site.pytest_plugin import ROOT

pytestmark = pytest.mark.slow

# RUN lines that act on the machine, not on the image's files.
MACHINE_STEPS = ("pip install", "useradd")
VENV_BIN = str(Path(sys.executable).parent)


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def _copy_context(target: Path) -> None:
    """`COPY . .` of the build context: everything but what .dockerignore names."""
    ignored = [
        p.strip().strip("/").removeprefix("**/")
        for p in (ROOT / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(*ignored), symlinks=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_keeps_local_secrets_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    # var/ holds generated keys and the SQLite database; .env holds the real secrets.
    assert {".env", "var/", ".venv/", ".git"} <= set(ignored)


def test_it_builds_an_image_that_serves_the_login_page(tmp_path):
    app = tmp_path / "app"
    _copy_context(app)
    assert not (app / ".env").exists() and not (app / "var").exists()

    # --- the build: ENV and RUN, as docker build runs them -----------------------------------
    build_env = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    ran = []
    for keyword, args in _instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "ENV":
            build_env.update(dict(pair.split("=", 1) for pair in shlex.split(args)))
        elif keyword == "RUN" and not any(step in args for step in MACHINE_STEPS):
            done = subprocess.run(["/bin/sh", "-c", args], cwd=app, env=build_env,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"RUN {args}\n{done.stdout}\n{done.stderr}"
            ran.append(args)
        elif keyword == "CMD":
            image_cmd = json.loads(args)
    assert any("collectstatic" in step for step in ran), ran
    # DEBUG off at build time is what writes the manifest the production storage reads.
    assert (app / "var" / "staticfiles" / "staticfiles.json").exists()

    # --- the container: compose's env and commands, production settings ---------------------
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    port = _free_port()
    run_env = {
        **build_env,
        "DJANGO_DEBUG": "False",
        "SECRET_KEY": "x7!" + Fernet.generate_key().decode() + "Qz9#pL2$",
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Behind the TLS proxy a deployment has; the proxy's header says the request was https.
        "USE_X_FORWARDED_PROTO": "True",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    migrate = compose["migrate"]["command"]
    done = subprocess.run(migrate, cwd=app, env=run_env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    web = list(compose["web"]["command"])
    assert web[0] == "gunicorn" and image_cmd[:2] == web[:2]
    web[web.index("--bind") + 1] = f"127.0.0.1:{port}"
    web[web.index("--workers") + 1] = "1"  # a shared 2-core machine
    log = tmp_path / "web.log"
    proc = subprocess.Popen([sys.executable, "-m", *web], cwd=app, env=run_env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        base, https = f"http://127.0.0.1:{port}", {"X-Forwarded-Proto": "https"}
        deadline, login = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                login = httpx.get(f"{base}/login/", headers=https, timeout=10)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert login is not None, log.read_text()[-3000:]
        assert login.status_code == 200, log.read_text()[-3000:]
        favicon = re.search(r'<link rel="icon" href="([^"]+)"', login.text).group(1)
        assert re.search(r"favicon\.[0-9a-f]{12}\.svg$", favicon), favicon
        icon = httpx.get(f"{base}{favicon}", headers=https)
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
