import csv
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from twilio_reports.dates import day_bounds_utc
from twilio_reports.sandbox import MAIN_ACCOUNT_SID, MAIN_AUTH_TOKEN, SandboxConfig, start_server
from twilio_reports.tests.sandbox_truth import truth_sids


@pytest.fixture(scope="module")
def sandbox():
    with start_server(SandboxConfig(calls=600, messages=300, alerts=100)) as server:
        yield server


def _base(sandbox) -> list[str]:
    return ["--api-base", sandbox.url, "--monitor-base", sandbox.url]


def test_it_writes_a_csv_of_the_window(sandbox, tmp_path, capsys):
    out = tmp_path / "calls.csv"
    today = sandbox.world.today
    start, end = today - timedelta(days=6), today - timedelta(days=2)
    call_command("twilio_report", "calls", "--account-sid", MAIN_ACCOUNT_SID, "--auth-token",
                 MAIN_AUTH_TOKEN, "--start", start.isoformat(), "--end", end.isoformat(),
                 "--tz", "Europe/Berlin", "--out", str(out), *_base(sandbox))
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    want = truth_sids(sandbox.world, "calls", span=day_bounds_utc(start, end, "Europe/Berlin"))
    assert sorted(r["sid"] for r in rows) == sorted(want)
    assert rows[0]["account_sid"].startswith("AC")
    err = capsys.readouterr().err
    assert f"{len(want)} rows" in err and MAIN_AUTH_TOKEN not in err


@pytest.mark.django_db
def test_it_resolves_a_saved_account(sandbox, tmp_path, settings):
    from datacenter.tests.factories import sandbox_account_make, user_make

    settings.TWILIO_SANDBOX_URL = sandbox.url
    sandbox_account_make(user_make("ops"), name="Ops")
    out = tmp_path / "n.jsonl"
    call_command("twilio_report", "notifications", "--account", "Ops", "--log", "0",
                 "--format", "jsonl", "--out", str(out))
    lines = out.read_text().splitlines()
    want = truth_sids(sandbox.world, "notifications", where=lambda r: r["log"] == "0")
    assert len(lines) == len(want) > 0


@pytest.mark.django_db
def test_it_names_a_missing_saved_account(tmp_path):
    with pytest.raises(CommandError, match='No saved account is named "Nobody"'):
        call_command("twilio_report", "calls", "--account", "Nobody", "--days-back", "1",
                     "--out", str(tmp_path / "x.csv"))


def test_it_exits_with_plain_words_on_bad_credentials(sandbox, tmp_path):
    with pytest.raises(CommandError, match=r"Calls: Twilio rejected the credentials \(20003\)"):
        call_command("twilio_report", "calls", "--account-sid", MAIN_ACCOUNT_SID,
                     "--auth-token", "f" * 32, "--days-back", "2",
                     "--out", str(tmp_path / "x.csv"), *_base(sandbox))


def test_it_rejects_options_that_do_not_apply(sandbox, tmp_path):
    with pytest.raises(CommandError, match="does not apply to Usage Records"):
        call_command("twilio_report", "usage-records", "--account-sid", MAIN_ACCOUNT_SID,
                     "--auth-token", MAIN_AUTH_TOKEN, "--to", "+14155550100",
                     "--out", str(tmp_path / "x.csv"), *_base(sandbox))


def test_it_writes_parquet(sandbox, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "u.parquet"
    call_command("twilio_report", "usage-records", "--account-sid", MAIN_ACCOUNT_SID,
                 "--auth-token", MAIN_AUTH_TOKEN, "--granularity", "monthly", "--category",
                 "calls", "--days-back", "40", "--format", "parquet", "--out", str(out),
                 *_base(sandbox))
    table = pq.read_table(out)
    assert table.num_rows > 0 and set(table.column("category").to_pylist()) == {"calls"}


def test_it_warns_when_twilio_returns_no_rows(sandbox, tmp_path, capsys):
    out = tmp_path / "calls.csv"
    day = sandbox.world.today - timedelta(days=3)
    call_command("twilio_report", "calls", "--account-sid", MAIN_ACCOUNT_SID, "--auth-token",
                 MAIN_AUTH_TOKEN, "--start", day.isoformat(), "--end", day.isoformat(),
                 "--from", "+15550009999", "--out", str(out), *_base(sandbox))
    err = capsys.readouterr().err
    assert f"warning: Twilio returned no rows for Calls · From +15550009999 · {day:%b} " \
           f"{day.day}, {day.year} · UTC." in err
    assert "0 rows" in err


def test_the_command_as_a_process_writes_every_format_without_numpy(sandbox, tmp_path):
    """`manage.py twilio_report` in a process of its own (as a user runs it): pyarrow is
    imported with numpy hidden there, and Parquet, CSV and JSON Lines come out whole."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    root = Path(__file__).resolve().parents[2]
    today = sandbox.world.today
    start = today - timedelta(days=6)
    want = sorted(truth_sids(sandbox.world, "calls",
                             span=day_bounds_utc(start, today - timedelta(days=1), "UTC")))
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var")}
    for fmt in ("parquet", "csv", "jsonl"):
        out = tmp_path / f"calls.{fmt}"
        done = subprocess.run(
            [sys.executable, "manage.py", "twilio_report", "calls", "--account-sid",
             MAIN_ACCOUNT_SID, "--auth-token", MAIN_AUTH_TOKEN, "--start", start.isoformat(),
             "--end", (today - timedelta(days=1)).isoformat(), "--format", fmt, "--out",
             str(out), *_base(sandbox)], cwd=root, env=env, capture_output=True, text=True,
            timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        if fmt == "parquet":
            table = pq.read_table(out)
            assert str(table.schema.field("start_time").type) == "timestamp[us, tz=UTC]"
            sids = table.column("sid").to_pylist()
        elif fmt == "csv":
            sids = pacsv.read_csv(out).column("sid").to_pylist()
        else:
            sids = [json.loads(line)["sid"] for line in out.read_text().splitlines()]
        assert sorted(sids) == want, fmt
