"""`manage.py twilio_sandbox --port 8010`: serve the Twilio sandbox until Ctrl-C.

`--processes N` (N > 1) serves the same port from N forked processes (one listening socket,
shared per-account in-flight cap) for benchmarks on more than one core; fault knobs changed
over POST /_sandbox/knobs then reach only the process that answered that request.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from twilio_reports.sandbox import (
    DATE_UPPER_READINGS,
    MAIN_ACCOUNT_SID,
    MAIN_AUTH_TOKEN,
    SUBACCOUNTS,
    SandboxConfig,
    serve_processes,
    start_server,
)


class Command(BaseCommand):
    help = "Serve the Twilio look-alike (2010 API + monitor Alerts) on one port until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--calls", type=int, default=3000)
        parser.add_argument("--messages", type=int, default=3000)
        parser.add_argument("--alerts", type=int, default=300)
        parser.add_argument("--latency-ms", type=float, default=0)
        parser.add_argument("--max-in-flight", type=int, default=None)
        parser.add_argument("--rate-429", type=float, default=0.0)
        parser.add_argument("--rate-5xx", type=float, default=0.0)
        parser.add_argument("--days", type=int, default=30,
                            help="days of calls, messages, conferences, notifications, alerts")
        parser.add_argument("--subaccounts", type=int, default=0,
                            help="extra subaccounts beyond the fixed three (up to 1000 and "
                                 "more): a few calls a day each, every 100th busy")
        parser.add_argument("--date-upper", choices=DATE_UPPER_READINGS, default="before",
                            help="how a date-only upper bound (StartTime<=D) is read: "
                                 "before D (Twilio's documented reading, default), up to D "
                                 "00:00:00 (midnight), or the whole of D (whole-day)")
        parser.add_argument("--page-cache-mb", type=int, default=0,
                            help="keep rendered list pages up to N MB and answer repeated "
                                 "queries from them (latency and faults still apply); "
                                 "default 0, off")
        parser.add_argument("--processes", type=int, default=1,
                            help="serve from N forked processes sharing the port (default 1);"
                                 " knob changes then reach one process only")

    def config_from(self, options: dict[str, Any]) -> SandboxConfig:
        return SandboxConfig(seed=options["seed"], calls=options["calls"],
                             messages=options["messages"], alerts=options["alerts"],
                             latency_ms=options["latency_ms"],
                             max_in_flight_per_account=options["max_in_flight"],
                             rate_429=options["rate_429"], rate_5xx=options["rate_5xx"],
                             date_upper=options["date_upper"],
                             subaccounts=options["subaccounts"], days=options["days"],
                             page_cache_mb=options["page_cache_mb"])

    def announce(self, url: str, processes: int = 1) -> None:
        out = self.stdout
        out.write(f"Twilio sandbox serving on {url}  (Ctrl-C to stop)")
        out.write(f"  API base / monitor base: {url}")
        out.write(f"  Main account:  SID {MAIN_ACCOUNT_SID}  auth token {MAIN_AUTH_TOKEN}"
                  "  (sandbox-only demo credentials)")
        for sid, _token, name in SUBACCOUNTS:
            out.write(f"  Subaccount:    SID {sid}  {name}")
        out.write(f"  Knobs: GET/POST {url}/_sandbox/knobs")
        if processes > 1:
            out.write(f"  Processes: {processes} (knob changes reach one process only)")
        out.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        processes = options["processes"]
        if processes < 1:
            raise CommandError("--processes must be >= 1")
        if processes > 1:
            code = serve_processes(self.config_from(options), host=options["host"],
                                   port=options["port"], processes=processes,
                                   on_ready=lambda url: self.announce(url, processes))
            self.stdout.write("Sandbox stopped.")
            if code:
                raise CommandError("a sandbox process exited abnormally")
            return
        server = start_server(self.config_from(options), host=options["host"],
                              port=options["port"])
        self.announce(server.url)
        out = self.stdout
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            out.write("Stopping the sandbox.")
        finally:
            server.stop()
