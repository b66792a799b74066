"""The reference for the web tier's cost: the least a posting endpoint can do on this stack.

A minimal Flask app, served by gunicorn with ``moderation up``'s own settings
(``moderation.supervisor.web_argv``): ``POST /api/v1/comments`` parses the JSON body, inserts one
row with SQLAlchemy Core (SQLite in WAL mode, or PostgreSQL) and pushes one item on a Redis list,
then answers 202 with an id, as the real endpoint does. No authentication, validation, anti-abuse
or ORM: ``bench/bench_e2e.py`` divides the real posting path's CPU per comment by this one's.

``REFERENCE_DATABASE_URL`` and ``REFERENCE_REDIS_URL`` configure it (``bench_e2e`` sets them).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import redis
from flask import Flask, jsonify, request
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, create_engine, event, insert

metadata = MetaData()
comments = Table(
    "reference_comments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("article_id", String(200), nullable=False),
    Column("author", String(80), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 (driver objects)
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    dbapi_connection.execute("PRAGMA busy_timeout=30000")


def create_app() -> Flask:
    url = os.environ["REFERENCE_DATABASE_URL"]
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    metadata.create_all(engine)
    queue = redis.Redis.from_url(os.environ["REFERENCE_REDIS_URL"])
    app = Flask(__name__)

    @app.post("/api/v1/comments")
    def post_comment():  # noqa: ANN202
        body = request.get_json()
        comment_id = uuid.uuid4().hex
        with engine.begin() as connection:
            connection.execute(
                insert(comments).values(
                    id=comment_id,
                    article_id=body["article_id"],
                    author=body["author"]["name"],
                    content=body["content"],
                    created_at=datetime.now(UTC),
                )
            )
        queue.rpush("reference:pending", comment_id)
        return jsonify({"id": comment_id, "status": "pending"}), 202

    @app.get("/healthz")
    def healthz():  # noqa: ANN202
        return jsonify({"status": "ok"})

    return app
