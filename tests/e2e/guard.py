"""The console guard of the browser tests: what a page must never do, whatever a test asserts.

A page records JavaScript dialogs (an XSS would fire one), uncaught page errors, console errors
and Content-Security-Policy violations (from the console and from the page's own
``securitypolicyviolation`` events); ``assert_clean`` fails on any. The ``page`` fixture uses it;
a test that opens its own browser context calls ``watch`` and ``assert_clean`` itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


def watch(context, page, events: PageEvents) -> None:
    """Record ``page``'s dialogs, page errors, console errors and CSP violations into ``events``.

    For a test that opens its own context (a phone, another time zone): call it before the first
    ``goto``, and ``assert_clean(events)`` at the end, as the ``page`` fixture does.
    """

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
    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: events.errors.append(str(error)))


def assert_clean(events: PageEvents) -> None:
    assert events.dialogs == [], f"a JavaScript dialog opened: {events.dialogs}"
    assert events.csp == [], f"Content-Security-Policy violations: {events.csp}"
    assert events.errors == [], f"uncaught page errors: {events.errors}"
    assert events.console == [], f"console errors: {events.console}"
