"""Who is calling: a site's server (API key), its widget (public key + registered origin), or a
moderator (signed bearer token)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import request
from sqlalchemy.orm import Session

from moderation import services
from moderation.errors import AuthenticationError, PermissionDenied
from moderation.extensions import resources
from moderation.services import site_cache
from moderation.services.site_cache import SiteContext


@dataclass(frozen=True)
class Caller:
    site: SiteContext
    #: True for the widget in a reader's browser: per-reader limits then use the connection's address.
    widget: bool


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send Authorization: Bearer <key or token>")
    return token.strip()


def widget_key() -> str | None:
    return request.args.get("key") or None


#: How a key becomes its site: from the database (``site_cache.context_for_key``, raises for a wrong
#: key) or from this process's cache alone (``site_cache.cached_context_for_key``, None if not cached).
SiteLookup = Callable[[str, str], SiteContext | None]


def _api_site(lookup: SiteLookup) -> SiteContext | None:
    token = bearer_token()
    if not token.startswith(services.API_KEY_PREFIX):
        raise AuthenticationError("invalid API key")
    return lookup("api", token)


def _widget_site(key: str, lookup: SiteLookup) -> SiteContext | None:
    site = lookup("widget", key)
    if site is not None and page_origin() not in site.origins:
        raise PermissionDenied("this page's origin is not registered for the site")
    return site


def _from_database(session: Session) -> SiteLookup:
    return partial(site_cache.context_for_key, session)


def current_site(session: Session) -> SiteContext:
    """The site's own server, with its secret API key (never the widget key)."""
    site = _api_site(_from_database(session))
    assert site is not None  # the database lookup raises for a wrong key
    return site


def widget_site(session: Session) -> SiteContext:
    """The widget: its public key names the site, and the page's origin must be registered for it."""
    key = widget_key()
    if key is None:
        raise AuthenticationError("send the widget key as ?key=")
    site = _widget_site(key, _from_database(session))
    assert site is not None  # the database lookup raises for a wrong key
    return site


def page_origin() -> str | None:
    """The origin of the page that made the request, as the browser vouches for it.

    Browsers send ``Origin`` on cross-origin requests and POSTs, but not on a same-origin GET; for
    that one, ``Sec-Fetch-Site: same-origin`` (which no page can set) says the page is our own.
    """
    origin = request.headers.get("Origin")
    if origin:
        return origin
    if request.headers.get("Sec-Fetch-Site") == "same-origin":
        return request.host_url.rstrip("/")
    return None


def current_caller(session: Session) -> Caller:
    """A site's server or its widget: the two callers allowed to post comments."""
    if widget_key() is not None:
        return Caller(widget_site(session), widget=True)
    return Caller(current_site(session), widget=False)


def current_moderator(session: Session) -> services.ModeratorIdentity:
    token = bearer_token()
    if token.startswith((services.API_KEY_PREFIX, services.WIDGET_KEY_PREFIX)):
        raise AuthenticationError("a site key cannot be used for moderation; sign in as a moderator")
    settings = resources().settings
    return services.authenticate_moderator_token(
        session, token, settings.secret_key, settings.token_ttl_seconds
    )


def cached_caller() -> Caller | None:
    """``current_caller`` from this process's cache of keys, without a database session; None when
    the key is not cached (then ask ``current_caller``). Refuses as it does."""
    key = widget_key()
    if key is not None:
        site = _widget_site(key, site_cache.cached_context_for_key)
        return Caller(site, widget=True) if site is not None else None
    site = _api_site(site_cache.cached_context_for_key)
    return Caller(site, widget=False) if site is not None else None
