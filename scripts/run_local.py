"""`make run`: migrate, make a first login, start web + worker + beat + the Twilio sandbox.

Prints the URL and stops every process cleanly on Ctrl-C. Runs on the embedded defaults
unless the environment (or .env) says otherwise.
"""

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8765"))


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def first_login() -> None:
    """Create `admin` with a random password when no user exists; remember it under var/."""
    note = ROOT / "var" / "first-login.txt"
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
            [
                PY,
                "manage.py",
                "createsuperuser",
                "--noinput",
                "--username",
                "admin",
                "--email",
                "admin@localhost",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        note.write_text(f"username: admin\npassword: {password}\n")
        note.chmod(0o600)
    if note.exists():
        print("First login (from var/first-login.txt):")
        print("  " + note.read_text().strip().replace("\n", "\n  "))
    else:
        print("Log in with your existing user.")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    os.chdir(ROOT)
    manage("migrate", "--noinput", "-v", "0")
    first_login()
    celery = [PY, "-m", "celery", "-A", "connector_site"]
    commands = {
        "sandbox": [PY, "manage.py", "twilio_sandbox", "--port", str(SANDBOX_PORT)],
        "web": [PY, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"],
        "worker": [*celery, "worker", "-l", "info", "--concurrency", "2"],
        "beat": [*celery, "beat", "-l", "info", "-S", "scheduler.beat:Scheduler"],
    }
    procs: dict[str, subprocess.Popen] = {}
    for name, cmd in commands.items():
        # Own process group each, so Ctrl-C reaches them only through us, in order.
        procs[name] = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    print(
        f"\nData Center is starting at http://127.0.0.1:{args.port}/  (Ctrl-C stops everything)\n"
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
