"""Lean processes: serving the login page, `manage.py check` and an idle worker never import
pandas, deltalake, plotly, pyarrow (nor httpx, numpy): they load with the code that uses them.

An import-level test, not a timing test: a fresh interpreter sets Django up, resolves and
renders /login/, runs the system checks and imports what a Celery worker imports at start
(its task modules), then lists which heavy modules are in sys.modules. The memory figures
themselves are measured by `make bench` (bench/scenarios/lean.py).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "deltalake", "plotly", "pyarrow", "numpy", "httpx")
SCALE_OUT_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_BROKER_DIR")

SCRIPT = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "connector_site.settings"
import django
django.setup()
heavy = %r
loaded = {}
loaded["setup"] = [m for m in heavy if m in sys.modules]
from django.core.management import call_command
from django.test import Client
from django.urls import resolve
match = resolve("/login/")
response = Client().get("/login/")
loaded["login"] = [m for m in heavy if m in sys.modules]
call_command("check", verbosity=0)
loaded["check"] = [m for m in heavy if m in sys.modules]
from connector_site.celery import app
app.loader.import_default_modules()  # what `celery worker` imports before its first task
loaded["worker"] = [m for m in heavy if m in sys.modules]
print(json.dumps({"status": response.status_code, "view": match.view_name,
                  "has_form": b'name="password"' in response.content,
                  "tasks": sorted(t for t in app.tasks if not t.startswith("celery.")),
                  "loaded": loaded}))
"""


def _run(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SCALE_OUT_VARS}
    # DEBUG on: the login page renders without collectstatic's manifest; the imports are
    # the same as in production.
    env.update({"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "True", "LOG_LEVEL": "WARNING"})
    done = subprocess.run([sys.executable, "-c", SCRIPT % (HEAVY,)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_login_page_check_and_idle_worker_import_nothing_heavy(tmp_path):
    out = _run(tmp_path)
    assert out["status"] == 200 and out["view"] == "login" and out["has_form"]
    # The worker really registered the project's tasks (their bodies import the rest).
    assert {"scheduler.tasks.run_execute", "datacenter.tasks.version_precompute"} <= set(
        out["tasks"])
    for stage, modules in out["loaded"].items():
        assert modules == [], f"{stage} imported {', '.join(modules)}"


PULL_SCRIPT = """
import json, sys
import connector_site  # first, as in every process: it picks Arrow's allocator
import pyarrow as pa
import twilio_reports.client
import rich  # installed next to the test tools: hidden from httpx only, not from others
print(json.dumps({"pool": pa.default_memory_pool().backend_name,
                  "httpx_cli": "httpx._main" in sys.modules, "click": "click" in sys.modules}))
"""


def test_it_pulls_with_the_c_allocator_and_without_httpx_command_line(tmp_path):
    # Arrow's allocator is chosen before pyarrow loads (connector_site/__init__.py), and httpx
    # comes without its command line client (twilio_reports/lean.py): ~10 MB of rich, click
    # and pygments a pull never uses.
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", PULL_SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "pool": "system", "httpx_cli": False, "click": False}
