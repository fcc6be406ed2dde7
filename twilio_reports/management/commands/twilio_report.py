"""`manage.py twilio_report REPORT ...`: pull one report to CSV, JSON Lines or Parquet."""

from __future__ import annotations

import gc
import json
import os
import sys
from dataclasses import replace
from datetime import date, timedelta
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from twilio_reports.dates import today_in, zone
from twilio_reports.definitions import REPORTS
from twilio_reports.describe import nothing_returned
from twilio_reports.hosts import REGIONS
from twilio_reports.lean import hidden
from twilio_reports.service import Credentials, PullRequest, PullStats, TwilioError, pull_batches

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

# CLI option -> form field, per report (Status means a different field per report).
_STATUS_FIELD = {"calls": "call_status", "conferences": "conference_status",
                 "accounts": "account_status"}


class Command(BaseCommand):
    help = "Pull a Twilio report and write it as CSV, JSON Lines or Parquet."
    # The system checks load every URL, view and form of the site (~0.2 s and ~10 MB before the
    # first request); a pull needs none of them (`manage.py check` runs them on demand).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report", choices=sorted(REPORTS))
        creds = parser.add_argument_group("credentials")
        creds.add_argument("--account-sid", help="Account SID (AC...).")
        creds.add_argument("--auth-token",
                           help="Auth token (or API key secret); default $TWILIO_AUTH_TOKEN.")
        creds.add_argument("--api-key", help="API key SID (SK...) used with --auth-token.")
        creds.add_argument("--account", help="Name of a saved account in the Data Center.")
        filters = parser.add_argument_group("filters")
        filters.add_argument("--account-name", help="One (sub)account by friendly name.")
        filters.add_argument("--to", dest="to_number")
        filters.add_argument("--from", dest="from_number")
        filters.add_argument("--status")
        filters.add_argument("--log", choices=["0", "1"])
        filters.add_argument("--log-level")
        filters.add_argument("--category")
        filters.add_argument("--granularity")
        window = parser.add_argument_group("date window (whole days in --tz, both included)")
        window.add_argument("--start", type=date.fromisoformat, help="First day, YYYY-MM-DD.")
        window.add_argument("--end", type=date.fromisoformat,
                            help="Last day, YYYY-MM-DD (default today).")
        window.add_argument("--days-back", type=int,
                            help="From N days ago through today.")
        window.add_argument("--tz", default="UTC")
        ops = parser.add_argument_group("operator options")
        ops.add_argument("--api-base", default=REGIONS["us1"][0])
        ops.add_argument("--monitor-base", default=REGIONS["us1"][1])
        parser.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv")
        parser.add_argument("--out", default="-", help="Output file, or - for stdout.")

    def handle(self, *args: Any, **opts: Any) -> None:
        report: str = opts["report"]
        credentials = self._credentials(opts)
        request = PullRequest(report=report, params=self._params(report, opts),
                              window=self._window(opts), tz=opts["tz"])
        _import_arrow_without_numpy()
        # Django's and Arrow's ~300k start-up objects live as long as the process: frozen,
        # the collector stops walking them (it took a third of the writing thread's time).
        gc.freeze()
        stats = PullStats()

        def progress(s: PullStats) -> None:
            self.stderr.write(f"\r{s.pages} pages, {s.rows} rows{_accounts(s)}, "
                              f"{s.retries} retries, {s.elapsed:.1f}s", ending="")

        out_path: str = opts["out"]
        stream: IO[bytes] = (sys.stdout.buffer if out_path == "-"
                             else open(out_path, "wb"))  # noqa: SIM115 - closed below
        try:
            writer = _Writer(opts["format"], stream, REPORTS[report].arrow_schema())
            for batch in pull_batches(request, credentials, on_progress=progress, stats=stats):
                writer.write(batch)
            writer.close()
        except TwilioError as exc:
            self.stderr.write("")
            raise CommandError(exc.message) from None
        finally:
            if out_path != "-":
                stream.close()
        self.stderr.write("")
        if stats.rows == 0:
            stats.warn(nothing_returned(request))
        for warning in stats.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stderr.write(f"{stats.rows} rows in {stats.pages} pages{_accounts(stats)} "
                          f"({stats.retries} retries, {stats.elapsed:.1f}s)")

    def _credentials(self, opts: dict[str, Any]) -> Credentials:
        if opts["account"]:
            if opts["account_sid"] or opts["auth_token"]:
                raise CommandError("Give either --account or --account-sid/--auth-token.")
            # Saved accounts belong to a layer above this one: the site names the function
            # that finds them (setting TWILIO_SAVED_ACCOUNT_CREDENTIALS), this app never
            # imports it. Resolved lazily: that function needs the database, this module must not.
            if not getattr(settings, "TWILIO_SAVED_ACCOUNT_CREDENTIALS", ""):
                raise CommandError("This installation has no saved accounts: use --account-sid.")
            credentials_for_account_name = import_string(settings.TWILIO_SAVED_ACCOUNT_CREDENTIALS)
            try:
                creds = credentials_for_account_name(opts["account"])
            except Exception as exc:  # the selector's own "not found" error, in its words
                raise CommandError(str(exc)) from None
            if opts["api_base"] != REGIONS["us1"][0] or opts["monitor_base"] != REGIONS["us1"][1]:
                creds = replace(creds, api_base=opts["api_base"],
                                monitor_base=opts["monitor_base"])
            return creds
        sid = opts["account_sid"]
        token = opts["auth_token"] or os.environ.get("TWILIO_AUTH_TOKEN", "")
        if not sid or not token:
            raise CommandError("Give --account NAME, or --account-sid and --auth-token.")
        return Credentials(account_sid=sid, secret=token, key_sid=opts["api_key"],
                           api_base=opts["api_base"], monitor_base=opts["monitor_base"])

    def _params(self, report: str, opts: dict[str, Any]) -> dict[str, str]:
        params: dict[str, str] = {}
        for key in ("to_number", "from_number", "log", "log_level", "category", "granularity",
                    "account_name"):
            if opts.get(key):
                params[key] = str(opts[key])
        if opts.get("status"):
            field = _STATUS_FIELD.get(report)
            if not field:
                raise CommandError(f"--status does not apply to {REPORTS[report].label}.")
            params[field] = opts["status"]
        rdef = REPORTS[report]
        unused = sorted(k for k in params if k not in rdef.fields)
        if unused:
            names = ", ".join("--" + k.replace("_number", "").replace("_", "-") for k in unused)
            raise CommandError(f"{names} does not apply to {rdef.label}.")
        return params

    def _window(self, opts: dict[str, Any]) -> tuple[date, date] | None:
        try:
            zone(opts["tz"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        today = today_in(opts["tz"])
        if opts["days_back"] is not None:
            if opts["start"] or opts["end"]:
                raise CommandError("Give either --days-back or --start/--end.")
            if opts["days_back"] < 0:
                raise CommandError("--days-back cannot be negative.")
            return today - timedelta(days=opts["days_back"]), today
        if opts["end"] and not opts["start"]:
            raise CommandError("--end needs --start.")
        if not opts["start"]:
            return None
        first, last = opts["start"], opts["end"] or today
        if first > last:
            raise CommandError(f"The start date ({first}) is after the end date ({last}).")
        return first, last


def _import_arrow_without_numpy() -> None:
    """pyarrow imports numpy when it is installed (~17 MB and ~0.1 s of start-up, a tenth of
    this command's memory); pulling and writing CSV, JSON Lines or Parquet never use it, and
    pyarrow treats it as optional. So when this process has not loaded either yet, pyarrow is
    imported with numpy hidden (lean.py)."""
    if "pyarrow" in sys.modules or "numpy" in sys.modules:
        return
    with hidden("numpy"):
        import pyarrow  # noqa: F401
        import pyarrow.compute  # noqa: F401  (both look for numpy when first imported)


def _accounts(stats: PullStats) -> str:
    """", 120 of 1,004 accounts done" when the pull covers subaccounts too."""
    if stats.accounts_total <= 1:
        return ""
    return f", {stats.accounts_done:,} of {stats.accounts_total:,} accounts done"


class _Writer:
    """One output format, written batch by batch so nothing is held whole in memory."""

    def __init__(self, fmt: str, stream: IO[bytes], schema: pa.Schema):
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        self.fmt = fmt
        self.stream = stream
        self.schema = schema
        self._csv: pacsv.CSVWriter | None = None
        self._pq: pq.ParquetWriter | None = None
        if fmt == "csv":
            self._csv = pacsv.CSVWriter(stream, schema)
        elif fmt == "parquet":
            self._pq = pq.ParquetWriter(stream, schema)

    def write(self, batch: pa.RecordBatch) -> None:
        if self._csv is not None:
            self._csv.write_batch(batch)
        elif self._pq is not None:
            self._pq.write_batch(batch)
        else:
            for row in batch.to_pylist():
                self.stream.write(json.dumps(row, default=str).encode() + b"\n")

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        elif self._pq is not None:
            self._pq.close()
        else:
            self.stream.flush()
