"""Anti-abuse at the door: what stops bots, bans, repeats and floods before a worker scores them.

Each site configures it (``AbuseSettings``, stored beside its policy). A comment that trips a
check is still stored (nothing a reader wrote is lost) but decided at once, without scoring:
held or rejected per the site's rule actions, with the reason (``banned_author``, ``duplicate``,
``flood``) and, for near duplicates, the cluster they belong to so a moderator can act on all.
Bot traps (``honeypot``, ``too_fast``) are silent: the reader's browser sees the usual answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from limits import parse_many
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from moderation.errors import ValidationError
from moderation.scoring.policy import Policy
from moderation.storage.models import Author, Ban, Comment
from moderation.text import fingerprint

BAN_KINDS = ("email", "ip", "name_ip")
STATUS_BY_ACTION = {"review": "review", "reject": "rejected"}


@dataclass(frozen=True)
class AbuseSettings:
    #: Posting limits per reader address and per author ("N/period" joined by ";").
    ip_rate: str = "5/minute;30/hour"
    author_rate: str = "5/minute;20/hour"
    #: The widget's hidden field and minimum seconds between opening the form and sending.
    honeypot: bool = True
    min_seconds: float = 3.0
    #: The same sender posting the same or nearly the same text within this window: ``duplicate``.
    duplicate_window_minutes: int = 60
    #: This many different senders posting nearly the same text within the window: ``flood``.
    flood_window_minutes: int = 10
    flood_senders: int = 3
    #: Authors with this many published comments and none rejected count as trusted (0: never).
    auto_trust_published: int = 5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AbuseSettings:
        if not data:
            return cls()
        if not isinstance(data, dict):
            raise ValidationError("invalid anti-abuse settings", fields={"abuse": "must be an object"})
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for key in ("ip_rate", "author_rate"):
            raw = data.get(key, getattr(cls, key))
            try:
                if not isinstance(raw, str) or not parse_many(raw):
                    raise ValueError
                values[key] = raw.strip()
            except ValueError:
                errors[key] = 'a limit like "5/minute;30/hour"'
        if not isinstance(data.get("honeypot", True), bool):
            errors["honeypot"] = "must be true or false"
        else:
            values["honeypot"] = data.get("honeypot", True)
        numbers = {
            "min_seconds": (0, 600, float),
            "duplicate_window_minutes": (0, 7 * 24 * 60, int),
            "flood_window_minutes": (0, 24 * 60, int),
            "flood_senders": (2, 1000, int),
            "auto_trust_published": (0, 10_000, int),
        }
        for key, (low, high, kind) in numbers.items():
            raw = data.get(key, getattr(cls, key))
            if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
                errors[key] = f"a number from {low} to {high}"
            else:
                values[key] = kind(raw)
        if errors:
            raise ValidationError("invalid anti-abuse settings", fields=errors)
        return cls(**values)


@dataclass
class DoorCheck:
    """What the door decided about one new comment."""

    #: None: the comment goes on to be scored. Else "review" or "rejected", decided now.
    status: str | None = None
    reasons: list[str] = field(default_factory=list)
    cluster_id: str | None = None
    #: Bot traps answer like an accepted comment so the bot learns nothing.
    silent: bool = False


def _add_fingerprints(comment: Comment) -> None:
    value = fingerprint.simhash64(comment.content)
    comment.exact_fingerprint = fingerprint.exact_fingerprint(comment.content)
    comment.simhash = fingerprint.to_signed(value)
    for index, band in enumerate(fingerprint.bands(value)):
        setattr(comment, f"simhash_band{index}", band)


def _ban_values(author: Author, ip: str | None) -> list[tuple[str, str]]:
    values = []
    if author.email:
        values.append(("email", author.email.lower()))
    if ip:
        values.append(("ip", ip))
        values.append(("name_ip", f"{author.name.strip().lower()}|{ip}"))
    return values


def is_banned(session: Session, site_id: int, author: Author, ip: str | None) -> bool:
    if author.status == "banned":
        return True
    values = _ban_values(author, ip)
    if not values:
        return False
    conditions = [(Ban.kind == kind) & (Ban.value == value) for kind, value in values]
    return session.scalar(select(Ban.id).where(Ban.site_id == site_id, or_(*conditions)).limit(1)) is not None


def _recent_similar(session: Session, comment: Comment, since: datetime) -> list[Comment]:
    """Comments of the site since ``since`` sharing the exact fingerprint or a SimHash band."""
    bands = [getattr(Comment, f"simhash_band{i}") == getattr(comment, f"simhash_band{i}") for i in range(6)]
    candidates = session.scalars(
        select(Comment).where(
            Comment.site_id == comment.site_id,
            Comment.created_at >= since,
            Comment.id != comment.id,
            or_(Comment.exact_fingerprint == comment.exact_fingerprint, *bands),
        )
    ).all()
    own = comment.simhash  # signed or not, the masked XOR in ``distance`` compares the same 64 bits
    return [
        c
        for c in candidates
        if c.exact_fingerprint == comment.exact_fingerprint
        or (c.simhash is not None and fingerprint.distance(c.simhash, own) <= fingerprint.NEAR_DISTANCE)
    ]


def _sender(comment: Comment) -> tuple[str, Any]:
    return ("ip", comment.client_ip) if comment.client_ip else ("author", comment.author_id)


def check_at_door(
    session: Session,
    comment: Comment,
    author: Author,
    policy: Policy,
    settings: AbuseSettings,
    *,
    now: datetime,
    bot_trap: str | None = None,
    site_has_bans: bool = True,
) -> DoorCheck:
    """Fingerprint a new comment (added, not yet flushed) and decide whether it may go on to scoring."""
    _add_fingerprints(comment)
    if bot_trap is not None:
        return DoorCheck(status="rejected", reasons=[bot_trap], silent=True)
    hits: list[str] = []
    if author.status == "banned" or (
        site_has_bans and is_banned(session, comment.site_id, author, comment.client_ip)
    ):
        hits.append("banned_author")
    window = max(settings.duplicate_window_minutes, settings.flood_window_minutes)
    similar = _recent_similar(session, comment, now - timedelta(minutes=window)) if window else []
    duplicates = [
        c
        for c in similar
        if c.created_at >= now - timedelta(minutes=settings.duplicate_window_minutes)
        and (c.author_id == comment.author_id or (comment.client_ip and c.client_ip == comment.client_ip))
    ]
    if duplicates:
        hits.append("duplicate")
    flood_since = now - timedelta(minutes=settings.flood_window_minutes)
    flooding = [c for c in similar if c.created_at >= flood_since]
    senders = {_sender(c) for c in flooding} | {_sender(comment)}
    if fingerprint.significant(comment.content) and len(senders) >= settings.flood_senders:
        hits.append("flood")
    check = DoorCheck()
    group = duplicates + flooding if ("duplicate" in hits or "flood" in hits) else []
    if group:
        first = min(group, key=lambda c: (c.created_at, c.id))
        check.cluster_id = first.cluster_id or first.id
        for member in group:
            member.cluster_id = member.cluster_id or check.cluster_id
        comment.cluster_id = check.cluster_id
    for hit in hits:
        action = policy.rule_actions.get(hit, "review")
        if action in STATUS_BY_ACTION:
            check.reasons.append(hit)
            if check.status != "rejected":
                check.status = STATUS_BY_ACTION[action]
    return check
