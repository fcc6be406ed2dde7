"""`make run` and `make dev`: migrate, make a first login, start web + worker + beat + the
Twilio sandbox, print the URL, stop every process cleanly on Ctrl-C.

`make run` serves the way production does, minus TLS: DEBUG off, gunicorn with whitenoise
and the collected, hashed static files, the site's own 404/500 pages, SECRET_KEY and
CREDENTIAL_KEYS generated once under var/ (mode 0600) when the environment has none, bound to
127.0.0.1 unless HOST says otherwise. Only because it is plain http on loopback are the session
and CSRF cookies not marked Secure and HTTPS not enforced. `make dev` is Django's runserver
with DEBUG on, for development only.

Every knob reaches every process through the environment: HOST and PORT (the web server),
SANDBOX_PORT (the sandbox, and TWILIO_SANDBOX_URL, which the web server and the worker call),
and SITE_URL (links in e-mails; derived from HOST and PORT unless set).
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(ROOT))


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def first_login(var_dir: Path) -> None:
    """Create `admin` with a random password when no user exists; remember it under var/."""
    note = var_dir / "first-login.txt"
    code = (
        "from django.contrib.auth import get_user_model as g;"
        "import sys; sys.exit(0 if g().objects.exists() else 3)"
    )
    exists = (
        subprocess.run([PY, "manage.py", "shell", "-v", "0", "-c", code], cwd=ROOT).returncode
        == 0
    )
    if not exists:
        password = secrets.token_urlsafe(12)
        env = {**os.environ, "DJANGO_SUPERUSER_PASSWORD": password}
        subprocess.run(
            [PY, "manage.py", "createsuperuser", "--noinput", "--username", "admin",
             "--email", "admin@localhost"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # Private from the first byte: created with 0600, not chmod-ed after writing.
        fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"username: admin\npassword: {password}\n")
    if note.exists():
        print("First login (from var/first-login.txt):")
        print("  " + note.read_text().strip().replace("\n", "\n  "))
    else:
        print("Log in with your existing user.")


def _url_host(host: str) -> str:
    """How HOST appears in a URL: IPv6 in brackets; a wildcard bind as this machine's loopback."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - only for the printed/linked URL
        return "127.0.0.1"
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    return host


def configure(*, host: str, port: int, sandbox_port: int, dev: bool) -> dict[str, str]:
    """Put every setting the processes share into os.environ; returns what was chosen."""
    import environ

    from connector_site.local_keys import local_secret

    # .env first (never overriding the real environment), as the settings do, so a SECRET_KEY
    # or CREDENTIAL_KEYS there is used rather than one generated here.
    environ.Env.read_env(str(ROOT / ".env"), overwrite=False)
    var_dir = Path(os.environ.setdefault("VAR_DIR", str(ROOT / "var")))
    var_dir.mkdir(parents=True, exist_ok=True)
    chosen = {
        "HOST": host,
        "PORT": str(port),
        "SANDBOX_PORT": str(sandbox_port),
        # The sandbox this script starts is the one the web server and the worker must call.
        "TWILIO_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
        "SITE_URL": os.environ.get("SITE_URL") or f"http://{_url_host(host)}:{port}",
    }
    if not dev:
        chosen |= {
            "DJANGO_DEBUG": "False",
            # Production requires both; generated once under var/ with mode 0600 when unset.
            "SECRET_KEY": os.environ.get("SECRET_KEY")
            or local_secret(var_dir / "secret_key", "django"),
            "CREDENTIAL_KEYS": os.environ.get("CREDENTIAL_KEYS")
            or local_secret(var_dir / "credential.key", "fernet"),
            # Plain http on loopback: a Secure cookie would never be sent back, and there is
            # no TLS to redirect to. Everything else stays as in production.
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "SECURE_SSL_REDIRECT": "False",
            "SECURE_HSTS_SECONDS": "0",
        }
    allowed = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    allowed = allowed or ["localhost", "127.0.0.1", "[::1]"]
    wanted = [_url_host(host).strip("[]")]
    if host in ("0.0.0.0", "::"):  # noqa: S104 - served on every interface: name this machine
        wanted += [socket.gethostname(), socket.getfqdn()]
    chosen["ALLOWED_HOSTS"] = ",".join(dict.fromkeys(allowed + wanted))
    os.environ.update(chosen)
    return chosen


def commands(*, host: str, port: int, sandbox_port: int, dev: bool) -> dict[str, list[str]]:
    bind = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
    celery = [PY, "-m", "celery", "-A", "connector_site"]
    if dev:
        web = [PY, "manage.py", "runserver", bind, "--noreload"]
    else:
        # The same server and config as the image (Dockerfile) and compose.
        web = [PY, "-m", "gunicorn", "connector_site.wsgi:application",
               "-c", "connector_site/gunicorn_conf.py", "--bind", bind,
               "--workers", "2", "--timeout", "120"]
    return {
        "sandbox": [PY, "manage.py", "twilio_sandbox", "--port", str(sandbox_port)],
        "web": web,
        "worker": [*celery, "worker", "-l", "info", "--concurrency", "2"],
        "beat": [*celery, "beat", "-l", "info", "-S", "scheduler.beat:Scheduler"],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument(
        "--sandbox-port", type=int, default=int(os.environ.get("SANDBOX_PORT") or 8765)
    )
    parser.add_argument("--dev", action="store_true", help="runserver with DEBUG on")
    args = parser.parse_args()
    os.chdir(ROOT)
    chosen = configure(
        host=args.host, port=args.port, sandbox_port=args.sandbox_port, dev=args.dev
    )
    manage("migrate", "--noinput", "-v", "0")
    if not args.dev:
        # The hashed, compressed files (and their manifest) whitenoise serves with DEBUG off.
        manage("collectstatic", "--noinput", "-v", "0")
    first_login(Path(os.environ["VAR_DIR"]))
    procs: dict[str, subprocess.Popen] = {}
    started = commands(host=args.host, port=args.port, sandbox_port=args.sandbox_port, dev=args.dev)
    for name, cmd in started.items():
        # Own process group each, so Ctrl-C reaches them only through us, in order.
        procs[name] = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    mode = "development server, DEBUG on" if args.dev else "gunicorn, DEBUG off"
    print(
        f"\nData Center is starting at {chosen['SITE_URL']}/  ({mode}; sandbox at "
        f"{chosen['TWILIO_SANDBOX_URL']}; Ctrl-C stops everything)\n"
    )

    stopping = False

    def stop(signum=None, frame=None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nStopping web, worker, beat and sandbox…")
        for proc in procs.values():
            if proc.poll() is None:
                # The leader only: Celery stops its own pool children (a warm shutdown).
                proc.terminate()
        deadline = time.monotonic() + 20
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in procs.values():
            # Whatever a leader left behind in its group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None and not stopping:
                print(f"{name} exited with code {proc.returncode}; stopping the rest.")
                stop()
                return 1
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
