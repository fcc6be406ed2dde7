"""Fixtures of the cross-cutting tests: security and reliability, and the browser.

`security_figures` collects the counts the README cites (inputs tried, places searched for
secrets, fault cases survived) and writes them to var/security-figures.json at the end of the
session, so the numbers quoted are the ones the last run measured.
"""

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# The hostile-input tests' world (alice, her sandbox account, a DataSet with a version).
from tests.hostile_support import world  # noqa: F401

FIGURES_FILE = Path(__file__).resolve().parent.parent / "var" / "security-figures.json"


class Figures:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def add(self, key: str, amount: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + amount

    def set(self, key: str, value: int) -> None:
        self.values[key] = value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that restart Redis or PostgreSQL run after everything else, so a slow recovery
    can never disturb another test's connections."""
    items.sort(key=lambda item: item.get_closest_marker("restarts_services") is not None)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator["Browser"]:
    """Headless Chromium (Debian's /usr/bin/chromium) for the browser tests."""
    from connector_site.pytest_plugin import need_chromium
    from tests.browser import chromium

    executable = need_chromium()
    # Playwright's sync API keeps an asyncio loop running in this thread, so Django would
    # take the test's own ORM calls for calls from async code and refuse them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium(executable) as launched:
        yield launched


@pytest.fixture(scope="session")
def security_figures() -> Iterator[Figures]:
    figures = Figures()
    yield figures
    if not figures.values:
        return
    from django.db import connection

    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "broker": "redis" if os.environ.get("REDIS_URL") else "filesystem",
        "hostile_inputs_total": sum(
            v for k, v in figures.values.items() if k.startswith("inputs.")
        ),
        **dict(sorted(figures.values.items())),
    }
    FIGURES_FILE.write_text(json.dumps(report, indent=2) + "\n")
