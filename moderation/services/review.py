"""What moderators do: read queues and decide, with every decision in the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from moderation.errors import (
    Conflict,
    NotFound,
    ValidationError,
)
from moderation.services.accounts import ModeratorIdentity
from moderation.storage import repositories as repo
from moderation.storage.models import Comment, Site, utcnow

ACTIONS = {"approve": "published", "reject": "rejected"}
MAX_REASON_CHARS = 500


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
