"""Use cases: sites, moderators, submitting, scoring, deciding and listing comments.

Services take a ``Database`` (or a session) and plain values; they know nothing of HTTP, Flask or
RQ. The web layer and the workers both call them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.errors import (
    AlreadyExists,
    AuthenticationError,
    Conflict,
    NotFound,
    ValidationError,
)
from moderation.scoring.policy import Policy
from moderation.storage import repositories as repo
from moderation.storage.db import Database
from moderation.storage.models import MODERATOR_ROLES, Comment, Moderator, ModeratorSite, Site, utcnow

log = logging.getLogger(__name__)

API_KEY_PREFIX = "msk_"
STATUS_BY_DECISION = {"publish": "published", "review": "review", "reject": "rejected"}
ACTIONS = {"approve": "published", "reject": "rejected"}
MAX_REASON_CHARS = 500
MAX_THREAD_DEPTH = 4


class AnalyzerLike(Protocol):
    model_version: str

    def analyze(
        self, texts: Sequence[str], ids: Sequence[Any] | None = None, policies: Any = None
    ) -> list[dict[str, Any]]: ...


# --- sites -----------------------------------------------------------------------------------


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


# --- moderators ------------------------------------------------------------------------------


def create_moderator(
    session: Session, username: str, password: str, role: str = "moderator", site_names: Sequence[str] = ()
) -> Moderator:
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
        actor="system",
        action="moderator_created",
        details={"username": username, "role": role, "sites": list(site_names)},
    )
    return moderator


def _token_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="moderator-api-token")


def issue_moderator_token(
    session: Session, username: str, password: str, secret_key: str, ttl_seconds: int
) -> tuple[str, datetime]:
    moderator = repo.moderator_by_username(session, username)
    # Check a hash even for unknown users so timing does not reveal which usernames exist.
    stored = moderator.password_hash if moderator else generate_password_hash("not-a-real-password")
    if not check_password_hash(stored, password) or moderator is None or not moderator.active:
        raise AuthenticationError("wrong username or password")
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


# --- comments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentSubmission:
    article_id: str
    content: str
    author_name: str
    author_email: str | None = None
    article_title: str | None = None
    article_url: str | None = None
    parent_id: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None


def submit_comment(session: Session, site: Site, submission: CommentSubmission) -> Comment:
    """Store a new pending comment. The caller commits before answering the site."""
    article = repo.get_or_create_article(
        session, site.id, submission.article_id, submission.article_title, submission.article_url
    )
    if submission.parent_id is not None:
        parent = session.get(Comment, submission.parent_id)
        if parent is None or parent.site_id != site.id or parent.article_id != article.id:
            raise ValidationError(
                "unknown parent comment",
                fields={"parent_id": "no comment with this id under this article"},
            )
    author = repo.get_or_create_author(session, site.id, submission.author_name, submission.author_email)
    comment = Comment(
        site_id=site.id,
        article_id=article.id,
        author_id=author.id,
        parent_id=submission.parent_id,
        content=submission.content,
        status="pending",
        client_ip=submission.client_ip,
        user_agent=submission.user_agent,
        referrer=submission.referrer,
        created_at=utcnow(),
    )
    session.add(comment)
    session.flush()
    return comment


def mark_enqueued(db: Database, comment_ids: Sequence[str]) -> None:
    with db.session() as session:
        repo.mark_enqueued(session, comment_ids, utcnow())


def find_lost_comments(
    db: Database, *, grace_seconds: float, stale_seconds: float, limit: int = 5000
) -> list[str]:
    now = utcnow()
    with db.session() as session:
        return repo.lost_comment_ids(
            session,
            never_enqueued_before=now - timedelta(seconds=grace_seconds),
            enqueued_before=now - timedelta(seconds=stale_seconds),
            limit=limit,
        )


@dataclass
class ScoringReport:
    requested: int = 0
    scored: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)


def _analyze_with_fallback(
    analyzer: AnalyzerLike, texts: list[str], ids: list[str], policies: list[Policy], report: ScoringReport
) -> list[dict[str, Any] | None]:
    """Score the batch; if it raises, score one by one so a poison comment cannot block the rest."""
    try:
        return list(analyzer.analyze(texts, ids, policies))
    except Exception:
        log.exception("batch scoring failed for %d comments; retrying one by one", len(texts))
    results: list[dict[str, Any] | None] = []
    for text, comment_id, policy in zip(texts, ids, policies, strict=True):
        try:
            results.append(analyzer.analyze([text], [comment_id], [policy])[0])
        except Exception:
            log.exception("scoring failed for comment %s", comment_id)
            report.errors.append(comment_id)
            results.append(None)
    return results


def score_comments(
    db: Database,
    analyzer: AnalyzerLike,
    comment_ids: Sequence[str],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> ScoringReport:
    """Score pending comments and apply each site's policy; idempotent."""
    report = ScoringReport(requested=len(comment_ids))
    with db.session() as session:
        rows = repo.pending_for_scoring(session, list(dict.fromkeys(comment_ids)))
        stored = repo.policy_settings(session, (site_id for _, site_id, _ in rows))
    report.skipped = len(comment_ids) - len(rows)
    if not rows:
        return report
    policies_by_site = {site_id: Policy.from_dict(stored.get(site_id)) for _, site_id, _ in rows}
    ids = [comment_id for comment_id, _, _ in rows]
    texts = [content for _, _, content in rows]
    policies = [policies_by_site[site_id] for _, site_id, _ in rows]
    analyses = _analyze_with_fallback(analyzer, texts, ids, policies, report)
    now = clock()
    decisions = []
    for comment_id, analysis in zip(ids, analyses, strict=True):
        if analysis is None:
            status, reasons, version = "review", ["scoring_error"], analyzer.model_version
        else:
            status, reasons, version = (
                STATUS_BY_DECISION[analysis["decision"]],
                analysis["reasons"],
                (analysis["model_version"]),
            )
        report.by_status[status] = report.by_status.get(status, 0) + 1
        decisions.append(
            {
                "b_id": comment_id,
                "b_status": status,
                "b_analysis": analysis,
                "b_model_version": version,
                "b_reasons": reasons,
                "b_at": now,
            }
        )
    with db.session() as session:
        report.scored = repo.save_model_decisions(session, decisions)
    return report


