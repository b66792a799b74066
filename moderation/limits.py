"""Rate limiting for the whole app (Flask-Limiter counting in Redis, shared by every web process).

One limiter for every blueprint: the API's posting limits (``api/door.py``) and the sign-in
throttles of the API and the dashboard. If Redis is down, limits are skipped rather than
refusing readers (``swallow_errors``).
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter

from moderation.settings import Settings

#: Password guesses per address; the account itself also locks after repeated failures.
SIGN_IN_RATE = "10/minute;50/hour"

limiter = Limiter(
    key_func=lambda: request.remote_addr or "unknown",
    headers_enabled=True,
    swallow_errors=True,
    strategy="moving-window",
)


def remote_address() -> str:
    return request.remote_addr or "unknown"


def init_limiter(app: Flask, settings: Settings) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "moderation-limits"
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)
