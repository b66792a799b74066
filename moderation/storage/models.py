"""The relational schema (SQLAlchemy 2 declarative models), shared by SQLite and PostgreSQL.

Alembic migrations under ``migrations/`` create it; the models never create tables themselves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from moderation.timezones import DEFAULT_TIMEZONE

COMMENT_STATUSES = ("pending", "published", "review", "rejected")
MODERATOR_ROLES = ("moderator", "admin")
AUTHOR_STATUSES = ("normal", "trusted", "banned")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=naming_convention)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    #: First characters of the API key, to find the site before the constant-time hash compare.
    api_key_prefix: Mapped[str] = mapped_column(String(16), index=True)
    api_key_hash: Mapped[str] = mapped_column(String(64))
    #: The public key the widget puts in pages: it can only post comments and read published ones.
    widget_key: Mapped[str] = mapped_column(String(40), unique=True)
    origins: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The model version that decides this site's comments (None: the installed default).
    model_version: Mapped[str | None] = mapped_column(String(40))
    #: A candidate scoring beside the live model without deciding anything (shadow mode).
    shadow_version: Mapped[str | None] = mapped_column(String(40))
    #: The IANA zone the site's times are shown in, dashboard and widget (``moderation.timezones``).
    timezone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE
    )

    policy: Mapped[SitePolicy | None] = relationship(back_populates="site", uselist=False)


class SitePolicy(Base):
    """Per-site thresholds, word lists and rule actions (JSON of ``scoring.policy.Policy``)."""

    __tablename__ = "site_policies"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Anti-abuse settings at the door (rate limits, honeypot, duplicates, floods, bans).
    abuse: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Learning-loop settings (``services.learning.LearningSettings``): retraining schedule, guard.
    learning: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship(back_populates="policy")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("site_id", "external_id", name="uq_articles_site_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    #: The site's own article id, as the site sends it.
    external_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Author(Base):
    __tablename__ = "authors"
    __table_args__ = (Index("ix_authors_site_email", "site_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="normal")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_site_status_created", "site_id", "status", "created_at"),
        Index("ix_comments_article_status_created", "article_id", "status", "created_at"),
        Index("ix_comments_status_enqueued", "status", "enqueued_at"),
        Index("ix_comments_site_status_score", "site_id", "status", "score_max"),
        Index("ix_comments_author_status", "author_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model_version: Mapped[str | None] = mapped_column(String(40))
    #: "model" or "moderator": who made the current decision.
    decided_by: Mapped[str | None] = mapped_column(String(16))
    decision_reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    #: Copies of the analysis' decision scores, as columns so queues filter and sort on them.
    score_toxicity: Mapped[float | None] = mapped_column(Float)
    score_hate_speech: Mapped[float | None] = mapped_column(Float)
    score_spam: Mapped[float | None] = mapped_column(Float)
    score_max: Mapped[float | None] = mapped_column(Float)
    #: The content folded (lower case, no diacritics) for accent-insensitive search.
    search_text: Mapped[str | None] = mapped_column(Text)
    #: The first comment of a group of near duplicates (repeats or a flood), for one-click action.
    cluster_id: Mapped[str | None] = mapped_column(String(32), index=True)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the comment was last handed to the queue; NULL while it never was.
    enqueued_at: Mapped[datetime | None] = mapped_column()
    enqueue_attempts: Mapped[int] = mapped_column(Integer, default=0)
    scored_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()

    article: Mapped[Article] = relationship()
    author: Mapped[Author] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side="Comment.id")


class Report(Base):
    """A reader's report of a published comment ("Báo cáo vi phạm")."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_site_resolved", "site_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    reason: Mapped[str | None] = mapped_column(String(200))
    reporter_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))


class Ban(Base):
    """A ban at the door: comments matching it are held or rejected without scoring."""

    __tablename__ = "bans"
    __table_args__ = (UniqueConstraint("site_id", "kind", "value", name="uq_bans_site_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    #: "email", "ip" or "name_ip" (value "name|ip").
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(400))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Moderator(Base):
    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="moderator")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Consecutive failed sign-ins; at the limit the account locks until ``locked_until``.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sites: Mapped[list[Site]] = relationship(secondary="moderator_sites")


class ModeratorSite(Base):
    """Sites a moderator may act on; a moderator with none covers every site."""

    __tablename__ = "moderator_sites"

    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)


class AuditEntry(Base):
    """Who did what, when and why; written in the same transaction as the action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    #: "moderator:<username>", "model:<version>" or "system".
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[str | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Label(Base):
    """What a moderator's decision says about one attribute of one comment, for retraining.

    ``text`` is the comment as it was scored and ``model_version`` the model that scored it, so a
    label stays meaningful after the comment is edited or the model replaced.
    """

    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("comment_id", "attribute", name="uq_labels_comment_attribute"),
        Index("ix_labels_site_created", "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(16))
    #: 0 or 1; hate_speech: 0 clean, 1 offensive, 2 hate.
    value: Mapped[int] = mapped_column(Integer)
    #: ``approve``, ``reject`` or ``report`` (a reader's report upheld).
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(40))
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id", ondelete="SET NULL"))
    #: The audit batch of the decision, so undoing it removes its labels.
    batch: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    """A model version trained for a site (a candidate until promoted) with its comparison report."""

    __tablename__ = "model_versions"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    base_version: Mapped[str | None] = mapped_column(String(40))
    #: ``candidate``, ``refused`` (by the guard), ``live`` or ``retired``.
    status: Mapped[str] = mapped_column(String(16))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelDeployment(Base):
    """One promotion of a version for a site; a rollback marks the latest and restores the one before."""

    __tablename__ = "model_deployments"
    __table_args__ = (Index("ix_model_deployments_site", "site_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    #: None: back to the installed default model.
    version: Mapped[str | None] = mapped_column(String(40))
    previous: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    rolled_back_at: Mapped[datetime | None] = mapped_column()


class ShadowScore(Base):
    """What a shadow candidate would have decided for a comment (it decides nothing)."""

    __tablename__ = "shadow_scores"
    __table_args__ = (Index("ix_shadow_scores_site_version", "site_id", "version"),)

    comment_id: Mapped[str] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(8))
    live_decision: Mapped[str | None] = mapped_column(String(8))
    reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
