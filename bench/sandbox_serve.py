"""Stand-in for `manage.py twilio_sandbox` with the same flags (used only when that command
is absent from the checkout): serves twilio_reports.sandbox until terminated."""

from __future__ import annotations

import argparse
import signal
import threading

from twilio_reports.sandbox import SandboxConfig, start_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--max-in-flight", type=int, default=None)
    args = parser.parse_args()
    config = SandboxConfig(calls=args.calls, latency_ms=args.latency_ms,
                           max_in_flight_per_account=args.max_in_flight)
    server = start_server(config, host=args.host, port=args.port)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()
