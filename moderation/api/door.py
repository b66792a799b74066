"""The API's door: CORS for a site's registered origins, and rate limits per reader and author.

Limits are the site's own (``AbuseSettings``), moving windows counted in Redis so every web process
shares them: all four (a minute and an hour, for the reader and the author) in one call
(``moderation.limits.WindowSet``; as two Flask-Limiter decorators they cost a post four Redis calls
and more CPU than storing it).
A site's server posting for thousands of readers is not one reader: its limits use the reader's
``client.ip`` and the author; the widget's use the connection's address. If Redis is down, limits are
skipped rather than refusing comments.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from flask import Response, g, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, TooManyRequests

from moderation import services
from moderation.api import schemas
from moderation.api.errors import BadRequest
from moderation.errors import ModerationError
from moderation.extensions import resources
from moderation.limits import POST_LIMITS_PREFIX, acquire_with_strategy
from moderation.services import site_cache
from moderation.services.antiabuse import AbuseSettings
from moderation.services.site_cache import SiteContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DoorSite:
    site: SiteContext
    widget: bool

    @property
    def id(self) -> int:
        return self.site.id

    @property
    def abuse(self) -> AbuseSettings:
        return self.site.abuse

    @property
    def origins(self) -> tuple[str, ...]:
        return self.site.origins


def request_site() -> DoorSite | None:
    """The site this request speaks for, from its widget key, API key or ``?site=``; cached."""
    if "door_site" not in g:
        found = None
        if key := request.args.get("key"):
            kind, value = "widget", key
        elif (header := request.headers.get("Authorization", "")).lower().startswith("bearer "):
            kind, value = "api", header[7:].strip()
        elif name := request.args.get("site"):
            kind, value = "name", name
        else:
            kind, value = "", ""
        if kind and (kind != "api" or value.startswith(services.API_KEY_PREFIX)):
            context = site_cache.cached_context_for_key(kind, value)
            if context is None:
                try:
                    with resources().db.session(read_only=True) as session:
                        context = site_cache.context_for_key(session, kind, value)
                except ModerationError:
                    context = None  # the view itself answers with the right error
            found = DoorSite(context, widget=kind == "widget") if context is not None else None
        g.door_site = found
    return g.door_site


def _body() -> dict:
    """The JSON body if it parses; anything else (too large, not JSON) is for the view to refuse."""
    try:
        data = schemas.parse_json(request)
    except (BadRequest, HTTPException):
        return {}
    return data if isinstance(data, dict) else {}


def reader_address(info: DoorSite | None = None) -> str:
    """The reader's address: the connection for the widget, ``client.ip`` for a site's server."""
    info = info or request_site()
    if info is None:
        return ""
    if info.widget:
        return request.remote_addr or ""
    client = _body().get("client")
    ip = client.get("ip") if isinstance(client, dict) else None
    return ip if isinstance(ip, str) else ""


def reader_key() -> str:
    info = request_site()
    return f"{info.id if info else '-'}:{reader_address(info)}"


def _author_identity() -> str:
    """Who the post is signed by (e-mail, else name), as the author limits count them."""
    author = _body().get("author")
    author = author if isinstance(author, dict) else {}
    return str(author.get("email") or author.get("name") or "").strip().lower()


class PostLimited(TooManyRequests):
    """A reader or author has spent the site's posting allowance for now."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many posts from this reader or author; see Retry-After")
        self.retry_after = retry_after


@functools.lru_cache(maxsize=256)
def _parsed(rate: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(rate))


def enforce_post_limits() -> None:
    """Count this post against its reader's and its author's limits; ``PostLimited`` when one is spent."""
    info = request_site()
    if info is None:
        return
    windows = []
    if address := reader_address(info):
        windows += [(f"reader:{info.id}:{address}", item) for item in _parsed(info.abuse.ip_rate)]
    if author := _author_identity():
        windows += [(f"author:{info.id}:{author}", item) for item in _parsed(info.abuse.author_rate)]
    if not windows:
        return
    windows_set = resources().post_limits
    try:
        wait = (
            windows_set.acquire(windows)
            if windows_set is not None
            else acquire_with_strategy(windows, POST_LIMITS_PREFIX)
        )
    except (RedisError, StorageError) as exc:
        log.warning("posting limits skipped: Redis unavailable (%s)", exc)
        return
    if wait:
        raise PostLimited(wait)


def add_cors_headers(response: Response) -> Response:
    """Let a registered origin's pages read the answer; nothing for anyone else."""
    origin = request.headers.get("Origin")
    info = request_site() if origin else None
    if origin and info is not None and origin in info.origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Expose-Headers"] = "Location, Retry-After"
        response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")
    return response
