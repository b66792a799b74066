"""Moderator accounts and their signed bearer tokens for the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.errors import (
    AccountLocked,
    AlreadyExists,
    AuthenticationError,
    PermissionDenied,
    ValidationError,
)
from moderation.services.sites import site_named
from moderation.storage import repositories as repo
from moderation.storage.models import MODERATOR_ROLES, Moderator, ModeratorSite, utcnow


def create_moderator(
    session: Session,
    username: str,
    password: str,
    role: str = "moderator",
    site_names: Sequence[str] = (),
    *,
    created_by: ModeratorIdentity | None = None,
) -> Moderator:
    """Create an account; ``created_by`` is the admin who did it (None: the command line)."""
    username = username.strip()
    errors = {}
    if not username or len(username) > 80:
        errors["username"] = "1 to 80 characters"
    if len(password) < 10:
        errors["password"] = "at least 10 characters"
    if role not in MODERATOR_ROLES:
        errors["role"] = f"one of {', '.join(MODERATOR_ROLES)}"
    if errors:
        raise ValidationError("invalid moderator", fields=errors)
    if repo.moderator_by_username(session, username) is not None:
        raise AlreadyExists(f"a moderator named {username!r} already exists")
    sites = [site_named(session, name) for name in site_names]
    moderator = Moderator(username=username, password_hash=generate_password_hash(password), role=role)
    session.add(moderator)
    session.flush()
    for site in sites:
        session.add(ModeratorSite(moderator_id=moderator.id, site_id=site.id))
    repo.add_audit(
        session,
        actor=created_by.actor if created_by else "system",
        moderator_id=created_by.id if created_by else None,
        action="moderator_created",
        details={"username": username, "role": role, "sites": list(site_names)},
    )
    return moderator


def _token_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="moderator-api-token")


#: Consecutive failed sign-ins that lock an account, and for how long.
MAX_FAILED_SIGN_INS = 5
LOCK_MINUTES = 15
_DUMMY_HASH = generate_password_hash("not-a-real-password-for-timing")


def verify_credentials(session: Session, username: str, password: str) -> Moderator:
    """Check a moderator's password, counting failures and locking the account after too many.

    A hash is checked even for unknown usernames so timing does not tell which exist. Failures are
    committed before the error is raised, so a rolled-back request still counts. A locked account
    says so only to someone who knows its password.
    """
    moderator = repo.moderator_by_username(session, username.strip())
    correct = check_password_hash(moderator.password_hash if moderator else _DUMMY_HASH, password)
    if moderator is None:
        raise AuthenticationError("wrong username or password")
    now = utcnow()
    locked = moderator.locked_until is not None and moderator.locked_until > now
    if locked and correct:
        minutes = max(1, int((moderator.locked_until - now).total_seconds() // 60) + 1)
        raise AccountLocked(minutes)
    if locked or not correct:
        if not locked:
            moderator.failed_logins = (moderator.failed_logins or 0) + 1
            if moderator.failed_logins >= MAX_FAILED_SIGN_INS:
                moderator.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                moderator.failed_logins = 0
                repo.add_audit(
                    session, actor="system", action="account_locked", details={"username": moderator.username}
                )
        session.commit()
        raise AuthenticationError("wrong username or password")
    if not moderator.active:
        raise PermissionDenied("this account is deactivated")
    moderator.failed_logins, moderator.locked_until = 0, None
    return moderator


def issue_moderator_token(
    session: Session, username: str, password: str, secret_key: str, ttl_seconds: int
) -> tuple[str, datetime]:
    moderator = verify_credentials(session, username, password)
    # The token embeds a fingerprint of the password hash: changing the password revokes it.
    payload = {"m": moderator.id, "p": moderator.password_hash[-16:]}
    token = _token_serializer(secret_key).dumps(payload)
    return token, utcnow() + timedelta(seconds=ttl_seconds)


@dataclass(frozen=True)
class ModeratorIdentity:
    id: int
    username: str
    role: str
    #: The sites this moderator may act on; ``None`` means every site.
    site_ids: tuple[int, ...] | None

    @property
    def actor(self) -> str:
        return f"moderator:{self.username}"


def authenticate_moderator_token(
    session: Session, token: str, secret_key: str, ttl_seconds: int
) -> ModeratorIdentity:
    try:
        payload = _token_serializer(secret_key).loads(token, max_age=ttl_seconds)
    except SignatureExpired:
        raise AuthenticationError("token expired; sign in again") from None
    except BadSignature:
        raise AuthenticationError("invalid token") from None
    moderator = session.get(Moderator, payload.get("m")) if isinstance(payload, dict) else None
    if moderator is None or not moderator.active or moderator.password_hash[-16:] != payload.get("p"):
        raise AuthenticationError("invalid token")
    site_ids = repo.moderator_site_ids(session, moderator.id)
    return ModeratorIdentity(
        id=moderator.id, username=moderator.username, role=moderator.role, site_ids=tuple(site_ids) or None
    )
