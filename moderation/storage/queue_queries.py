"""Reads behind the moderators' queues: tabs, filters, sorting, counts and author histories.

Every query takes the list of visible site ids (``None`` for every site) so a moderator never
sees another site's comments, whatever the filters say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from moderation.storage.models import Article, Author, Comment, Report
from moderation.text import fold

#: Dashboard tabs: the comments each shows.
TABS = ("review", "reported", "pending", "published", "rejected")
ORDERS = ("oldest", "newest", "score")
SCORE_COLUMNS = {
    "toxicity": Comment.score_toxicity,
    "hate_speech": Comment.score_hate_speech,
    "spam": Comment.score_spam,
}


@dataclass(frozen=True)
class QueueFilter:
    tab: str = "review"
    order: str = "oldest"
    site_id: int | None = None
    #: The site's own article id.
    article: str | None = None
    #: An attribute (toxicity, hate_speech, spam) or a rule name (link, phone...) among the reasons.
    reason: str | None = None
    #: Score range, on ``score_attribute`` if set, else on the highest decision score.
    score_attribute: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    since: datetime | None = None
    until: datetime | None = None
    author: str | None = None
    author_id: int | None = None
    #: Searched accent-insensitively: "khong" finds "không".
    text: str | None = None
    #: A cluster of repeats or flood copies (its first comment's id).
    cluster: str | None = None


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _reported_ids() -> Select:
    return select(Report.comment_id).where(Report.resolved_at.is_(None))


def _base(site_ids: Sequence[int] | None, tab: str) -> Select:
    query = select(Comment)
    if tab == "reported":
        query = query.where(Comment.id.in_(_reported_ids()), Comment.status == "published")
    else:
        query = query.where(Comment.status == tab)
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(list(site_ids)))
    return query


def filtered(site_ids: Sequence[int] | None, f: QueueFilter) -> Select:
    query = _base(site_ids, f.tab)
    if f.site_id is not None:
        query = query.where(Comment.site_id == f.site_id)
    if f.article:
        query = query.join(Article, Article.id == Comment.article_id).where(Article.external_id == f.article)
    if f.reason:
        # JSON arrays serialise the same way on SQLite and PostgreSQL: look for the quoted name.
        query = query.where(
            cast(Comment.decision_reasons, String).like(f'%"{_like_escape(f.reason)}"%', escape="\\")
        )
    column = SCORE_COLUMNS.get(f.score_attribute or "", Comment.score_max)
    if f.min_score is not None:
        query = query.where(column >= f.min_score)
    if f.max_score is not None:
        query = query.where(column <= f.max_score)
    if f.since is not None:
        query = query.where(Comment.created_at >= f.since)
    if f.until is not None:
        query = query.where(Comment.created_at < f.until)
    if f.author_id is not None:
        query = query.where(Comment.author_id == f.author_id)
    if f.author:
        pattern = f"%{_like_escape(f.author.strip().lower())}%"
        query = query.join(Author, Author.id == Comment.author_id).where(
            func.lower(Author.name).like(pattern, escape="\\")
        )
    if f.cluster:
        query = query.where((Comment.cluster_id == f.cluster) | (Comment.id == f.cluster))
    if f.text and f.text.strip():
        query = query.where(Comment.search_text.like(f"%{_like_escape(fold(f.text.strip()))}%", escape="\\"))
    return query


def ordered(query: Select, order: str, score_attribute: str | None = None) -> Select:
    if order == "newest":
        return query.order_by(Comment.created_at.desc(), Comment.id.desc())
    if order == "score":
        column = SCORE_COLUMNS.get(score_attribute or "", Comment.score_max)
        return query.order_by(column.desc().nulls_last(), Comment.created_at, Comment.id)
    return query.order_by(Comment.created_at, Comment.id)


def page(
    session: Session, site_ids: Sequence[int] | None, f: QueueFilter, *, offset: int, limit: int
) -> tuple[int, list[Comment]]:
    query = filtered(site_ids, f)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = session.scalars(
        ordered(query, f.order, f.score_attribute)
        .options(
            joinedload(Comment.article),
            joinedload(Comment.author),
            selectinload(Comment.parent).joinedload(Comment.author),
        )
        .offset(offset)
        .limit(limit)
    ).all()
    return total, list(items)


def tab_counts(session: Session, site_ids: Sequence[int] | None) -> dict[str, int]:
    counts = dict.fromkeys(TABS, 0)
    query = select(Comment.status, func.count()).group_by(Comment.status)
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(list(site_ids)))
    for status, count in session.execute(query):
        if status in counts:
            counts[status] = count
    counts["reported"] = (
        session.scalar(select(func.count()).select_from(_base(site_ids, "reported").subquery())) or 0
    )
    return counts


@dataclass(frozen=True)
class AuthorHistory:
    total: int = 0
    published: int = 0
    rejected: int = 0
    review: int = 0


def author_histories(session: Session, author_ids: Sequence[int]) -> dict[int, AuthorHistory]:
    """Counts per author in one grouped query, for a whole page of comments."""
    ids = list(set(author_ids))
    if not ids:
        return {}
    counts: dict[int, dict[str, int]] = {author_id: {} for author_id in ids}
    rows = session.execute(
        select(Comment.author_id, Comment.status, func.count())
        .where(Comment.author_id.in_(ids))
        .group_by(Comment.author_id, Comment.status)
    )
    for author_id, status, count in rows:
        counts[author_id][status] = count
    return {
        author_id: AuthorHistory(
            total=sum(by_status.values()),
            published=by_status.get("published", 0),
            rejected=by_status.get("rejected", 0),
            review=by_status.get("review", 0),
        )
        for author_id, by_status in counts.items()
    }


def cluster_sizes(session: Session, cluster_ids: Sequence[str]) -> dict[str, int]:
    """How many comments each cluster holds (its first comment carries the cluster id too)."""
    ids = [c for c in set(cluster_ids) if c]
    if not ids:
        return {}
    rows = session.execute(
        select(Comment.cluster_id, func.count())
        .where(Comment.cluster_id.in_(ids))
        .group_by(Comment.cluster_id)
    )
    return dict(rows.all())


def open_report_reasons(session: Session, comment_ids: Sequence[str]) -> dict[str, list[str]]:
    """The reasons readers gave in their open reports, per comment."""
    if not comment_ids:
        return {}
    reasons: dict[str, list[str]] = {}
    rows = session.execute(
        select(Report.comment_id, Report.reason)
        .where(
            Report.comment_id.in_(list(comment_ids)), Report.resolved_at.is_(None), Report.reason.is_not(None)
        )
        .order_by(Report.created_at)
    )
    for comment_id, reason in rows:
        reasons.setdefault(comment_id, []).append(reason)
    return reasons


def open_report_counts(session: Session, comment_ids: Sequence[str]) -> dict[str, int]:
    if not comment_ids:
        return {}
    rows = session.execute(
        select(Report.comment_id, func.count())
        .where(Report.comment_id.in_(list(comment_ids)), Report.resolved_at.is_(None))
        .group_by(Report.comment_id)
    )
    return dict(rows.all())
