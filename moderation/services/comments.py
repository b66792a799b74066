"""Submitting comments, recording their enqueue, finding lost ones, listing published threads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from moderation.errors import NotFound, ValidationError
from moderation.scoring.policy import Policy
from moderation.services import antiabuse
from moderation.storage import repositories as repo
from moderation.storage.db import Database
from moderation.storage.models import Comment, Report, Site, utcnow
from moderation.text import fold

MAX_THREAD_DEPTH = 4


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


def submit_comment(
    session: Session, site: Site, submission: CommentSubmission, *, bot_trap: str | None = None
) -> Comment:
    """Store a new comment. The caller commits before answering, then enqueues it if still pending.

    The door checks (bans, repeats, floods, bot traps) may decide it at once, without scoring;
    ``bot_trap`` names the trap a widget post fell into (``honeypot``, ``too_fast``).
    """
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
    now = utcnow()
    comment = Comment(
        site_id=site.id,
        article_id=article.id,
        author_id=author.id,
        parent_id=submission.parent_id,
        content=submission.content,
        search_text=fold(submission.content),
        status="pending",
        client_ip=submission.client_ip,
        user_agent=submission.user_agent,
        referrer=submission.referrer,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    policy_settings, abuse = repo.policy_row(session, site.id)
    door = antiabuse.check_at_door(
        session,
        comment,
        author,
        Policy.from_dict(policy_settings),
        antiabuse.AbuseSettings.from_dict(abuse),
        now=now,
        bot_trap=bot_trap,
    )
    if door.status is not None:
        comment.status = door.status
        comment.decided_by = "model"
        comment.decision_reasons = door.reasons
        comment.decided_at = now
    session.flush()
    return comment


MAX_REPORT_REASON = 200


def report_comment(
    session: Session, site: Site, comment_id: str, reason: str | None, reporter_ip: str | None
) -> bool:
    """A reader reports a published comment; it joins the moderators' "reported" queue.

    Returns False when this reader (address) already has an open report on it: no double count.
    """
    comment = session.get(Comment, comment_id)
    if comment is None or comment.site_id != site.id or comment.status != "published":
        raise NotFound("no such published comment")
    if reason is not None and len(reason) > MAX_REPORT_REASON:
        raise ValidationError("reason too long", fields={"reason": f"at most {MAX_REPORT_REASON} characters"})
    if reporter_ip and repo.open_report_from(session, comment.id, reporter_ip):
        return False
    session.add(Report(comment_id=comment.id, site_id=site.id, reason=reason, reporter_ip=reporter_ip))
    return True


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
