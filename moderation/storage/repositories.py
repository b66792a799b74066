"""Queries and writes over the schema; no business rules beyond keeping rows consistent."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Text, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from moderation.storage import driver
from moderation.storage.models import (
    COMMENT_STATUSES,
    Article,
    AuditEntry,
    Author,
    Ban,
    Comment,
    Moderator,
    ModeratorSite,
    Report,
    ShadowScore,
    Site,
    SitePolicy,
    UTCDateTime,
    utcnow,
)


def site_by_name(session: Session, name: str) -> Site | None:
    return session.scalar(select(Site).where(Site.name == name))


def site_by_widget_key(session: Session, widget_key: str) -> Site | None:
    return session.scalar(select(Site).where(Site.widget_key == widget_key))


def sites_by_key_prefix(session: Session, prefix: str) -> Sequence[Site]:
    return session.scalars(select(Site).where(Site.api_key_prefix == prefix)).all()


def policy_settings(session: Session, site_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(set(site_ids))
    if not ids:
        return {}
    rows = session.execute(select(SitePolicy.site_id, SitePolicy.settings).where(SitePolicy.site_id.in_(ids)))
    return {site_id: settings or {} for site_id, settings in rows}


#: The scoring batch's statements, built once: building them cost a worker as much as running them.
_AUTHOR_RECORDS = (
    select(Comment.author_id, Comment.status, func.count())
    .where(
        Comment.author_id.in_(bindparam("ids", expanding=True)),
        Comment.status.in_(("published", "rejected")),
    )
    .group_by(Comment.author_id, Comment.status)
)
_PENDING_FOR_SCORING = (
    select(
        Comment.id,
        Comment.site_id,
        Comment.content,
        Comment.author_id,
        Author.status,
        Comment.decision_reasons,
        Comment.cluster_id,
    )
    .join(Author, Author.id == Comment.author_id)
    .where(Comment.id.in_(bindparam("ids", expanding=True)), Comment.status == "pending")
)
_SITE_SCORING_CONFIGS = (
    select(Site.id, SitePolicy.settings, SitePolicy.abuse, Site.model_version, Site.shadow_version)
    .outerjoin(SitePolicy, SitePolicy.site_id == Site.id)
    .where(Site.id.in_(bindparam("ids", expanding=True)))
)


def author_records(session: Session, author_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(published, rejected) comment counts per author, in one grouped query."""
    ids = list(set(author_ids))
    records = dict.fromkeys(ids, (0, 0))
    if not ids:
        return records
    rows = session.execute(_AUTHOR_RECORDS, {"ids": ids})
    for author_id, status, count in rows:
        published, rejected = records[author_id]
        records[author_id] = (count, rejected) if status == "published" else (published, count)
    return records


