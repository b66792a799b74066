"""End-to-end fixtures: the app served from a thread on SQLite, and a headless Chromium page.

Every page records JavaScript dialogs (an XSS would fire one), uncaught page errors and
Content-Security-Policy violations; a test fails if any happened, whatever it asserted.
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


@dataclass
class PageEvents:
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)


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

    new_page.on("dialog", on_dialog)
    new_page.on("console", on_console)
    new_page.on("pageerror", lambda error: events.errors.append(str(error)))
    yield new_page
    context.close()
    assert events.dialogs == [], f"a JavaScript dialog opened: {events.dialogs}"
    assert events.csp == [], f"Content-Security-Policy violations: {events.csp}"
    assert events.errors == [], f"uncaught page errors: {events.errors}"
