"""Submitting comments, recording their enqueue, finding lost ones, listing published threads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from moderation.errors import (
    ValidationError,
)
from moderation.storage import repositories as repo
from moderation.storage.db import Database
from moderation.storage.models import Comment, Site, utcnow
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
        search_text=fold(submission.content),
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