def policy_row(session: Session, site_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A site's policy settings and anti-abuse settings (empty when never set)."""
    row = session.get(SitePolicy, site_id)
    return (row.settings or {}, row.abuse or {}) if row else ({}, {})


def save_abuse_settings(session: Session, site_id: int, abuse: dict[str, Any]) -> None:
    row = session.get(SitePolicy, site_id)
    if row is None:
        session.add(SitePolicy(site_id=site_id, settings={}, abuse=abuse))
    else:
        row.abuse = abuse
    session.flush()


def save_policy_settings(session: Session, site_id: int, settings: dict[str, Any]) -> None:
    row = session.get(SitePolicy, site_id)
    if row is None:
        session.add(SitePolicy(site_id=site_id, settings=settings))
    else:
        row.settings = settings
    session.flush()


#: Statements of the posting hot path, built once (building them cost more than running them).
_ARTICLE = select(Article.id, Article.title, Article.url).where(
    Article.site_id == bindparam("site_id"), Article.external_id == bindparam("external_id")
)
_AUTHOR_WITH_EMAIL = (
    select(Author.id, Author.status)
    .where(
        Author.site_id == bindparam("site_id"),
        Author.name == bindparam("name"),
        Author.email == bindparam("email"),
    )
    .order_by(Author.id)
    .limit(1)
)
_AUTHOR_WITHOUT_EMAIL = (
    select(Author.id, Author.status)
    .where(Author.site_id == bindparam("site_id"), Author.name == bindparam("name"), Author.email.is_(None))
    .order_by(Author.id)
    .limit(1)
)
_INSERT_AUTHOR = insert(Author).returning(Author.id)
#: SQLite: add the author unless found (the insert of an author a read just did not find, in one
#: statement under the write lock instead of a lookup and an insert).
_SQLITE_ADD_AUTHOR_UNLESS_FOUND = text(
    """
INSERT INTO authors (site_id, name, email, status, created_at)
SELECT :site_id, :name, :email, 'normal', :created_at
WHERE NOT EXISTS (SELECT 1 FROM authors WHERE site_id = :site_id AND name = :name AND email IS :email)
RETURNING id
"""
).bindparams(bindparam("created_at", type_=UTCDateTime()))
#: PostgreSQL: find the author or add them in one statement (one round trip per post, not two).
_AUTHOR_FOUND_OR_MADE = """
WITH found AS (
    SELECT id, status FROM authors
    WHERE site_id = :site_id AND name = :name AND {email_match} ORDER BY id LIMIT 1
), made AS (
    INSERT INTO authors (site_id, name, email, status, created_at)
    SELECT CAST(:site_id AS INTEGER), CAST(:name AS VARCHAR), CAST(:email AS VARCHAR), 'normal',
        CAST(:created_at AS TIMESTAMP WITH TIME ZONE)
    WHERE NOT EXISTS (SELECT 1 FROM found)
    RETURNING id, status
)
SELECT id, status FROM found UNION ALL SELECT id, status FROM made
"""
_PG_AUTHOR_WITH_EMAIL = text(_AUTHOR_FOUND_OR_MADE.format(email_match="email = :email"))
_PG_AUTHOR_WITHOUT_EMAIL = text(_AUTHOR_FOUND_OR_MADE.format(email_match="email IS NULL"))
_COMMENT_COLUMNS = tuple(column.key for column in Comment.__table__.columns)


class AuthorRef(NamedTuple):
    """What posting needs of an author: who, and in what standing (``id`` None: not stored yet)."""

    id: int | None
    site_id: int
    name: str
    email: str | None
    status: str


def find_article_id(session: Session, site_id: int, external_id: str) -> int | None:
    row = session.connection().execute(_ARTICLE, {"site_id": site_id, "external_id": external_id}).first()
    return row.id if row is not None else None


def get_or_create_article(
    session: Session, site_id: int, external_id: str, title: str | None, url: str | None
) -> int:
    """The id of the site's article, creating it; concurrent first posts may race on the insert.

    The insert skips a conflicting row (``ON CONFLICT DO NOTHING``, on both backends) instead of
    failing: on PostgreSQL a failed statement aborts the request's whole transaction (a SAVEPOINT
    through the session did not shield it: three concurrent first posts answered 500,
    tests/faults/test_supervision.py found it).
    """
    connection = session.connection()
    key = {"site_id": site_id, "external_id": external_id}
    row = connection.execute(_ARTICLE, key).first()
    if row is None:
        insert_for = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        made = connection.execute(
            insert_for(Article)
            .values(site_id=site_id, external_id=external_id, title=title, url=url, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["site_id", "external_id"])
            .returning(Article.id)
        ).scalar()
        if made is not None:
            return int(made)
        row = connection.execute(_ARTICLE, key).first()
        if row is None:
            raise LookupError(f"article {external_id!r} of site {site_id} vanished while being created")
    changes = {k: v for k, v in (("title", title), ("url", url)) if v and getattr(row, k) != v}
    if changes:
        connection.execute(update(Article).where(Article.id == row.id).values(**changes))
    return row.id


def article_by_external_id(session: Session, site_id: int, external_id: str) -> Article | None:
    return session.scalar(
        select(Article).where(Article.site_id == site_id, Article.external_id == external_id)
    )


def find_author(session: Session, site_id: int, name: str, email: str | None) -> AuthorRef | None:
    """The author posting under this name and e-mail, if known: a read (on SQLite no write lock)."""
    params = {"site_id": site_id, "name": name, "email": email}
    row = session.connection().execute(_AUTHOR_WITH_EMAIL if email else _AUTHOR_WITHOUT_EMAIL, params).first()
    return AuthorRef(row.id, site_id, name, email, row.status) if row is not None else None


def get_or_create_author(session: Session, site_id: int, name: str, email: str | None) -> AuthorRef:
    connection = session.connection()
    params = {"site_id": site_id, "name": name, "email": email}
    if connection.dialect.name == "postgresql":
        statement = _PG_AUTHOR_WITH_EMAIL if email else _PG_AUTHOR_WITHOUT_EMAIL
        row = connection.execute(statement, {**params, "created_at": utcnow()}).one()
        return AuthorRef(row.id, site_id, name, email, row.status)
    found = find_author(session, site_id, name, email)
    if found is not None:
        return found
    author_id = connection.execute(
        _INSERT_AUTHOR,
        {"site_id": site_id, "name": name, "email": email, "status": "normal", "created_at": utcnow()},
    ).scalar_one()
    return AuthorRef(author_id, site_id, name, email, "normal")


def add_author_unless_found(session: Session, site_id: int, name: str, email: str | None) -> AuthorRef:
    """``get_or_create_author``, for an author who is probably new: on SQLite one INSERT … WHERE NOT
    EXISTS under the write lock, then a read only if another post added them (other databases:
    ``get_or_create_author`` itself)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return get_or_create_author(session, site_id, name, email)
    params = {"site_id": site_id, "name": name, "email": email, "created_at": utcnow()}
    made = connection.execute(_SQLITE_ADD_AUTHOR_UNLESS_FOUND, params).scalar()
    if made is not None:
        return AuthorRef(made, site_id, name, email, "normal")
    found = find_author(session, site_id, name, email)  # added by another post since the read
    if found is None:
        raise LookupError(f"author {name!r} of site {site_id} neither found nor added")
    return found


def insert_comment_row(session: Session, row: dict[str, Any]) -> None:
    """INSERT a new comment from its column values, on the driver's cursor (``storage.driver``).

    Every column the model gives a default must be in ``row``; a missing or None value is SQL NULL.
    """
    connection = session.connection()
    driver.prepared_insert(Comment.__table__, connection.dialect).execute(connection, row)


def insert_comment(session: Session, comment: Comment) -> None:
    """INSERT a new (transient) comment with one prebuilt statement, then attach it to the session.

    The unit of work's flush of one new object cost a posting request more CPU than the database
    did. Every column is given a value, so the attached object is complete: changes made to it
    later in the session are flushed as an UPDATE, as for any loaded comment.
    """
    row = {key: getattr(comment, key) for key in _COMMENT_COLUMNS}
    insert_comment_row(session, row)
    # Only columns never assigned are missing; once detached they would read as expired (a SELECT).
    for key, value in row.items():
        if key not in comment.__dict__:
            setattr(comment, key, value)
    make_transient_to_detached(comment)
    session.add(comment)


def mark_enqueued(session: Session, comment_ids: Sequence[str], at: datetime) -> None:
    if not comment_ids:
        return
    session.execute(
        update(Comment)
        .where(Comment.id.in_(list(comment_ids)), Comment.status == "pending")
        .values(enqueued_at=at, enqueue_attempts=Comment.enqueue_attempts + 1)
    )


class PendingComment(NamedTuple):
    id: str
    site_id: int
    content: str
    author_id: int
    author_status: str
    #: The door's context rules (``duplicate``, ``flood``, ``banned_author``), kept while pending.
    door_rules: list[Any] | None = None
    cluster_id: str | None = None


class RejectedMember(NamedTuple):
    id: str
    cluster_id: str | None
    content: str
    reasons: list[Any] | None
    decided_by: str | None


def rejected_cluster_members(session: Session, cluster_ids: Sequence[str]) -> list[RejectedMember]:
    """The rejected comments of these clusters of repeats or floods, for their copies to follow."""
    ids = sorted(set(cluster_ids))
    if not ids:
        return []
    rows = session.execute(
        select(
            Comment.id, Comment.cluster_id, Comment.content, Comment.decision_reasons, Comment.decided_by
        ).where(or_(Comment.cluster_id.in_(ids), Comment.id.in_(ids)), Comment.status == "rejected")
    )
    return [RejectedMember(*row) for row in rows]


def unmark_enqueued(session: Session, comment_ids: Sequence[str]) -> None:
    session.execute(
        update(Comment)
        .where(Comment.id.in_(list(comment_ids)), Comment.status == "pending")
        .values(enqueued_at=None, enqueue_attempts=Comment.enqueue_attempts - 1)
    )


def pending_for_scoring(session: Session, comment_ids: Sequence[str]) -> list[PendingComment]:
    if not comment_ids:
        return []
    rows = session.execute(_PENDING_FOR_SCORING, {"ids": list(comment_ids)})
    return [PendingComment(*row) for row in rows]


def _decisions_statement(serialized: bool) -> Any:
    table = Comment.__table__
    json_param = (lambda name: bindparam(name, type_=Text)) if serialized else bindparam
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.status == "pending")
        .values(
            status=bindparam("b_status"),
            analysis=json_param("b_analysis"),
            model_version=bindparam("b_model_version"),
            decided_by="model",
            decision_reasons=json_param("b_reasons"),
            scored_at=bindparam("b_at"),
            decided_at=bindparam("b_at"),
            score_toxicity=bindparam("b_toxicity"),
            score_hate_speech=bindparam("b_hate_speech"),
            score_spam=bindparam("b_spam"),
            score_max=bindparam("b_max"),
        )
    )


_SAVE_DECISIONS = _decisions_statement(serialized=False)
_SAVE_SERIALIZED_DECISIONS = _decisions_statement(serialized=True)


def serialize_decisions(decisions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON columns as text, made before the transaction: on SQLite the batch's UPDATE then holds
    the one write lock only for the database's own work (the web's posts wait for that lock), not
    for encoding 256 analyses. Stored exactly as the JSON type stores them (``json.dumps``)."""
    return [
        {**row, "b_analysis": json.dumps(row["b_analysis"]), "b_reasons": json.dumps(row["b_reasons"])}
        for row in decisions
    ]


def save_model_decisions(
    session: Session, decisions: Sequence[dict[str, Any]], *, serialized: bool = False
) -> int:
    """Write scored results in one executemany; only comments still pending change.

    The ``status == 'pending'`` guard makes scoring idempotent: a comment scored twice (a job
    retried after a crash) or decided by a moderator first keeps its first decision. With
    ``serialized``, the rows come from ``serialize_decisions`` (SQLite only: PostgreSQL's JSON
    parameters are typed).
    """
    if not decisions:
        return 0
    statement = _SAVE_SERIALIZED_DECISIONS if serialized else _SAVE_DECISIONS
    result = session.connection().execute(statement, list(decisions))
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(decisions)


def lost_comment_ids(
    session: Session, *, never_enqueued_before: datetime, enqueued_before: datetime, limit: int
) -> list[str]:
    """Pending comments whose enqueue never happened, or whose job never finished."""
    rows = session.scalars(
        select(Comment.id)
        .where(
            Comment.status == "pending",
            or_(
                (Comment.enqueued_at.is_(None)) & (Comment.created_at < never_enqueued_before),
                Comment.enqueued_at < enqueued_before,
            ),
        )
        .order_by(Comment.created_at)
        .limit(limit)
    )
    return list(rows)


def enqueued_pending_ids(
    session: Session, *, enqueued_before: datetime, enqueued_after: datetime, limit: int
) -> list[str]:
    """Pending comments recorded as enqueued in this window, the most recent first: the ones to
    look for on the queue, since a web process killed between its commit and its push leaves one
    that is recorded as enqueued but is on no list."""
    rows = session.scalars(
        select(Comment.id)
        .where(
            Comment.status == "pending",
            Comment.enqueued_at < enqueued_before,
            Comment.enqueued_at >= enqueued_after,
        )
        .order_by(Comment.enqueued_at.desc())
        .limit(limit)
    )
    return list(rows)


def published_comments(session: Session, article_id: int) -> Sequence[Comment]:
    return session.scalars(
        select(Comment)
        .where(Comment.article_id == article_id, Comment.status == "published")
        .order_by(Comment.created_at, Comment.id)
    ).all()


def newsroom_reply_ids(session: Session, comment_ids: Sequence[str]) -> set[str]:
    """Which of these comments a moderator published as the newsroom's reply."""
    query = select(AuditEntry.comment_id).where(
        AuditEntry.action == "newsroom_reply", AuditEntry.comment_id.in_(list(comment_ids))
    )
    return {comment_id for comment_id in session.scalars(query) if comment_id is not None}


def comment_in_site(session: Session, comment_id: str, site_ids: Sequence[int] | None) -> Comment | None:
    query = select(Comment).where(Comment.id == comment_id)
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(list(site_ids)))
    return session.scalar(query)


