"""Anti-abuse at the door: what stops bots, bans, repeats and floods before a worker scores them.

Each site configures it (``AbuseSettings``, stored beside its policy). A comment that trips a
check is still stored (nothing a reader wrote is lost). Bans, repeats and floods do not decide it:
the door records them as context rules (``banned_author``, ``duplicate``, ``flood``) and, for near
duplicates, the cluster they belong to so a moderator can act on all; the worker scores the comment
like any other and applies them with the site's rule actions, so every such comment has an analysis.
Bot traps (``honeypot``, ``too_fast``) are decided at once, without scoring, and are silent: the
reader's browser sees the usual answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from limits import parse_many
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from moderation.errors import ValidationError
from moderation.storage.models import Author, Ban, Comment
from moderation.storage.repositories import AuthorRef
from moderation.text import fingerprint

BAN_KINDS = ("email", "ip", "name_ip")


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

    #: None: the comment goes on to be scored. Else "rejected" (a bot trap), decided now.
    status: str | None = None
    reasons: list[str] = field(default_factory=list)
    #: Hits the worker applies as context rules when it scores the comment (per the rule actions).
    context_rules: list[str] = field(default_factory=list)
    #: Earlier comments this one repeats or floods with: the write joins it to their cluster.
    cluster_members: frozenset[str] = frozenset()
    #: Bot traps answer like an accepted comment so the bot learns nothing.
    silent: bool = False


def _ban_values(author: Author | AuthorRef, ip: str | None) -> list[tuple[str, str]]:
    values = []
    if author.email:
        values.append(("email", author.email.lower()))
    if ip:
        values.append(("ip", ip))
        values.append(("name_ip", f"{author.name.strip().lower()}|{ip}"))
    return values


def is_banned(session: Session, site_id: int, author: Author | AuthorRef, ip: str | None) -> bool:
    if author.status == "banned":
        return True
    values = _ban_values(author, ip)
    if not values:
        return False
    conditions = [(Ban.kind == kind) & (Ban.value == value) for kind, value in values]
    return session.scalar(select(Ban.id).where(Ban.site_id == site_id, or_(*conditions)).limit(1)) is not None


def author_key(name: str, email: str | None) -> str:
    """Who signs a post (an author row is one name and e-mail), known before the row is: a hash,
    so that e-mail addresses are not kept in Redis."""
    return hashlib.blake2b(f"{name}\n{email or ''}".encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Probe:
    """What the repeat and flood checks know of one comment: who sent it, when, its fingerprints."""

    id: str
    #: ``author_key`` of its author.
    author: str
    client_ip: str | None
    at: float
    exact: str
    simhash: int

    @classmethod
    def of(cls, comment_id: str, author: str, client_ip: str | None, content: str, at: float) -> Probe:
        return cls(
            id=comment_id,
            author=author,
            client_ip=client_ip,
            at=at,
            exact=fingerprint.exact_fingerprint(content),
            simhash=fingerprint.simhash64(content),
        )

    def near(self, other: Probe) -> bool:
        return other.exact == self.exact or fingerprint.distance(other.simhash, self.simhash) <= (
            fingerprint.NEAR_DISTANCE
        )


class RecentIndex(Protocol):
    """Where recent comments' fingerprints are kept (Redis in the service; see ``recent_texts``)."""

    def similar_and_remember(self, site_id: int, probe: Probe, window_seconds: float) -> list[Probe]:
        """Probes of the site within the window sharing a fingerprint band; then remember ``probe``."""
        ...


def _sender(probe: Probe) -> tuple[str, Any]:
    return ("ip", probe.client_ip) if probe.client_ip else ("author", probe.author)


def check_at_door(
    comment: Mapping[str, Any],
    author: str,
    settings: AbuseSettings,
    *,
    now: datetime,
    bot_trap: str | None = None,
    recent: RecentIndex | None = None,
) -> DoorCheck:
    """What the door finds about a new comment (its column values, not yet stored) before any
    database work, so that on SQLite it runs outside the write lock. ``author`` is the
    ``author_key``. A bot trap decides it now; repeats and floods become context rules for the
    worker, as bans do (``banned_at_door``, in the write's transaction).

    Without a ``recent`` index (a test or a script storing comments directly) repeats and floods
    are not looked for.
    """
    if bot_trap is not None:
        return DoorCheck(status="rejected", reasons=[bot_trap], silent=True)
    hits: list[str] = []
    site_id, client_ip, content = comment["site_id"], comment["client_ip"], comment["content"]
    window = 60 * max(settings.duplicate_window_minutes, settings.flood_window_minutes)
    similar: list[Probe] = []
    if recent is not None and window:
        probe = Probe.of(comment["id"], author, client_ip, content, now.timestamp())
        similar = [p for p in recent.similar_and_remember(site_id, probe, window) if probe.near(p)]
    check = DoorCheck()
    if similar:
        duplicates = [
            p
            for p in similar
            if p.at >= probe.at - 60 * settings.duplicate_window_minutes
            and (p.author == probe.author or (probe.client_ip and p.client_ip == probe.client_ip))
        ]
        if duplicates:
            hits.append("duplicate")
        flooding = [p for p in similar if p.at >= probe.at - 60 * settings.flood_window_minutes]
        senders = {_sender(p) for p in flooding} | {_sender(probe)}
        if fingerprint.significant(content) and len(senders) >= settings.flood_senders:
            hits.append("flood")
        if hits:
            check.cluster_members = frozenset(p.id for p in duplicates + flooding)
    check.context_rules = hits
    return check


def banned_at_door(
    session: Session, site_id: int, author: Author | AuthorRef, ip: str | None, *, site_has_bans: bool
) -> bool:
    """The author is banned, or a ban of the site matches their e-mail, address or name there."""
    return author.status == "banned" or (site_has_bans and is_banned(session, site_id, author, ip))


def near_texts(a: str, b: str) -> bool:
    """Whether two texts are the same or nearly the same by the door's fingerprints."""
    return fingerprint.exact_fingerprint(a) == fingerprint.exact_fingerprint(b) or (
        fingerprint.distance(fingerprint.simhash64(a), fingerprint.simhash64(b)) <= fingerprint.NEAR_DISTANCE
    )


def join_cluster(session: Session, member_ids: Iterable[str]) -> str:
    """The cluster of the earliest member (or that member itself); members without one join it."""
    member_ids = set(member_ids)
    members = session.execute(
        select(Comment.id, Comment.cluster_id, Comment.created_at)
        .where(Comment.id.in_(list(member_ids)))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    if not members:  # remembered, but not stored (its post failed): a cluster of its own
        return min(member_ids)
    first = members[0]
    cluster = first.cluster_id or first.id
    unclustered = [m.id for m in members if m.cluster_id is None]
    if unclustered:
        session.execute(update(Comment).where(Comment.id.in_(unclustered)).values(cluster_id=cluster))
    return cluster
