"""widget key, anti-abuse settings, near-duplicate clusters, bans

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["authors.id"], name=op.f("fk_bans_author_id_authors"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["moderators.id"], name=op.f("fk_bans_created_by_moderators")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_bans_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bans")),
        sa.UniqueConstraint("site_id", "kind", "value", name="uq_bans_site_kind_value"),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cluster_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_comments_cluster_id"), ["cluster_id"], unique=False)

    with op.batch_alter_table("site_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("abuse", sa.JSON(), nullable=True))

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("widget_key", sa.String(length=40), nullable=True))
    # Existing sites get a widget key of their own before the column becomes required.
    sites = sa.table("sites", sa.column("id", sa.Integer), sa.column("widget_key", sa.String))
    connection = op.get_bind()
    for (site_id,) in connection.execute(sa.select(sites.c.id)).all():
        key = "mwk_" + secrets.token_urlsafe(18)
        connection.execute(sa.update(sites).where(sites.c.id == site_id).values(widget_key=key))
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.alter_column("widget_key", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_sites_widget_key"), ["widget_key"])


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sites_widget_key"), type_="unique")
        batch_op.drop_column("widget_key")

    with op.batch_alter_table("site_policies", schema=None) as batch_op:
        batch_op.drop_column("abuse")

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_cluster_id"))
        batch_op.drop_column("cluster_id")

    op.drop_table("bans")
