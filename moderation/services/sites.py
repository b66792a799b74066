"""Sites: creation, API keys (stored hashed, compared in constant time) and policies."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from moderation.errors import (
    AlreadyExists,
    AuthenticationError,
    NotFound,
    ValidationError,
)
from moderation.scoring.policy import Policy
from moderation.storage import repositories as repo
from moderation.storage.models import Site

API_KEY_PREFIX = "msk_"


def _hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def create_site(session: Session, name: str, origins: Sequence[str] = ()) -> tuple[Site, str]:
    """Create a site and return it with its API key, which is stored only as a hash."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationError("invalid site name", fields={"name": "1 to 80 characters"})
    if repo.site_by_name(session, name) is not None:
        raise AlreadyExists(f"a site named {name!r} already exists")
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    site = Site(
        name=name,
        api_key_prefix=api_key[: len(API_KEY_PREFIX) + 8],
        api_key_hash=_hash_key(api_key),
        origins=list(origins),
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


def site_named(session: Session, name: str) -> Site:
    site = repo.site_by_name(session, name)
    if site is None:
        raise NotFound(f"no site named {name!r}")
    return site


def site_policy(session: Session, site_id: int) -> Policy:
    return Policy.from_dict(repo.policy_settings(session, [site_id]).get(site_id))


def update_site_policy(session: Session, site_id: int, settings: dict[str, Any], actor: str) -> Policy:
    policy = Policy.from_dict(settings)
    repo.save_policy_settings(session, site_id, policy.to_dict())
    repo.add_audit(session, actor=actor, action="policy_changed", site_id=site_id, details=policy.to_dict())
    return policy
