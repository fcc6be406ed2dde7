"""A pull never imports pandas: pyarrow imports it (~50 MB) the first time a Python value is
converted to Arrow, so the pull's constants come from twilio_reports.arrow_values.

A fresh interpreter (the test process has pandas loaded already) pulls every report with
data from an in-process sandbox, across day pairs and subaccounts, then lists the modules.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from datetime import timedelta
from twilio_reports.client import PullConfig, RetryPolicy
from twilio_reports.sandbox import (MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, SandboxConfig,
                                    start_server)
from twilio_reports.service import Credentials, PullRequest, pull_batches
config = PullConfig(retry=RetryPolicy(scale=0.001), page_size=100)
rows = {}
with start_server(SandboxConfig(calls=3000, messages=600, alerts=60, subaccounts=20,
                                date_upper="whole-day")) as sb:
    creds = Credentials(MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, api_base=sb.url, monitor_base=sb.url)
    today = sb.world.today
    for report in ("calls", "messages", "conferences", "alerts", "usage-records"):
        request = PullRequest(report, {}, (today - timedelta(days=6), today), "UTC")
        rows[report] = sum(b.num_rows for b in pull_batches(request, creds, config=config))
print(json.dumps({"rows": rows,
                  "loaded": [m for m in ("pandas", "numpy.random") if m in sys.modules]}))
"""


def test_a_pull_does_not_import_pandas():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["rows"]["calls"] > 0 and out["rows"]["messages"] > 0, out
    assert out["loaded"] == [], f"a pull imported {out['loaded']}"
