"""Rate limiting for the whole app (Flask-Limiter counting in Redis, shared by every web process).

One limiter for every blueprint: the API's posting limits (``api/door.py``) and the sign-in
throttles of the API and the dashboard. If Redis is down, limits are skipped rather than
refusing readers (``swallow_errors``).
"""

from __future__ import annotations

import time

from flask import Flask, request
from flask_limiter import Limiter

from moderation.settings import Settings

#: Password guesses per address; the account itself also locks after repeated failures.
SIGN_IN_RATE = "10/minute;50/hour"

limiter = Limiter(
    key_func=lambda: request.remote_addr or "unknown",
    # X-RateLimit-* headers on every answer would cost a Redis round trip per limit per request;
    # only a refusal needs to say when to retry (``retry_after_seconds``).
    headers_enabled=False,
    swallow_errors=True,
    strategy="moving-window",
)


def remote_address() -> str:
    return request.remote_addr or "unknown"


def init_limiter(app: Flask, settings: Settings) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "moderation-limits"
    limiter.init_app(app)


def retry_after_seconds() -> int:
    """Seconds until the breached limit lets this caller in again (for a 429's Retry-After)."""
    try:
        current = limiter.current_limit
        if current is not None:
            return max(1, int(current.reset_at - time.time()))
    except Exception:  # the storage may have gone away since the check; any sane wait will do
        pass
    return 60
