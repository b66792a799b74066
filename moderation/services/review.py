"""What moderators do: read queues, decide (one or many), undo, ban or trust authors.

Every change commits with its audit entry. Each audit entry keeps what the comment was before
(``from``, ``prev_decided_by``, ``prev_reasons``, ``prev_decided_at``) and a ``batch`` id shared by
the entries of one action, so "undo" can restore exactly what one action changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from moderation.errors import Conflict, NotFound, PermissionDenied, ValidationError
from moderation.services import labels, site_cache
from moderation.services.accounts import ModeratorIdentity
from moderation.storage import queue_queries as queries
from moderation.storage import repositories as repo
from moderation.storage.models import AuditEntry, Author, Comment, Report, Site, utcnow

ACTIONS = {"approve": "published", "reject": "rejected"}
MAX_REASON_CHARS = 500
#: How far back "undo" looks for this moderator's last action.
UNDO_WINDOW = 200
BAN_REASON = "banned author"


def _visible_sites(moderator: ModeratorIdentity) -> list[int] | None:
    return None if moderator.site_ids is None else list(moderator.site_ids)


def get_site_comment(session: Session, site: Site, comment_id: str) -> Comment:
    comment = repo.comment_in_site(session, comment_id, [site.id])
    if comment is None:
        raise NotFound("no such comment")
    return comment


def visible_comment(session: Session, moderator: ModeratorIdentity, comment_id: str) -> Comment:
    comment = repo.comment_in_site(session, comment_id, _visible_sites(moderator))
    if comment is None:
        raise NotFound("no such comment")
    return comment


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _check(action: str, reason: str | None) -> None:
    if action not in ACTIONS:
        raise ValidationError("invalid action", fields={"action": "must be approve or reject"})
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise ValidationError("reason too long", fields={"reason": f"at most {MAX_REASON_CHARS} characters"})


def _resolve_reports(session: Session, comment_id: str, moderator_id: int, at: datetime) -> int:
    result = session.execute(
        update(Report)
        .where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
        .values(resolved_at=at, resolved_by=moderator_id)
    )
    return result.rowcount or 0


def _apply(
    session: Session,
    moderator: ModeratorIdentity,
    comment: Comment,
    action: str,
    reason: str | None,
    batch: str,
    at: datetime,
) -> None:
    """Decide one loaded comment with compare-and-set; raise Conflict if someone was first."""
    # Open reports both allow re-deciding a moderator's decision and label this one.
    report_reasons = labels.open_report_reasons(session, comment.id)
    if comment.decided_by == "moderator" and not report_reasons:
        when = comment.decided_at.isoformat() if comment.decided_at else "?"
        raise Conflict(f"already {comment.status} by a moderator at {when}")
    before = {
        "from": comment.status,
        "prev_decided_by": comment.decided_by,
        "prev_reasons": list(comment.decision_reasons or []),
        "prev_decided_at": _iso(comment.decided_at),
    }
    new_status = ACTIONS[action]
    won = repo.set_moderator_decision(
        session,
        comment,
        expected_status=comment.status,
        expected_decided_by=comment.decided_by,
        status=new_status,
        reasons=[reason] if reason else [],
        at=at,
    )
    if not won:
        raise Conflict("another moderator decided this comment first; reload it")
    labels.record(
        session,
        comment,
        action=action,
        reason=reason,
        moderator_id=moderator.id,
        batch=batch,
        at=at,
        report_reasons=report_reasons,
    )
    resolved = _resolve_reports(session, comment.id, moderator.id, at)
    repo.add_audit(
        session,
        at=at,
        moderator_id=moderator.id,
        actor=moderator.actor,
        action=action,
        site_id=comment.site_id,
        comment_id=comment.id,
        reason=reason,
        details={
            **before,
            "to": new_status,
            "batch": batch,
            "model_version": comment.model_version,
            "model_reasons": list((comment.analysis or {}).get("reasons", [])),
            "reports_resolved": resolved,
        },
    )


def decide(
    session: Session, moderator: ModeratorIdentity, comment_id: str, action: str, reason: str | None
) -> Comment:
    """A moderator approves or rejects a comment; the decision and the audit entry commit together.

    A comment already decided by a moderator is not overwritten (Conflict), unless readers
    reported it since: then deciding it again is how a report is handled.
    """
    _check(action, reason)
    comment = visible_comment(session, moderator, comment_id)
    _apply(session, moderator, comment, action, reason, uuid.uuid4().hex, utcnow())
    session.refresh(comment)
    return comment


@dataclass
class BulkResult:
    decided: list[str] = field(default_factory=list)
    conflicts: dict[str, str] = field(default_factory=dict)
    batch: str = ""


def decide_many(
    session: Session,
    moderator: ModeratorIdentity,
    comment_ids: Sequence[str],
    action: str,
    reason: str | None,
) -> BulkResult:
    """Decide several comments as one action (one undo); the ones someone else decided are reported."""
    _check(action, reason)
    result = BulkResult(batch=uuid.uuid4().hex)
    now = utcnow()
    for comment_id in dict.fromkeys(comment_ids):
        comment = repo.comment_in_site(session, comment_id, _visible_sites(moderator))
        if comment is None:
            result.conflicts[comment_id] = "not found"
            continue
        try:
            with session.begin_nested():
                _apply(session, moderator, comment, action, reason, result.batch, now)
            result.decided.append(comment_id)
        except Conflict as exc:
            result.conflicts[comment_id] = exc.message
    return result


def cluster_members(session: Session, moderator: ModeratorIdentity, comment_id: str) -> list[Comment]:
    """The comment's cluster of repeats or flood copies (the comment alone if it has none)."""
    comment = visible_comment(session, moderator, comment_id)
    cluster = comment.cluster_id or comment.id
    return list(
        session.scalars(
            select(Comment)
            .where(
                Comment.site_id == comment.site_id,
                (Comment.cluster_id == cluster) | (Comment.id == cluster),
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def decide_cluster(
    session: Session, moderator: ModeratorIdentity, comment_id: str, action: str, reason: str | None
) -> BulkResult:
    """Decide a whole cluster in one action (one undo); members a moderator already decided stay."""
    members = [c.id for c in cluster_members(session, moderator, comment_id) if c.decided_by != "moderator"]
    return decide_many(session, moderator, members, action, reason)


@dataclass
class UndoResult:
    action: str | None = None
    restored: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _last_batch(session: Session, moderator: ModeratorIdentity) -> list[AuditEntry]:
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.moderator_id == moderator.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(UNDO_WINDOW)
    ).all()
    undone: set[str] = set()
    for entry in entries:
        details = entry.details or {}
        if entry.action == "undo":
            undone.add(details.get("undoes", ""))
            continue
        batch = details.get("batch")
        if (
            batch
            and batch not in undone
            and entry.action in ("approve", "reject", "ban_author", "trust_author")
        ):
            return [e for e in entries if (e.details or {}).get("batch") == batch and e.action != "undo"]
    return []


def undo_last(session: Session, moderator: ModeratorIdentity) -> UndoResult:
    """Restore what this moderator's last action changed, where nobody has changed it since."""
    entries = _last_batch(session, moderator)
    result = UndoResult()
    if not entries:
        return result
    batch = entries[0].details["batch"]
    # A ban is one author entry plus the rejections it caused: name the action by the author entry.
    result.action = next((e.action for e in entries if e.comment_id is None), entries[0].action)
    now = utcnow()
    for entry in entries:
        details = entry.details or {}
        if entry.comment_id is not None:
            restored = session.execute(
                update(Comment)
                .where(
                    Comment.id == entry.comment_id,
                    Comment.status == details["to"],
                    Comment.decided_by == "moderator",
                )
                .values(
                    status=details["from"],
                    decided_by=details.get("prev_decided_by"),
                    decision_reasons=details.get("prev_reasons") or [],
                    decided_at=datetime.fromisoformat(details["prev_decided_at"])
                    if details.get("prev_decided_at")
                    else None,
                )
                .execution_options(synchronize_session=False)
            )
            (result.restored if restored.rowcount == 1 else result.conflicts).append(entry.comment_id)
            if restored.rowcount == 1:
                labels.forget(session, [entry.comment_id], batch)
        elif entry.action in ("ban_author", "trust_author") and details.get("author_id") is not None:
            author = session.get(Author, details["author_id"])
            if author is not None and author.status == details.get("to"):
                author.status = details.get("from", "normal")
                if entry.action == "ban_author":
                    repo.delete_bans(session, details.get("bans") or [])
                    site_cache.invalidate_on_commit(session, author.site_id)
    repo.add_audit(
        session,
        at=now,
        moderator_id=moderator.id,
        actor=moderator.actor,
        action="undo",
        site_id=entries[0].site_id,
        details={"undoes": batch, "restored": result.restored, "conflicts": result.conflicts},
    )
    session.expire_all()
    return result


def _author_for(session: Session, moderator: ModeratorIdentity, author_id: int) -> Author:
    author = session.get(Author, author_id)
    visible = _visible_sites(moderator)
    if author is None or (visible is not None and author.site_id not in visible):
        raise NotFound("no such author")
    return author


def set_author_status(
    session: Session, moderator: ModeratorIdentity, author_id: int, status: str, reason: str | None = None
) -> dict[str, Any]:
    """Ban (their waiting comments are rejected, later ones held) or trust an author, or restore."""
    if status not in ("normal", "trusted", "banned"):
        raise ValidationError("invalid status", fields={"status": "normal, trusted or banned"})
    author = _author_for(session, moderator, author_id)
    batch, now = uuid.uuid4().hex, utcnow()
    action = {"banned": "ban_author", "trusted": "trust_author", "normal": "restore_author"}[status]
    previous = author.status
    author.status = status
    rejected: list[str] = []
    bans: list[int] = []
    site_cache.invalidate_on_commit(session, author.site_id)
    if status != "banned":
        repo.delete_bans(session, repo.author_ban_ids(session, author.id))
    else:
        # Banned at the door too: by email, else by name and address, so a new author row made
        # from the same email or from the same name and address is held as well.
        bans = repo.add_bans_for_author(session, author, moderator.id, reason)
        waiting = session.scalars(
            select(Comment).where(Comment.author_id == author.id, Comment.status.in_(("pending", "review")))
        ).all()
        for comment in waiting:
            try:
                with session.begin_nested():
                    _apply(session, moderator, comment, "reject", reason or BAN_REASON, batch, now)
                rejected.append(comment.id)
            except Conflict:
                continue
    repo.add_audit(
        session,
        at=now,
        moderator_id=moderator.id,
        actor=moderator.actor,
        action=action,
        site_id=author.site_id,
        reason=reason,
        details={
            "author_id": author.id,
            "author": author.name,
            "from": previous,
            "to": status,
            "batch": batch,
            "bans": bans,
        },
    )
    return {"author_id": author.id, "status": status, "rejected": rejected}


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
class QueuePage:
    total: int
    items: list[Comment]
    histories: dict[int, queries.AuthorHistory]
    reports: dict[str, int]
    counts: dict[str, int]


def queue_page(
    session: Session, moderator: ModeratorIdentity, f: queries.QueueFilter, *, page: int, per_page: int
) -> QueuePage:
    """One page of a dashboard tab with everything a card shows, in a fixed number of queries."""
    if f.tab not in queries.TABS:
        raise ValidationError("invalid tab", fields={"tab": f"one of {', '.join(queries.TABS)}"})
    if f.order not in queries.ORDERS:
        raise ValidationError("invalid order", fields={"order": f"one of {', '.join(queries.ORDERS)}"})
    visible = _visible_sites(moderator)
    total, items = queries.page(session, visible, f, offset=(page - 1) * per_page, limit=per_page)
    return QueuePage(
        total=total,
        items=items,
        histories=queries.author_histories(session, [c.author_id for c in items]),
        reports=queries.open_report_counts(session, [c.id for c in items]),
        counts=queries.tab_counts(session, visible),
    )


def require_admin(moderator: ModeratorIdentity) -> None:
    if moderator.role != "admin":
        raise PermissionDenied("only an admin can do this")
