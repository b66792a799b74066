"""Submitting comments, recording their enqueue, finding lost ones, listing published threads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from moderation.errors import NotFound, ValidationError
from moderation.services import antiabuse, site_cache
from moderation.services.author_names import check_author_name, public_names
from moderation.services.site_cache import SiteContext
from moderation.storage import repositories as repo
from moderation.storage.db import Database
from moderation.storage.models import Comment, Report, Site, new_id, utcnow
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


@dataclass
class Draft:
    """A new comment checked at the door, complete but for what only its write transaction adds.

    ``row`` holds its column values; ``article_id`` in it is None when the article is not in
    this process's cache, and ``author_id`` is None: the write finds or adds them.
    """

    row: dict[str, Any]
    submission: CommentSubmission
    site: SiteContext
    cluster_members: frozenset[str] = frozenset()


def prepare_comment(
    site: SiteContext,
    submission: CommentSubmission,
    *,
    bot_trap: str | None = None,
    will_enqueue: bool = False,
    recent: antiabuse.RecentIndex | None = None,
) -> Draft:
    """What posting does before any database work: the checks, the fingerprints, the door's Redis
    call (repeats and floods). On SQLite all of it then runs outside the one write lock, which
    ``store_comment`` holds only for its few statements and the commit.
    """
    check_author_name(submission.author_name, site.name)
    article_id = site_cache.cached_article_id(
        site.id, submission.article_id, submission.article_title, submission.article_url
    )
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "site_id": site.id,
        "article_id": article_id,
        "author_id": None,
        "parent_id": submission.parent_id,
        "content": submission.content,
        "search_text": fold(submission.content),
        "status": "pending",
        "client_ip": submission.client_ip,
        "user_agent": submission.user_agent,
        "referrer": submission.referrer,
        "created_at": now,
        "enqueue_attempts": 0,
    }
    # Everything is decided before the one INSERT, made once the comment is complete.
    door = antiabuse.check_at_door(
        row,
        antiabuse.author_key(submission.author_name, submission.author_email),
        site.abuse,
        now=now,
        bot_trap=bot_trap,
        recent=recent,
    )
    if door.status is not None:
        row.update(status=door.status, decided_by="model", decision_reasons=door.reasons, decided_at=now)
    else:
        # While pending (decided_by NULL), ``decision_reasons`` carries the door's context rules to
        # the worker, which scores the comment and applies them (``services.scoring``).
        if door.context_rules:
            row["decision_reasons"] = door.context_rules
        if will_enqueue:
            row["enqueued_at"], row["enqueue_attempts"] = now, 1
    return Draft(row, submission, site, door.cluster_members)


def store_comment(session: Session, draft: Draft) -> tuple[str, str]:
    """The write of a prepared comment: the reads that must see the database as it is (parent,
    author, bans), the article and author if new, its cluster, its INSERT. On SQLite this is all
    the one write lock is held for (about three statements and the commit). Returns its id and
    status.
    """
    row, submission, site = draft.row, draft.submission, draft.site
    if row["article_id"] is None:
        row["article_id"] = site_cache.article_id(
            session, site.id, submission.article_id, submission.article_title, submission.article_url
        )
    if submission.parent_id is not None:
        parent = session.get(Comment, submission.parent_id)
        if parent is None or parent.site_id != site.id or parent.article_id != row["article_id"]:
            raise ValidationError(
                "unknown parent comment",
                fields={"parent_id": "no comment with this id under this article"},
            )
    # New authors are the commoner case in a burst: on SQLite one statement adds them.
    author = repo.add_author_unless_found(session, site.id, submission.author_name, submission.author_email)
    row["author_id"] = author.id
    # A bot trap's rejection stands as it is; any other comment carries a ban as a context rule.
    pending = row["status"] == "pending"
    if pending and antiabuse.banned_at_door(
        session, site.id, author, row["client_ip"], site_has_bans=site.has_bans
    ):
        row["decision_reasons"] = ["banned_author", *(row.get("decision_reasons") or [])]
    if draft.cluster_members:
        row["cluster_id"] = antiabuse.join_cluster(session, draft.cluster_members)
    repo.insert_comment_row(session, row)
    return row["id"], row["status"]


def submit_comment(
    session: Session,
    site: Site | SiteContext,
    submission: CommentSubmission,
    *,
    bot_trap: str | None = None,
    will_enqueue: bool = False,
    recent: antiabuse.RecentIndex | None = None,
) -> Comment:
    """Store a new comment in this session's transaction. The caller commits before answering, then
    enqueues it if still pending (the web's route calls the two halves itself: ``prepare_comment``,
    then ``store_comment`` in its write transaction).

    Only a bot trap decides it at once, without scoring; bans, repeats and floods go to the worker
    as context rules (every other comment is scored). ``bot_trap`` names the trap a widget post
    fell into (``honeypot``, ``too_fast``). With ``will_enqueue`` the enqueue is recorded in this
    same transaction (one commit per post instead of two); the caller must call
    ``unmark_enqueued`` if handing it to the queue then fails. ``site`` may be the cached
    ``SiteContext`` (the web's hot path) or the site itself; ``recent`` is where recent
    fingerprints are kept for the repeat and flood checks. A name that reads as the newsroom's
    own is refused (``ValidationError``): its replies are published by ``services.newsroom``.
    """
    context = site if isinstance(site, SiteContext) else site_cache.context(session, site)
    draft = prepare_comment(context, submission, bot_trap=bot_trap, will_enqueue=will_enqueue, recent=recent)
    comment_id, _status = store_comment(session, draft)
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise LookupError(f"comment {comment_id} vanished right after its INSERT")
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


def unmark_enqueued(db: Database, comment_ids: Sequence[str]) -> None:
    """The queue refused comments recorded as enqueued: the sweep must pick them up soon."""
    with db.session() as session:
        repo.unmark_enqueued(session, comment_ids)


def mark_enqueued(db: Database, comment_ids: Sequence[str]) -> None:
    with db.session() as session:
        repo.mark_enqueued(session, comment_ids, utcnow())


def find_lost_comments(
    db: Database,
    *,
    grace_seconds: float,
    stale_seconds: float,
    queued: Collection[str] | None = None,
    limit: int = 5000,
) -> list[str]:
    """Pending comments never enqueued after ``grace_seconds``, or enqueued more than
    ``stale_seconds`` ago. With ``queued`` (every id on the list or in flight, read before this
    call, so that a batch is still in flight while its decisions are saved), also those recorded as
    enqueued more than ``grace_seconds`` ago that are in neither: their push never happened."""
    now = utcnow()
    with db.session(read_only=True) as session:
        lost = repo.lost_comment_ids(
            session,
            never_enqueued_before=now - timedelta(seconds=grace_seconds),
            enqueued_before=now - timedelta(seconds=stale_seconds),
            limit=limit,
        )
        if queued is not None:
            recorded = repo.enqueued_pending_ids(
                session,
                enqueued_before=now - timedelta(seconds=grace_seconds),
                enqueued_after=now - timedelta(seconds=stale_seconds),
                limit=limit,
            )
            lost += [comment_id for comment_id in recorded if comment_id not in queued]
        return lost


@dataclass
class Thread:
    comment: Comment
    #: The author's name as readers see it (``author_names.public_names``).
    author_name: str
    replies: list[Thread] = field(default_factory=list)


def published_threads(
    session: Session, site: Site, article_external_id: str, *, page: int, per_page: int
) -> tuple[int, list[Thread]]:
    """Published comments oldest first, replies nested; replies to unpublished comments stay hidden."""
    article = repo.article_by_external_id(session, site.id, article_external_id)
    if article is None:
        return 0, []
    comments = repo.published_comments(session, article.id)
    names = public_names(session, site.name, comments)
    threads = {c.id: Thread(c, names[c.id]) for c in comments}
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
    with db.session(read_only=True) as session:
        return repo.status_counts(session)
