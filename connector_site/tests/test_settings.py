"""Settings from the environment: embedded defaults, production refusals, check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
SCALE_OUT_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_BROKER_DIR")


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in SCALE_OUT_VARS}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "False",
        "VAR_DIR": str(tmp_path),
        "SECRET_KEY": "x7!" + Fernet.generate_key().decode() + "Qz9#pL2$",
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "datacenter.example.com",
    }


SHOW = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='connector_site.settings';"
    "django.setup(); from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND,"
    " s.DATASET_STORAGE_URI)"
)


def test_it_runs_on_embedded_defaults(tmp_path):
    out = _run(SHOW, VAR_DIR=str(tmp_path), DJANGO_DEBUG="True")
    assert out.returncode == 0, out.stderr
    engine, broker, email, storage = out.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert email == "django.core.mail.backends.console.EmailBackend"
    assert storage.startswith(str(tmp_path))
    # The embedded secrets are generated once, private to the user.
    assert (tmp_path / "credential.key").stat().st_mode & 0o077 == 0


def test_it_switches_to_postgres_and_redis_from_the_environment(tmp_path):
    out = _run(
        SHOW,
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://u@db:5432/x",
        REDIS_URL="redis://cache:6379/0",
    )
    assert out.returncode == 0, out.stderr
    engine, broker, *_ = out.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert broker == "redis://cache:6379/0"


def test_it_refuses_production_without_secret_key(tmp_path):
    env = _production_env(tmp_path)
    env["SECRET_KEY"] = ""
    out = _run(SHOW, **env)
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_it_refuses_production_without_credential_keys(tmp_path):
    env = _production_env(tmp_path)
    env["CREDENTIAL_KEYS"] = ""
    out = _run(SHOW, **env)
    assert out.returncode != 0
    assert "CREDENTIAL_KEYS must be set" in out.stderr


def test_it_reports_a_wrong_credential_key_at_start(tmp_path):
    env = _production_env(tmp_path)
    env["CREDENTIAL_KEYS"] = "not-a-fernet-key"
    out = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if k not in SCALE_OUT_VARS}, **env},
        timeout=120,
    )
    assert out.returncode != 0
    assert "datacenter.E001" in out.stderr


def test_it_passes_check_deploy(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in SCALE_OUT_VARS},
        **_production_env(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues" in out.stdout