def comments_by_status(
    session: Session,
    *,
    status: str,
    site_ids: Sequence[int] | None,
    newest_first: bool,
    offset: int,
    limit: int,
) -> tuple[int, Sequence[Comment]]:
    query = select(Comment).where(Comment.status == status)
    count = select(func.count()).select_from(Comment).where(Comment.status == status)
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(list(site_ids)))
        count = count.where(Comment.site_id.in_(list(site_ids)))
    order = (
        (Comment.created_at.desc(), Comment.id.desc()) if newest_first else (Comment.created_at, Comment.id)
    )
    items = session.scalars(query.order_by(*order).offset(offset).limit(limit)).all()
    return session.scalar(count) or 0, items


def set_moderator_decision(
    session: Session,
    comment: Comment,
    *,
    expected_status: str,
    expected_decided_by: str | None,
    status: str,
    reasons: list[str],
    at: datetime,
) -> bool:
    """Compare-and-set, so two moderators acting at once cannot both win silently."""
    condition = (
        Comment.decided_by.is_(None)
        if expected_decided_by is None
        else (Comment.decided_by == expected_decided_by)
    )
    result = session.execute(
        update(Comment)
        .where(Comment.id == comment.id, Comment.status == expected_status, condition)
        .values(status=status, decided_by="moderator", decision_reasons=reasons, decided_at=at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def open_report_from(session: Session, comment_id: str, reporter_ip: str) -> bool:
    return (
        session.scalar(
            select(Report.id)
            .where(
                Report.comment_id == comment_id,
                Report.reporter_ip == reporter_ip,
                Report.resolved_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def author_ban_ids(session: Session, author_id: int) -> list[int]:
    return list(session.scalars(select(Ban.id).where(Ban.author_id == author_id)))


def delete_bans(session: Session, ban_ids: Sequence[int]) -> None:
    if ban_ids:
        session.execute(delete(Ban).where(Ban.id.in_(list(ban_ids))))


def add_bans_for_author(session: Session, author: Author, moderator_id: int, reason: str | None) -> list[int]:
    """Ban the author's email, or their name with the addresses of their latest comments."""
    if author.email:
        values = [("email", author.email.lower())]
    else:
        addresses = session.scalars(
            select(Comment.client_ip)
            .where(Comment.author_id == author.id, Comment.client_ip.is_not(None))
            .order_by(Comment.created_at.desc())
            .limit(5)
        )
        values = [("name_ip", f"{author.name.strip().lower()}|{ip}") for ip in dict.fromkeys(addresses)]
    created = []
    for kind, value in values:
        existing = session.scalar(
            select(Ban).where(Ban.site_id == author.site_id, Ban.kind == kind, Ban.value == value)
        )
        if existing is None:
            ban = Ban(
                site_id=author.site_id,
                kind=kind,
                value=value,
                author_id=author.id,
                reason=reason,
                created_by=moderator_id,
            )
            session.add(ban)
            session.flush()
            created.append(ban.id)
    return created


def add_audit(session: Session, **values: Any) -> AuditEntry:
    entry = AuditEntry(**values)
    session.add(entry)
    return entry


def status_counts(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(COMMENT_STATUSES, 0)
    for status, count in session.execute(select(Comment.status, func.count()).group_by(Comment.status)):
        counts[status] = count
    return counts


def moderator_by_username(session: Session, username: str) -> Moderator | None:
    return session.scalar(select(Moderator).where(Moderator.username == username))


def moderator_site_ids(session: Session, moderator_id: int) -> list[int]:
    return list(
        session.scalars(select(ModeratorSite.site_id).where(ModeratorSite.moderator_id == moderator_id))
    )


class SiteScoringConfig(NamedTuple):
    """What scoring needs of a site, read in one query per batch."""

    policy: dict[str, Any]
    abuse: dict[str, Any]
    live_version: str | None
    shadow_version: str | None


def site_scoring_configs(session: Session, site_ids: Iterable[int]) -> dict[int, SiteScoringConfig]:
    """Each site's policy, anti-abuse settings and model versions (a site may have no policy row)."""
    ids = list(set(site_ids))
    if not ids:
        return {}
    rows = session.execute(_SITE_SCORING_CONFIGS, {"ids": ids})
    return {
        site_id: SiteScoringConfig(settings or {}, abuse or {}, live, shadow)
        for site_id, settings, abuse, live, shadow in rows
    }


def save_shadow_scores(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store shadow decisions, replacing any earlier ones for the same comment and version."""
    for version in {row["version"] for row in rows}:
        ids = [row["comment_id"] for row in rows if row["version"] == version]
        session.execute(
            delete(ShadowScore).where(ShadowScore.version == version, ShadowScore.comment_id.in_(ids))
        )
    session.execute(insert(ShadowScore), list(rows))
