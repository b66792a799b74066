"""Who is calling: a site (API key) or a moderator (signed bearer token)."""

from __future__ import annotations

from flask import request
from sqlalchemy.orm import Session

from moderation import services
from moderation.errors import AuthenticationError
from moderation.extensions import resources
from moderation.storage.models import Site


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send Authorization: Bearer <key or token>")
    return token.strip()


def current_site(session: Session) -> Site:
    return services.authenticate_site(session, bearer_token())


def current_moderator(session: Session) -> services.ModeratorIdentity:
    token = bearer_token()
    if token.startswith(services.API_KEY_PREFIX):
        raise AuthenticationError("a site API key cannot be used for moderation; sign in as a moderator")
    settings = resources().settings
    return services.authenticate_moderator_token(
        session, token, settings.secret_key, settings.token_ttl_seconds
    )