def _visible_sites(moderator: ModeratorIdentity) -> list[int] | None:
    return None if moderator.site_ids is None else list(moderator.site_ids)


def get_site_comment(session: Session, site: Site, comment_id: str) -> Comment:
    comment = repo.comment_in_site(session, comment_id, [site.id])
    if comment is None:
        raise NotFound("no such comment")
    return comment


def decide(
    session: Session, moderator: ModeratorIdentity, comment_id: str, action: str, reason: str | None
) -> Comment:
    """A moderator approves or rejects a comment; the decision and the audit entry commit together."""
    if action not in ACTIONS:
        raise ValidationError("invalid action", fields={"action": "must be approve or reject"})
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise ValidationError("reason too long", fields={"reason": f"at most {MAX_REASON_CHARS} characters"})
    comment = repo.comment_in_site(session, comment_id, _visible_sites(moderator))
    if comment is None:
        raise NotFound("no such comment")
    if comment.decided_by == "moderator":
        when = comment.decided_at.isoformat() if comment.decided_at else "?"
        raise Conflict(f"already {comment.status} by a moderator at {when}")
    previous_status = comment.status
    new_status = ACTIONS[action]
    now = utcnow()
    won = repo.set_moderator_decision(
        session,
        comment,
        expected_status=previous_status,
        expected_decided_by=comment.decided_by,
        status=new_status,
        reasons=[reason] if reason else [],
        at=now,
    )
    if not won:
        raise Conflict("another moderator decided this comment first; reload it")
    repo.add_audit(
        session,
        at=now,
        moderator_id=moderator.id,
        actor=moderator.actor,
        action=action,
        site_id=comment.site_id,
        comment_id=comment.id,
        reason=reason,
        details={"from": previous_status, "to": new_status, "model_version": comment.model_version},
    )
    session.refresh(comment)
    return comment


def moderation_queue(
    session: Session,
    moderator: ModeratorIdentity,
    *,
    status: str,
    page: int,
    per_page: int,
    newest_first: bool = False,
) -> tuple[int, Sequence[Comment]]:
    return repo.comments_by_status(
        session,
        status=status,
        site_ids=_visible_sites(moderator),
        newest_first=newest_first,
        offset=(page - 1) * per_page,
        limit=per_page,
    )


@dataclass
class Thread:
    comment: Comment
    replies: list[Thread] = field(default_factory=list)


def published_threads(
    session: Session, site: Site, article_external_id: str, *, page: int, per_page: int
) -> tuple[int, list[Thread]]:
    """Published comments oldest first, replies nested; replies to unpublished comments stay hidden."""
    article = repo.article_by_external_id(session, site.id, article_external_id)
    if article is None:
        return 0, []
    comments = repo.published_comments(session, article.id)
    threads = {c.id: Thread(c) for c in comments}
    depth: dict[str, int] = {}
    # Replies nest at most MAX_THREAD_DEPTH deep; deeper ones join their ancestor at that depth,
    # so a long reply chain cannot make the response (or its rendering) arbitrarily deep.
    anchor: dict[str, str] = {}
    roots: list[Thread] = []
    for comment in comments:  # oldest first, so a parent always comes before its replies
        node = threads[comment.id]
        if comment.parent_id is None:
            roots.append(node)
            depth[comment.id], anchor[comment.id] = 0, comment.id
        elif comment.parent_id in anchor:
            parent_id = anchor[comment.parent_id]
            threads[parent_id].replies.append(node)
            depth[comment.id] = depth[parent_id] + 1
            anchor[comment.id] = comment.id if depth[comment.id] < MAX_THREAD_DEPTH else parent_id
    start = (page - 1) * per_page
    return len(roots), roots[start : start + per_page]


def comment_status_counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return repo.status_counts(session)
