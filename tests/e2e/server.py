"""Serve a Flask app from a thread on a free loopback port, and launch Debian's Chromium.

Used by the end-to-end tests and by the screenshot script, so both run the same way.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 860}


def chromium_path() -> str | None:
    """Debian's Chromium (Playwright's own browser download is not available here)."""
    configured = os.environ.get("MODERATION_TEST_CHROMIUM")
    for candidate in (configured, "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Run ``app`` with a threaded werkzeug server until the block ends; yields its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in test output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
