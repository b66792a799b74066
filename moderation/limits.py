"""Rate limiting for the whole app, counted in Redis so every web process shares the counts.

Flask-Limiter throttles sign-in on the API and the dashboard. The door's posting limits (a site's
own, per reader and per author; ``api/door.py``) are moving windows counted in one script call per
post (``WindowSet``), the hottest path of the service. If Redis is down, limits are skipped rather
than refusing readers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import redis
from flask import Flask, request
from flask_limiter import Limiter
from limits import RateLimitItem

from moderation.settings import Settings

#: Password guesses per address; the account itself also locks after repeated failures.
SIGN_IN_RATE = "10/minute;50/hour"
#: Where the door's posting limits are counted (``WindowSet``).
POST_LIMITS_PREFIX = "moderation-post-limits"

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
    # Each of this app's limits decorates its view, and the decorator checks it. Flask-Limiter's
    # app-wide hook is for default and application limits, which this app has none of; it only cost
    # every request CPU (the posting path's included: see bench/bench_posting_cpu.py --profile), so
    # it is taken off.
    if limiter.limit_manager.default_limits or limiter.limit_manager.application_limits:
        raise RuntimeError("default or application limits need Flask-Limiter's before-request hook")
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [hook for hook in hooks if hook != limiter._check_request_limit]


def retry_after_seconds() -> int:
    """Seconds until the breached limit lets this caller in again (for a 429's Retry-After)."""
    try:
        current = limiter.current_limit
        if current is not None:
            return max(1, int(current.reset_at - time.time()))
    except Exception:  # the storage may have gone away since the check; any sane wait will do
        pass
    return 60


#: KEYS: one list per window; ARGV: now, then (amount, seconds) per window. The moving window of the
#: ``limits`` library (a list of hit times, newest first, trimmed to the amount), for all the windows
#: at once: refused (the seconds until every full window frees a place) unless every window has room,
#: and then counted in all of them. A window of amount 0 refuses every post.
_ACQUIRE_ALL = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
    local amount, seconds = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
    if amount < 1 then
        wait = math.max(wait, seconds)
    else
        local oldest = redis.call('LINDEX', key, amount - 1)
        if oldest and tonumber(oldest) >= now - seconds then
            wait = math.max(wait, math.ceil(tonumber(oldest) + seconds - now))
        end
    end
end
if wait > 0 then return math.max(1, wait) end
for i, key in ipairs(KEYS) do
    local amount, seconds = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
    redis.call('LPUSH', key, ARGV[1])
    redis.call('LTRIM', key, 0, amount - 1)
    redis.call('EXPIRE', key, seconds)
end
return 0
"""


class WindowSet:
    """Several moving-window limits checked and counted in one Redis call.

    Posting checks four windows (a minute and an hour, for the reader and for the author): as four
    calls of the ``limits`` strategy they cost the web more CPU than storing the comment's row. A
    post refused by one window is counted in none, so a refused reader's retries do not extend
    their own wait.
    """

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self.prefix = prefix
        self._acquire_all = connection.register_script(_ACQUIRE_ALL)

    def acquire(self, windows: Sequence[tuple[str, RateLimitItem]]) -> int:
        """0 when every (key, limit) window had room (the hit is counted), else seconds to wait."""
        keys, args = [], [repr(time.time())]
        for key, item in windows:
            keys.append(f"{self.prefix}:{key}:{item.amount}/{item.get_expiry()}")
            args += [item.amount, item.get_expiry()]
        return int(self._acquire_all(keys=keys, args=args))


def acquire_with_strategy(windows: Sequence[tuple[str, RateLimitItem]], prefix: str) -> int:
    """``WindowSet.acquire`` without Redis, with the limiter's own (in-memory) strategy."""
    strategy = limiter.limiter
    full = [(key, item) for key, item in windows if not strategy.test(item, prefix, key)]
    if full:
        resets = [strategy.get_window_stats(item, prefix, key).reset_time for key, item in full]
        return max(1, math.ceil(max(resets) - time.time()))
    for key, item in windows:
        strategy.hit(item, prefix, key)
    return 0
