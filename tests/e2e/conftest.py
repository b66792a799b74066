"""End-to-end fixtures: the app served from a thread on SQLite, and a headless Chromium page.

Every page records JavaScript dialogs (an XSS would fire one), uncaught page errors, console
errors and Content-Security-Policy violations (from the console and from the page's own
``securitypolicyviolation`` events, whatever wording the browser uses); a test fails if any
happened, whatever it asserted. A test that provokes an HTTP error on purpose (a 409 conflict)
declares it with ``events.allow_status(409)``: the browser logs every 4xx/5xx answer as an error.
Without Chromium the suite is skipped, unless ``MODERATION_TEST_REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.e2e.server import CHROMIUM_ARGS, VIEWPORT, chromium_path, serve


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The browser suite runs on SQLite only: the services are tested on both engines elsewhere."""
    return sqlite_url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_path()
    if executable is None:
        if os.environ.get("MODERATION_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required for the end-to-end tests but was not found")
        pytest.skip("Chromium not found (install Debian's chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    with serve(app) as base_url:
        yield base_url


#: Reports every CSP violation to the test through an exposed binding, before any page script runs.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__reportViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + (e.sourceFile || location.href) + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""
HTTP_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


@dataclass
class PageEvents:
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def allow_status(self, *statuses: int) -> None:
        """An HTTP error the test provokes on purpose is not a defect (the browser logs it)."""
        self.allowed_statuses.update(statuses)

    def console_error(self, text: str) -> None:
        status = HTTP_ERROR.search(text)
        if status and int(status.group(1)) in self.allowed_statuses:
            return
        self.console.append(text)


@pytest.fixture
def events() -> PageEvents:
    return PageEvents()


@pytest.fixture
def page(browser, live_server: str, events: PageEvents):
    context = browser.new_context(base_url=live_server, viewport=VIEWPORT, locale="vi-VN")
    context.set_default_timeout(10_000)
    new_page = context.new_page()

    def on_dialog(dialog) -> None:
        events.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(message) -> None:
        if re.search(r"Content Security Policy|Refused to (execute|apply|load)", message.text):
            events.csp.append(message.text)
        elif message.type == "error":
            events.console_error(message.text)

    context.expose_binding("__reportViolation", lambda _source, text: events.csp.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    new_page.on("dialog", on_dialog)
    new_page.on("console", on_console)
    new_page.on("pageerror", lambda error: events.errors.append(str(error)))
    yield new_page
    context.close()
    assert events.dialogs == [], f"a JavaScript dialog opened: {events.dialogs}"
    assert events.csp == [], f"Content-Security-Policy violations: {events.csp}"
    assert events.errors == [], f"uncaught page errors: {events.errors}"
    assert events.console == [], f"console errors: {events.console}"
