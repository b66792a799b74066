"""scores, search text and reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("reporter_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_reports_comment_id_comments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["moderators.id"], name=op.f("fk_reports_resolved_by_moderators")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_reports_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_comment_id"), ["comment_id"], unique=False)
        batch_op.create_index("ix_reports_site_resolved", ["site_id", "resolved_at"], unique=False)

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score_toxicity", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("score_hate_speech", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("score_spam", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("score_max", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch_op.create_index("ix_comments_author_status", ["author_id", "status"], unique=False)
        batch_op.create_index(
            "ix_comments_site_status_score", ["site_id", "status", "score_max"], unique=False
        )

    _backfill()


def _backfill() -> None:
    """Fill the new columns of existing comments from their content and stored analysis."""
    from moderation.scoring.types import decision_scores
    from moderation.text import fold

    comments = sa.table(
        "comments",
        sa.column("id", sa.String),
        sa.column("content", sa.Text),
        sa.column("analysis", sa.JSON),
        sa.column("search_text", sa.Text),
        sa.column("score_toxicity", sa.Float),
        sa.column("score_hate_speech", sa.Float),
        sa.column("score_spam", sa.Float),
        sa.column("score_max", sa.Float),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(comments.c.id, comments.c.content, comments.c.analysis)).all()
    for comment_id, content, analysis in rows:
        values: dict = {"search_text": fold(content or "")}
        if analysis:
            scores = decision_scores(analysis)
            values.update({f"score_{name}": value for name, value in scores.items()})
            values["score_max"] = max(scores.values())
        connection.execute(sa.update(comments).where(comments.c.id == comment_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_site_status_score")
        batch_op.drop_index("ix_comments_author_status")
        batch_op.drop_column("search_text")
        batch_op.drop_column("score_max")
        batch_op.drop_column("score_spam")
        batch_op.drop_column("score_hate_speech")
        batch_op.drop_column("score_toxicity")

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_site_resolved")
        batch_op.drop_index(batch_op.f("ix_reports_comment_id"))

    op.drop_table("reports")
