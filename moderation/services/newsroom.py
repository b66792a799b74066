"""What a newsroom adds to its readers' comments: an author's full history, internal notes on a
comment (moderators only, never in a thread or the public API) and replies published as the paper.

Notes are audit entries (``action="note"``, the text in ``reason``): stored once, shown on the
card and in the audit log, and nowhere a reader can see. A reply is a comment of the site's own
author ("Ban biên tập"), published at once by the moderator who wrote it, never scored. Readers
cannot post under that name (``services.author_names``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.errors import ValidationError
from moderation.services.accounts import ModeratorIdentity
from moderation.services.author_names import NEWSROOM_NAME
from moderation.services.review import _author_for, visible_comment
from moderation.storage import repositories as repo
from moderation.storage.models import AuditEntry, Author, Comment, Site, utcnow
from moderation.text import fold

MAX_NOTE_CHARS = 2000
MAX_REPLY_CHARS = 5000
#: Comments per page of an author's history.
HISTORY_PAGE = 100


@dataclass(frozen=True)
class Note:
    comment_id: str
    who: str
    text: str
    at: object


def _text(raw: str | None, limit: int, field: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise ValidationError(f"{field} required", fields={field: "required"})
    if len(text) > limit:
        raise ValidationError(f"{field} too long", fields={field: f"at most {limit} characters"})
    return text


def author_history(
    session: Session,
    moderator: ModeratorIdentity,
    author_id: int,
    page: int = 1,
    per_page: int = HISTORY_PAGE,
) -> tuple[Author, list[Comment], int]:
    """The author, one page of their comments (every status, newest first) and how many they wrote."""
    author = _author_for(session, moderator, author_id)
    total = session.scalar(select(func.count()).select_from(Comment).where(Comment.author_id == author.id))
    comments = list(
        session.scalars(
            select(Comment)
            .where(Comment.author_id == author.id)
            .order_by(Comment.created_at.desc(), Comment.id)
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page)
        )
    )
    return author, comments, int(total or 0)


def add_note(session: Session, moderator: ModeratorIdentity, comment_id: str, text: str | None) -> AuditEntry:
    comment = visible_comment(session, moderator, comment_id)
    return repo.add_audit(
        session,
        moderator_id=moderator.id,
        actor=moderator.actor,
        action="note",
        site_id=comment.site_id,
        comment_id=comment.id,
        reason=_text(text, MAX_NOTE_CHARS, "note"),
    )


def notes_for(session: Session, comment_ids: Sequence[str]) -> dict[str, list[Note]]:
    """Internal notes of a page of comments, oldest first, in one query."""
    ids = sorted(set(comment_ids))
    notes: dict[str, list[Note]] = {}
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "note", AuditEntry.comment_id.in_(ids))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    for entry in rows:
        who = entry.actor.split(":", 1)[-1]
        notes.setdefault(str(entry.comment_id), []).append(
            Note(str(entry.comment_id), who, entry.reason or "", entry.at)
        )
    return notes


def replies_to(session: Session, comment_id: str) -> list[Comment]:
    """Every reply to a comment, oldest first (the comment's page shows the thread under it)."""
    return list(
        session.scalars(select(Comment).where(Comment.parent_id == comment_id).order_by(Comment.created_at))
    )


def _newsroom_name(site: Site) -> str:
    return f"{NEWSROOM_NAME} {site.name}"[:80]


def _newsroom_record(site: Site) -> dict[str, Any]:
    """What makes an author the site's own: one definition for finding it and for recognising it."""
    return {"site_id": site.id, "name": _newsroom_name(site), "email": None, "status": "trusted"}


def is_newsroom_author(author: Author, site: Site) -> bool:
    """Whether ``author`` is the site's own record (``newsroom_author``), not a reader posing as it."""
    return all(getattr(author, column) == value for column, value in _newsroom_record(site).items())


def newsroom_author(session: Session, site: Site) -> Author:
    """The site's own author, trusted, without an email: every reply of the newsroom is theirs."""
    record = _newsroom_record(site)
    # filter_by compares with ==, which SQLAlchemy writes as IS NULL for the missing email.
    author = session.scalar(select(Author).filter_by(**record))
    if author is None:
        author = Author(**record)
        session.add(author)
        session.flush()
    return author


def reply_as_newsroom(
    session: Session, moderator: ModeratorIdentity, comment_id: str, text: str | None
) -> Comment:
    """Publish a reply to ``comment_id`` signed by the newsroom, decided by this moderator."""
    parent = visible_comment(session, moderator, comment_id)
    content = _text(text, MAX_REPLY_CHARS, "reply")
    site = session.get(Site, parent.site_id)
    assert site is not None
    now = utcnow()
    reply = Comment(
        site_id=parent.site_id,
        article_id=parent.article_id,
        parent_id=parent.id,
        author_id=newsroom_author(session, site).id,
        content=content,
        search_text=fold(content),
        status="published",
        decided_by="moderator",
        decision_reasons=["newsroom reply"],
        created_at=now,
        decided_at=now,
    )
    session.add(reply)
    session.flush()
    repo.add_audit(
        session,
        moderator_id=moderator.id,
        actor=moderator.actor,
        action="newsroom_reply",
        site_id=site.id,
        comment_id=reply.id,
        details={"parent": parent.id, "to": "published"},
    )
    return reply
