"""Request helpers shared by the dashboard's views: who is signed in, htmx, safe redirects."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import request
from flask_login import current_user

from moderation.services.accounts import ModeratorIdentity


def is_htmx() -> bool:
    """An htmx request wants an HTML fragment back, not a redirect to a whole page."""
    return request.headers.get("HX-Request") == "true"


def identity() -> ModeratorIdentity:
    """The signed-in moderator as the services know them (role, visible sites)."""
    return current_user.identity  # type: ignore[no-any-return]


def safe_next(target: str | None) -> str | None:
    """A redirect target only if it stays inside the dashboard: no open redirects."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard/"):
        return None
    return target


@dataclass(frozen=True)
class Message:
    """A result shown at the top of the queue; ``level`` is success, info or error."""

    level: str
    text: str
    #: Offer an "Undo" button next to the message.
    undo: bool = False
