"""Sites: creation, API keys (stored hashed, compared in constant time) and policies."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from moderation import timezones
from moderation.errors import (
    AlreadyExists,
    AuthenticationError,
    NotFound,
    ValidationError,
)
from moderation.scoring.policy import Policy
from moderation.services import site_cache
from moderation.services.antiabuse import AbuseSettings
from moderation.storage import repositories as repo
from moderation.storage.models import Site

API_KEY_PREFIX = "msk_"
WIDGET_KEY_PREFIX = "mwk_"
MAX_ORIGINS = 50


def _hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def normalize_origins(origins: Sequence[str]) -> list[str]:
    """Browser origins as browsers send them: scheme://host[:port], no path, no trailing slash."""
    cleaned: list[str] = []
    for raw in origins:
        parsed = urlsplit(raw.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/"):
            raise ValidationError(
                "invalid origin", fields={"origins": f"{raw!r} is not like https://example.vn"}
            )
        if parsed.query or parsed.fragment or parsed.username:
            raise ValidationError(
                "invalid origin", fields={"origins": f"{raw!r} is not like https://example.vn"}
            )
        origin = f"{parsed.scheme}://{parsed.netloc.lower()}"
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > MAX_ORIGINS:
        raise ValidationError("too many origins", fields={"origins": f"at most {MAX_ORIGINS}"})
    return cleaned


def create_site(session: Session, name: str, origins: Sequence[str] = ()) -> tuple[Site, str]:
    """Create a site and return it with its API key, which is stored only as a hash.

    The site also gets a public widget key, shown in its pages: it can only post comments (from
    the site's registered origins) and read published ones.
    """
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationError("invalid site name", fields={"name": "1 to 80 characters"})
    origins = normalize_origins(origins)
    if repo.site_by_name(session, name) is not None:
        raise AlreadyExists(f"a site named {name!r} already exists")
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    site = Site(
        name=name,
        api_key_prefix=api_key[: len(API_KEY_PREFIX) + 8],
        api_key_hash=_hash_key(api_key),
        widget_key=WIDGET_KEY_PREFIX + secrets.token_urlsafe(18),
        origins=origins,
    )
    session.add(site)
    session.flush()
    repo.save_policy_settings(session, site.id, Policy().to_dict())
    repo.add_audit(session, actor="system", action="site_created", site_id=site.id, details={"name": name})
    return site, api_key


def authenticate_site(session: Session, api_key: str) -> Site:
    """Find the site of an API key; the hash comparison runs in constant time."""
    if not api_key.startswith(API_KEY_PREFIX):
        raise AuthenticationError("invalid API key")
    digest = _hash_key(api_key)
    for site in repo.sites_by_key_prefix(session, api_key[: len(API_KEY_PREFIX) + 8]):
        if hmac.compare_digest(site.api_key_hash, digest):
            return site
    raise AuthenticationError("invalid API key")


def site_for_widget_key(session: Session, widget_key: str) -> Site:
    site = repo.site_by_widget_key(session, widget_key) if widget_key.startswith(WIDGET_KEY_PREFIX) else None
    if site is None:
        raise AuthenticationError("invalid widget key")
    return site


def set_origins(session: Session, site: Site, origins: Sequence[str], actor: str) -> list[str]:
    cleaned = normalize_origins(origins)
    previous, site.origins = list(site.origins or []), cleaned
    site_cache.invalidate_on_commit(session, site.id)
    repo.add_audit(
        session,
        actor=actor,
        action="origins_changed",
        site_id=site.id,
        details={"from": previous, "to": cleaned},
    )
    return cleaned


def abuse_settings(session: Session, site_id: int) -> AbuseSettings:
    return AbuseSettings.from_dict(repo.policy_row(session, site_id)[1])


def update_abuse_settings(session: Session, site_id: int, data: dict[str, Any], actor: str) -> AbuseSettings:
    settings = AbuseSettings.from_dict(data)
    repo.save_abuse_settings(session, site_id, settings.to_dict())
    site_cache.invalidate_on_commit(session, site_id)
    repo.add_audit(
        session, actor=actor, action="abuse_settings_changed", site_id=site_id, details=settings.to_dict()
    )
    return settings


def site_named(session: Session, name: str) -> Site:
    site = repo.site_by_name(session, name)
    if site is None:
        raise NotFound(f"no site named {name!r}")
    return site


def site_policy(session: Session, site_id: int) -> Policy:
    return Policy.from_dict(repo.policy_settings(session, [site_id]).get(site_id))


def update_site_policy(session: Session, site_id: int, settings: dict[str, Any], actor: str) -> Policy:
    """Save a policy; the audit entry keeps the new policy and, under ``"previous"``, the one it replaced."""
    previous = site_policy(session, site_id).to_dict()
    policy = Policy.from_dict(settings)
    repo.save_policy_settings(session, site_id, policy.to_dict())
    site_cache.invalidate_on_commit(session, site_id)
    repo.add_audit(
        session,
        actor=actor,
        action="policy_changed",
        site_id=site_id,
        details={**policy.to_dict(), "previous": previous},
    )
    return policy


def set_timezone(session: Session, site: Site, name: str, actor: str) -> str:
    """Change the zone the site's times are shown in (an IANA name ``zoneinfo`` knows)."""
    value = timezones.validate(name)
    if value != site.timezone:
        previous, site.timezone = site.timezone, value
        site_cache.invalidate_on_commit(session, site.id)
        repo.add_audit(
            session,
            actor=actor,
            action="timezone_changed",
            site_id=site.id,
            details={"from": previous, "to": value},
        )
    return value
