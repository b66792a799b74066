"""The database a benchmark writes to: SQLite in its temp dir, or a private schema in PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import text

from moderation.settings import Settings
from moderation.storage.db import Database


def private_database(requested: str | None, workdir: Path) -> tuple[str, str | None]:
    """(database URL, PostgreSQL schema to drop afterwards or None)."""
    database_url = Settings.from_env(
        {"DATABASE_URL": requested or f"sqlite:///{workdir / 'bench.db'}"}
    ).database_url
    if not database_url.startswith("postgresql"):
        return database_url, None
    # A private schema keeps the benchmark away from whatever else lives in that database.
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = Database(database_url)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return database_url + ("&" if "?" in database_url else "?") + f"options=-csearch_path%3D{schema}", schema


def drop_private_schema(requested: str | None, schema: str | None) -> None:
    if schema is None:
        return
    admin = Database(Settings.from_env({"DATABASE_URL": requested}).database_url)
    with admin.engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
