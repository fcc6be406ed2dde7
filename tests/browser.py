"""Helpers for the end-to-end tests in headless Chromium (Playwright's sync API).

Debian's Chromium at /usr/bin/chromium is driven directly: `playwright install` is never
needed. Every page records its JavaScript errors so a test can fail on any of them, and
`shot()` writes the screenshots CI keeps (artifacts/) and the README shows (docs/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
# A zone other than UTC, so "the DataSet's time zone" is really exercised; the connector page
# takes a new DataSet's zone from the browser (app.js sets the `tz` cookie).
BROWSER_ZONE = "Europe/Berlin"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous but bounded: a real worker pulls from the sandbox behind some of these waits.
WAIT_MS = 60_000


@contextmanager
def chromium(executable: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """One browser context with one page, and the JavaScript errors seen on it."""

    context: BrowserContext
    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)
    # URLs whose failing load is the point of the test (a 404 that must be a 404).
    expected_failures: set[str] = field(default_factory=set)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def goto(self, path: str) -> None:
        self.page.goto(self.url(path))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        # Chromium asks for /favicon.ico on its own; the app has none and needs none.
        if "favicon" in where or "favicon" in message.text:
            return
        if where in self.expected_failures and "status of 404" in message.text:
            return
        self.errors.append(f"{message.text} ({where})")

    def assert_no_js_errors(self) -> None:
        errors = _without_replaced_htmx_requests(self.errors)
        assert not errors, "JavaScript errors in the console:\n" + "\n".join(errors)


def _without_replaced_htmx_requests(errors: list[str]) -> list[str]:
    """htmx logs a request it aborted on purpose (hx-sync "replace": a newer change of the
    same pane superseded it) as the pair htmx:afterRequest + htmx:sendAbort. That pair is the
    page working as designed; any other htmx:afterRequest (a failed request) still counts."""
    kept: list[str] = []
    for message in errors:
        if message.startswith("htmx:sendAbort"):
            if kept and kept[-1].startswith("htmx:afterRequest"):
                kept.pop()
            continue
        kept.append(message)
    return kept


def open_tab(browser: Browser, base_url: str, *, javascript: bool = True) -> Tab:
    context = browser.new_context(
        viewport=VIEWPORT, timezone_id=BROWSER_ZONE, locale="en-US", accept_downloads=True,
        java_script_enabled=javascript,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    tab = Tab(context=context, page=page, base_url=base_url)
    page.on("console", tab._on_console)
    page.on("pageerror", lambda exc: tab.errors.append(f"uncaught: {exc}"))
    return tab


def log_in(tab: Tab, username: str, password: str) -> None:
    """Through the login page, like a person: type, press Sign in, land on DataSets."""
    page = tab.page
    tab.goto("/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/datasets/$"))


def shot(page: Page, name: str, *, docs: str | None = None) -> Path:
    """A PNG of the viewport as artifacts/screenshots/<name>.png; with `docs`, also a
    full-page copy as docs/screenshots/<docs>.png for the README."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    if docs:
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{docs}.png"), full_page=True)
    return path


def number(text: str) -> int:
    """A count as the UI shows it ("1,234") as an int."""
    return int(text.replace(",", "").strip())
