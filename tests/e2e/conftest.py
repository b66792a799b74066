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
from collections.abc import Iterator

import pytest

from tests.e2e.guard import PageEvents, assert_clean, watch
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


@pytest.fixture
def events() -> PageEvents:
    return PageEvents()


@pytest.fixture
def page(browser, live_server: str, events: PageEvents):
    context = browser.new_context(base_url=live_server, viewport=VIEWPORT, locale="vi-VN")
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    watch(context, new_page, events)
    yield new_page
    context.close()
    assert_clean(events)
