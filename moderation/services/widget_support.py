"""Small use cases around the widget: the demo site that ``moderation up`` prepares, and what the
demo page needs to embed it.

The demo site is an ordinary site (its API key is thrown away: the demo only uses the public
widget key), so everything the demo shows goes through the same door and queue as a newspaper's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from moderation.errors import ValidationError
from moderation.services.accounts import ModeratorIdentity
from moderation.services.admin import admin_site
from moderation.services.antiabuse import AbuseSettings
from moderation.services.sites import (
    abuse_settings,
    create_site,
    normalize_origins,
    set_origins,
    update_abuse_settings,
)
from moderation.storage import repositories as repo

DEMO_SITE = "demo-article"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class WidgetSite:
    name: str
    widget_key: str
    origins: tuple[str, ...]


def loopback_origins(port: int, host: str = "127.0.0.1") -> list[str]:
    """The service's own origins for a port: both loopback names, and the bound host if it is another."""
    names = list(LOOPBACK_NAMES)
    if host not in (*LOOPBACK_NAMES, "0.0.0.0", "::", ""):
        names.append(f"[{host}]" if ":" in host else host)
    return [f"http://{name}:{port}" for name in names]


def ensure_demo_site(session: Session, origins: Sequence[str], name: str = DEMO_SITE) -> WidgetSite:
    """Create the demo site, or add the missing origins to it; changes nothing when all is there.

    Idempotent so that every ``moderation up`` can call it: origins an admin added are kept.
    """
    wanted = normalize_origins(origins)
    site = repo.site_by_name(session, name)
    if site is None:
        site, _api_key = create_site(session, name, wanted)
    else:
        current = list(site.origins or [])
        missing = [origin for origin in wanted if origin not in current]
        if missing:
            set_origins(session, site, current + missing, actor="system")
    return WidgetSite(site.name, site.widget_key, tuple(site.origins or ()))


def widget_site_named(session: Session, name: str) -> WidgetSite | None:
    """The public side of a site (its widget key and origins), or None when there is no such site."""
    site = repo.site_by_name(session, name)
    if site is None:
        return None
    return WidgetSite(site.name, site.widget_key, tuple(site.origins or ()))


def update_widget_settings(
    session: Session,
    moderator: ModeratorIdentity,
    site_id: int,
    abuse: dict[str, Any],
    origins: Sequence[str],
) -> tuple[AbuseSettings, list[str]]:
    """An admin saves a site's anti-abuse settings and registered origins together, or neither.

    Every invalid field is reported at once; only what changed is saved and audited.
    """
    site = admin_site(session, moderator, site_id)
    errors: dict[str, str] = {}
    settings = cleaned = None
    try:
        settings = AbuseSettings.from_dict(abuse)
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        cleaned = normalize_origins(origins)
    except ValidationError as exc:
        errors.update(exc.fields)
    if errors or settings is None or cleaned is None:
        raise ValidationError("invalid widget settings", fields=errors)
    if settings != abuse_settings(session, site.id):
        update_abuse_settings(session, site.id, settings.to_dict(), actor=moderator.actor)
    if cleaned != list(site.origins or []):
        set_origins(session, site, cleaned, actor=moderator.actor)
    return settings, cleaned
