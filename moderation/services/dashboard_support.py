"""Small use cases the dashboard needs beside ``review`` and ``admin``: sign-in, conflict context.

They live here, not in the review/admin modules, so the dashboard can grow without touching the
services other code depends on. Like every service they know nothing of HTTP or Flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import generate_password_hash

from moderation.errors import PermissionDenied, ValidationError
from moderation.services.accounts import ModeratorIdentity, create_moderator, verify_credentials
from moderation.services.admin import manages
from moderation.services.author_names import public_names
from moderation.services.review import require_admin
from moderation.storage import queue_queries as queries
from moderation.storage import repositories as repo
from moderation.storage.models import AuditEntry, Comment, Moderator, Site

#: Characters of the password hash kept in the session: changing the password ends every session.
FINGERPRINT_CHARS = 16
DECISION_ACTIONS = ("approve", "reject")
_DUMMY_HASH = generate_password_hash("not-a-real-password-for-timing")


def fingerprint(moderator: Moderator) -> str:
    return moderator.password_hash[-FINGERPRINT_CHARS:]


def _identity(session: Session, moderator: Moderator) -> ModeratorIdentity:
    site_ids = repo.moderator_site_ids(session, moderator.id)
    return ModeratorIdentity(
        id=moderator.id, username=moderator.username, role=moderator.role, site_ids=tuple(site_ids) or None
    )


def authenticate(session: Session, username: str, password: str) -> tuple[ModeratorIdentity, str]:
    """Check a password sign-in; returns the identity and the session fingerprint.

    The same check as the API's tokens (``accounts.verify_credentials``): failures counted, the
    account locked after too many, timing that does not tell which usernames exist.
    """
    moderator = verify_credentials(session, username, password)
    return _identity(session, moderator), fingerprint(moderator)


def load_identity(session: Session, moderator_id: int, expected_fingerprint: str) -> ModeratorIdentity | None:
    """The identity behind a dashboard session, or None once deactivated or the password changed."""
    moderator = session.get(Moderator, moderator_id)
    if moderator is None or not moderator.active or fingerprint(moderator) != expected_fingerprint:
        return None
    return _identity(session, moderator)


def can_decide(comment: Comment, open_reports: int) -> bool:
    """Whether approve/reject may apply: mirrors ``review._apply`` so cards offer only what works.

    A comment a moderator already decided is final unless readers reported it since.
    """
    return comment.decided_by != "moderator" or open_reports > 0


@dataclass(frozen=True)
class LastDecision:
    actor: str
    action: str
    at: datetime
    reason: str | None

    @property
    def who(self) -> str:
        return self.actor.split(":", 1)[-1]


def last_decision(session: Session, comment_id: str) -> LastDecision | None:
    """Who last approved or rejected a comment: the context of a conflict message."""
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.comment_id == comment_id, AuditEntry.action.in_(DECISION_ACTIONS))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()
    if entry is None:
        return None
    return LastDecision(actor=entry.actor, action=entry.action, at=entry.at, reason=entry.reason)


def comment_excerpts(
    session: Session, moderator: ModeratorIdentity, comment_ids: Sequence[str], limit: int = 120
) -> dict[str, str]:
    """Short texts of the comments an audit page mentions, in one query, within visible sites."""
    ids = list({i for i in comment_ids if i})
    if not ids:
        return {}
    query = select(Comment.id, Comment.content).where(Comment.id.in_(ids))
    if moderator.site_ids is not None:
        query = query.where(Comment.site_id.in_(list(moderator.site_ids)))
    return {
        comment_id: content if len(content) <= limit else content[: limit - 1] + "…"
        for comment_id, content in session.execute(query)
    }


def moderators_with_sites(session: Session, admin: ModeratorIdentity) -> list[Moderator]:
    """Every moderator account with its sites loaded in one extra query (no N+1 on the page)."""
    require_admin(admin)
    accounts = session.scalars(
        select(Moderator).options(selectinload(Moderator.sites)).order_by(Moderator.username)
    )
    return [account for account in accounts if manages(admin, {site.id for site in account.sites})]


def create_moderator_as(
    session: Session,
    admin: ModeratorIdentity,
    username: str,
    password: str,
    role: str,
    site_ids: Sequence[int],
) -> Moderator:
    """An admin creates an account; an admin limited to some sites can only grant those."""
    require_admin(admin)
    sites = list(session.scalars(select(Site).where(Site.id.in_(list(site_ids))))) if site_ids else []
    if len(sites) != len(set(site_ids)):
        raise ValidationError("invalid sites", fields={"sites": "unknown site"})
    if admin.site_ids is not None:
        if not sites:
            raise ValidationError("choose sites", fields={"sites": "choose at least one of your sites"})
        if any(site.id not in admin.site_ids for site in sites):
            raise PermissionDenied("you can only grant your own sites")
    return create_moderator(
        session, username, password, role, [site.name for site in sites], created_by=admin
    )


def stats_site_ids(moderator: ModeratorIdentity, site_id: int | None) -> list[int] | None:
    """The sites a statistics page covers: the chosen one if visible, else every visible one."""
    if site_id is None:
        return None if moderator.site_ids is None else list(moderator.site_ids)
    if moderator.site_ids is not None and site_id not in moderator.site_ids:
        raise PermissionDenied("not one of your sites")
    return [site_id]


@dataclass(frozen=True)
class CardExtras:
    """What cards show beside the queue page: clusters of repeats and readers' report reasons."""

    #: Comment id -> (cluster id, comments in the cluster), for comments in a cluster of two or more.
    clusters: dict[str, tuple[str, int]]
    #: Comment id -> the reasons readers gave in their open reports.
    report_reasons: dict[str, list[str]]
    #: Comment id -> the name readers see, for comments whose stored name poses as the newsroom (a
    #: name stored before the rule): moderators see both, so that it is not read as the paper's reply.
    public_names: dict[str, str] = field(default_factory=dict)


def card_extras(session: Session, comments: Sequence[Comment]) -> CardExtras:
    """Cluster sizes, report reasons and names posing as the newsroom for one page of cards.

    Two queries whatever the page holds, a site look-up per site on it, and one more query only
    when a stored name poses as the newsroom.
    """
    cluster_of = {c.id: c.cluster_id for c in comments if c.cluster_id}
    # Queried even for no cluster at all, so a page costs the same number of queries every time.
    sizes: dict[str, int] = dict(
        session.execute(
            select(Comment.cluster_id, func.count())
            .where(Comment.cluster_id.in_(sorted(set(cluster_of.values()))))
            .group_by(Comment.cluster_id)
        ).all()
    )
    clusters = {
        comment_id: (cluster, sizes[cluster])
        for comment_id, cluster in cluster_of.items()
        if sizes.get(cluster, 0) > 1
    }
    return CardExtras(
        clusters,
        queries.open_report_reasons(session, [c.id for c in comments]),
        posing_names(session, comments),
    )


def posing_names(session: Session, comments: Sequence[Comment]) -> dict[str, str]:
    """The public name of each comment whose stored name readers do not see (one query per site):
    the queue's cards and the rows of an author's history."""
    by_site: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.author is not None:
            by_site.setdefault(comment.site_id, []).append(comment)
    out: dict[str, str] = {}
    for site_id, group in by_site.items():
        site = session.get(Site, site_id)
        shown = public_names(session, site.name if site is not None else "", group)
        out.update({c.id: shown[c.id] for c in group if shown[c.id] != c.author.name})
    return out
