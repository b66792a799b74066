"""A short-lived, per-process cache of what every post needs to know about its site.

Posting is the hot path: reading the site, its policy, its anti-abuse settings and whether it has
any bans on every request costs more than the rest of the work. They change rarely, so each web
process keeps them for ``TTL_SECONDS``; a change made through the services clears this process's
copy at once, and other processes see it within the TTL.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from moderation.scoring.policy import Policy
from moderation.services.antiabuse import AbuseSettings
from moderation.storage import repositories as repo
from moderation.storage.models import Ban, Site

TTL_SECONDS = 10.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class SiteContext:
    id: int
    name: str
    origins: tuple[str, ...]
    policy: Policy
    abuse: AbuseSettings
    has_bans: bool


_contexts: dict[int, tuple[float, SiteContext]] = {}
_keys: dict[tuple[str, str], tuple[float, int]] = {}
#: (site id, article external id) -> (expiry, article id, title, url as last written or read).
_articles: dict[tuple[int, str], tuple[float, int, str | None, str | None]] = {}
_lock = threading.Lock()


def invalidate(site_id: int | None = None) -> None:
    with _lock:
        if site_id is None:
            _contexts.clear()
            _keys.clear()
            _articles.clear()
        else:
            _contexts.pop(site_id, None)
            for key in [key for key in _articles if key[0] == site_id]:
                del _articles[key]


def cached_article_id(site_id: int, external_id: str, title: str | None, url: str | None) -> int | None:
    """The article's id when this process knows it and nothing about it changes; else None."""
    with _lock:
        hit = _articles.get((site_id, external_id))
    if hit and hit[0] > time.monotonic() and (not title or title == hit[2]) and (not url or url == hit[3]):
        return hit[1]
    return None


def article_id(session: Session, site_id: int, external_id: str, title: str | None, url: str | None) -> int:
    """The id of the site's article, creating it or updating its title and URL when they change.

    A busy article gets many posts a second: its id is kept here instead of read on every post.
    An entry is cached only once the transaction that read or wrote it commits, so a rolled-back
    insert never leaves behind the id of an article that does not exist. Articles are deleted only
    with their site, which clears the site's entries.
    """
    key = (site_id, external_id)
    now = time.monotonic()
    with _lock:
        hit = _articles.get(key)
    if hit and hit[0] > now and (not title or title == hit[2]) and (not url or url == hit[3]):
        return hit[1]
    found = repo.get_or_create_article(session, site_id, external_id, title, url)
    entry = (now + TTL_SECONDS, found, title or (hit[2] if hit else None), url or (hit[3] if hit else None))

    def remember(_session: Session) -> None:
        with _lock:
            if len(_articles) > MAX_ENTRIES:
                _articles.clear()
            _articles[key] = entry

    event.listen(session, "after_commit", remember, once=True)
    return found


def invalidate_on_commit(session: Session, site_id: int) -> None:
    """Forget the site now and again once the change commits, so no request caches the old state."""
    invalidate(site_id)
    event.listen(session, "after_commit", lambda _session: invalidate(site_id), once=True)


def _load(session: Session, site: Site) -> SiteContext:
    settings, abuse = repo.policy_row(session, site.id)
    has_bans = session.scalar(select(Ban.id).where(Ban.site_id == site.id).limit(1)) is not None
    return SiteContext(
        id=site.id,
        name=site.name,
        origins=tuple(site.origins or ()),
        policy=Policy.from_dict(settings),
        abuse=AbuseSettings.from_dict(abuse),
        has_bans=has_bans,
    )


def context(session: Session, site: Site) -> SiteContext:
    now = time.monotonic()
    with _lock:
        hit = _contexts.get(site.id)
    if hit and hit[0] > now:
        return hit[1]
    loaded = _load(session, site)
    with _lock:
        if len(_contexts) > MAX_ENTRIES:
            _contexts.clear()
        _contexts[site.id] = (now + TTL_SECONDS, loaded)
    return loaded


def _cache_key(kind: str, key: str) -> tuple[str, str]:
    from moderation.services.sites import _hash_key

    return (kind, _hash_key(key) if kind == "api" else key)


def cached_context_for_key(kind: str, key: str) -> SiteContext | None:
    """``context_for_key`` when it is cached and fresh, without a database session; else None."""
    now = time.monotonic()
    with _lock:
        hit = _keys.get(_cache_key(kind, key))
        cached = _contexts.get(hit[1]) if hit and hit[0] > now else None
    return cached[1] if cached and cached[0] > now else None


def context_for_key(session: Session, kind: str, key: str) -> SiteContext:
    """The site of an API key (``kind="api"``), a widget key (``"widget"``) or a name (``"name"``).

    Only successful lookups are cached, so a wrong key is checked against the database every time;
    an API key is cached under its sha256, never in clear.
    """
    from moderation.services.sites import authenticate_site, site_for_widget_key, site_named

    cache_key = _cache_key(kind, key)
    now = time.monotonic()
    with _lock:
        hit = _keys.get(cache_key)
        cached = _contexts.get(hit[1]) if hit and hit[0] > now else None
    if cached and cached[0] > now:
        return cached[1]
    if hit and hit[0] > now and (site := session.get(Site, hit[1])) is not None:
        return context(session, site)
    if kind == "api":
        site = authenticate_site(session, key)
    elif kind == "widget":
        site = site_for_widget_key(session, key)
    else:
        site = site_named(session, key)
    with _lock:
        if len(_keys) > MAX_ENTRIES:
            _keys.clear()
        _keys[cache_key] = (now + TTL_SECONDS, site.id)
    return context(session, site)
