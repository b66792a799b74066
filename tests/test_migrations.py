"""The Alembic migrations build exactly the models' schema, and carry existing data forward."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from moderation.storage.migrate import upgrade
from moderation.storage.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin_url = make_url(request.getfixturevalue("postgresql_url")).set(database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"moderation_migrate_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_migrations_match_the_models(empty_database_url):
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_existing_sites_and_comments_survive_the_upgrade(empty_database_url):
    upgrade(empty_database_url, "0002")
    engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sites (id, name, api_key_prefix, api_key_hash, origins, created_at) "
                "VALUES (1, 'old', 'msk_abcdefgh', :hash, '[]', CURRENT_TIMESTAMP)"
            ),
            {"hash": "0" * 64},
        )
        connection.execute(
            text(
                "INSERT INTO authors (id, site_id, name, status, created_at) "
                "VALUES (1, 1, 'A', 'normal', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO articles (id, site_id, external_id, created_at) "
                "VALUES (1, 1, 'a1', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO comments (id, site_id, article_id, author_id, content, status, "
                "enqueue_attempts, created_at) "
                "VALUES ('c1', 1, 1, 1, 'Bình luận cũ', 'published', 0, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(empty_database_url)
    with engine.connect() as connection:
        widget_key = connection.execute(text("SELECT widget_key FROM sites WHERE id = 1")).scalar_one()
        content = connection.execute(text("SELECT content FROM comments WHERE id = 'c1'")).scalar_one()
        failed = connection.execute(text("SELECT failed_logins FROM moderators")).all()
    engine.dispose()
    assert widget_key.startswith("mwk_")
    assert content == "Bình luận cũ"
    assert failed == []
