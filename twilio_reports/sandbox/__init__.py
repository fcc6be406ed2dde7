"""A Twilio look-alike (2010 API + monitor Alerts) for the demo, the tests and benchmarks.

    from twilio_reports.sandbox import SandboxConfig, start_server, MAIN_ACCOUNT_SID
    with start_server(SandboxConfig(calls=10_000)) as sandbox:
        ...  # sandbox.url, sandbox.world.records("calls"), sandbox.config.rate_429 = 0.1
"""

from .accounts import (
    MAIN_ACCOUNT_SID,
    MAIN_API_KEY_SECRET,
    MAIN_API_KEY_SID,
    MAIN_AUTH_TOKEN,
    MAIN_FRIENDLY_NAME,
    SUBACCOUNTS,
    SubAccount,
)
from .app import SandboxApp, make_app
from .config import DATE_UPPER_READINGS, FAULT_KNOBS, SandboxConfig
from .server import SandboxServer, serve_processes, start_server
from .world import REPORTS, SandboxWorld

__all__ = [
    "DATE_UPPER_READINGS",
    "FAULT_KNOBS",
    "MAIN_ACCOUNT_SID",
    "MAIN_API_KEY_SECRET",
    "MAIN_API_KEY_SID",
    "MAIN_AUTH_TOKEN",
    "MAIN_FRIENDLY_NAME",
    "REPORTS",
    "SUBACCOUNTS",
    "SandboxApp",
    "SandboxConfig",
    "SandboxServer",
    "SandboxWorld",
    "SubAccount",
    "make_app",
    "serve_processes",
    "start_server",
]
