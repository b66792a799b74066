"""learning loop: moderator labels, model versions, deployments, shadow scores

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("attribute", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=True),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("batch", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_labels_comment_id_comments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["moderators.id"],
            name=op.f("fk_labels_moderator_id_moderators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_labels_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint("comment_id", "attribute", name="uq_labels_comment_attribute"),
    )
    op.create_index("ix_labels_site_created", "labels", ["site_id", "created_at"], unique=False)
    op.create_table(
        "model_versions",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("base_version", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_model_versions_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_model_versions")),
    )
    op.create_table(
        "model_deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=True),
        sa.Column("previous", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rolled_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_model_deployments_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_deployments")),
    )
    op.create_index("ix_model_deployments_site", "model_deployments", ["site_id", "id"], unique=False)
    op.create_table(
        "shadow_scores",
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("live_decision", sa.String(length=8), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_shadow_scores_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_shadow_scores_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("comment_id", "version", name=op.f("pk_shadow_scores")),
    )
    op.create_index("ix_shadow_scores_site_version", "shadow_scores", ["site_id", "version"], unique=False)
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_version", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("shadow_version", sa.String(length=40), nullable=True))
    with op.batch_alter_table("site_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learning", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site_policies", schema=None) as batch_op:
        batch_op.drop_column("learning")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("shadow_version")
        batch_op.drop_column("model_version")
    op.drop_index("ix_shadow_scores_site_version", table_name="shadow_scores")
    op.drop_table("shadow_scores")
    op.drop_index("ix_model_deployments_site", table_name="model_deployments")
    op.drop_table("model_deployments")
    op.drop_table("model_versions")
    op.drop_index("ix_labels_site_created", table_name="labels")
    op.drop_table("labels")
