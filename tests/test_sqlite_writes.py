"""SQLite's one writer: read-only sessions never wait for it; within a process writers queue on a
Python lock, between processes they wait with short sleeps of our own (not SQLite's busy handler),
and give up with ``StorageUnavailable``; a failed write never leaves the lock taken. And the
posting path that relies on it: concurrent posts all stored once, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from moderation.errors import StorageUnavailable
from moderation.storage import db as db_module
from moderation.storage.db import Database, writer_turns
from moderation.storage.models import Article, Author, Comment


@pytest.fixture
def two(tmp_path):
    url = f"sqlite:///{tmp_path / 'writes.db'}"
    first, second = Database(url), Database(url)
    with first.session() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    yield first, second
    first.dispose()
    second.dispose()


def hold_write_lock(database: Database, seconds: float, holding: threading.Event) -> threading.Thread:
    def run() -> None:
        with database.session() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            time.sleep(seconds)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_read_only_session_neither_waits_for_nor_sees_an_uncommitted_write(two):
    first, second = two
    holding = threading.Event()
    writer = hold_write_lock(first, 1.0, holding)
    holding.wait(5)
    started = time.monotonic()
    with second.session(read_only=True) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
    assert time.monotonic() - started < 0.5, "the read waited for the writer"
    second.ping()
    assert time.monotonic() - started < 0.5, "the readiness ping waited for the writer"
    writer.join()


def test_a_writer_waits_for_the_lock_then_writes(two):
    first, second = two
    holding = threading.Event()
    writer = hold_write_lock(first, 0.3, holding)
    holding.wait(5)
    with second.session() as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
    writer.join()
    with second.session(read_only=True) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_writer_gives_up_after_the_lock_timeout(two, monkeypatch):
    first, second = two
    monkeypatch.setattr(db_module, "WRITE_LOCK_TIMEOUT", 0.2)
    holding = threading.Event()
    writer = hold_write_lock(first, 1.0, holding)
    holding.wait(5)
    with pytest.raises(StorageUnavailable), second.session() as session:
        session.execute(text("INSERT INTO t VALUES (3)"))
    writer.join()
    with second.session() as session:  # the connection is usable again, busy timeout restored
        session.execute(text("INSERT INTO t VALUES (4)"))
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == db_module.BUSY_TIMEOUT_MS


def test_two_engines_of_one_file_share_one_writer_queue(two):
    first, second = two
    path = first.engine.url.database
    assert writer_turns(path) is writer_turns(path)
    holding = threading.Event()
    writer = hold_write_lock(first, 0.3, holding)
    holding.wait(5)
    assert writer_turns(path).lock.locked(), "a write transaction holds the process's turn"
    started = time.monotonic()
    with second.session() as session:  # queued on the Python lock, woken by the commit
        session.execute(text("INSERT INTO t VALUES (2)"))
    assert 0.1 < time.monotonic() - started < 5
    writer.join()
    assert not writer_turns(path).lock.locked()


def test_a_failed_write_gives_the_turn_back(two):
    """An error in the transaction (here a constraint) rolls back, and the next writer goes at once."""
    first, _second = two
    turns = writer_turns(first.engine.url.database)
    with first.session() as session:
        session.execute(text("CREATE UNIQUE INDEX ux ON t (x)"))
        session.execute(text("INSERT INTO t VALUES (7)"))
    with pytest.raises(IntegrityError), first.session() as session:
        session.execute(text("INSERT INTO t VALUES (7)"))
    assert not turns.lock.locked(), "the rollback must give the turn back"
    done = []
    thread = threading.Thread(target=lambda: done.append(_insert(first, 8)))
    thread.start()
    thread.join(2)
    assert done == [True], "another thread could not write after the failed one"


def test_a_connection_returned_without_commit_gives_the_turn_back(two):
    first, _second = two
    turns = writer_turns(first.engine.url.database)
    connection = first.engine.connect()
    connection.execute(text("INSERT INTO t VALUES (9)"))
    assert turns.lock.locked()
    connection.close()  # back to the pool, which rolls it back
    assert not turns.lock.locked()
    invalidated = first.engine.connect()
    invalidated.execute(text("INSERT INTO t VALUES (10)"))
    invalidated.invalidate()  # closed, as after a lost connection
    assert not turns.lock.locked()
    invalidated.close()
    assert _insert(first, 11)
    with first.session(read_only=True) as session:
        assert session.execute(text("SELECT x FROM t ORDER BY x")).scalars().all() == [11]


def _insert(database: Database, value: int) -> bool:
    with database.session() as session:
        session.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
    return True


def test_many_threads_writing_at_once_all_commit_without_database_is_locked(two):
    first, second = two
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            _insert(first if i % 2 else second, i)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(400)))
    assert errors == []
    with first.session(read_only=True) as session:
        assert session.execute(text("SELECT count(DISTINCT x), count(*) FROM t")).one() == (400, 400)


THREADS, POSTS = 8, 25


def test_concurrent_posts_are_all_stored_exactly_once(app, db):
    """8 threads posting at once through the app, the door's repeat and flood checks on: every post
    answered 202 and stored once, with its own author and the answer's id (SQLite and PostgreSQL)."""
    from moderation import services

    with db.session() as session:
        site, key = services.create_site(session, "concurrent")
        services.update_abuse_settings(
            session, site.id, {"ip_rate": "100000/minute", "author_rate": "100000/minute"}, actor="test"
        )
    headers = {"Authorization": f"Bearer {key}"}

    def poster(thread: int) -> list[tuple[int, str, str]]:
        client = app.test_client()
        answers = []
        for i in range(POSTS):
            body = {
                "article_id": f"a-{i % 3}",
                "content": f"Ý kiến số {thread}-{i}: đường lên bản {thread * 1000 + i} cần sửa gấp 🙏",
                "author": {"name": f"Bạn đọc {thread}-{i}"},
                "client": {"ip": f"10.0.{thread}.{i}"},
            }
            response = client.post("/api/v1/comments", json=body, headers=headers)
            answers.append((response.status_code, response.get_json().get("id"), body["content"]))
        return answers

    with ThreadPoolExecutor(THREADS) as pool:
        answers = [a for batch in pool.map(poster, range(THREADS)) for a in batch]
    assert {status for status, _, _ in answers} == {202}, [a for a in answers if a[0] != 202][:3]
    with db.session(read_only=True) as session:
        stored = dict(
            session.execute(select(Comment.id, Comment.content).where(Comment.site_id == site.id)).all()
        )
        authors = session.scalar(select(func.count()).select_from(Author).where(Author.site_id == site.id))
        articles = session.scalar(select(func.count()).select_from(Article).where(Article.site_id == site.id))
    assert len(answers) == THREADS * POSTS
    assert stored == {comment_id: content for _, comment_id, content in answers}
    assert authors == THREADS * POSTS
    assert articles == 3


def test_the_drivers_insert_stores_what_an_orm_insert_stores(db):
    """Dates, JSON, NULLs: a comment stored by the posting path's INSERT reads back like one the ORM
    added (SQLite keeps dates as text, so the text itself is compared too)."""
    from moderation import services
    from moderation.storage import repositories as repo

    at = datetime(2026, 12, 3, 8, 30, 1, 123456, tzinfo=UTC)
    with db.session() as session:
        site, _key = services.create_site(session, "driver")
        article_id = session.execute(
            insert(Article).values(site_id=site.id, external_id="a", created_at=at).returning(Article.id)
        ).scalar_one()
        author_id = repo.get_or_create_author(session, site.id, "Lan", None).id
        common = {
            "site_id": site.id,
            "article_id": article_id,
            "author_id": author_id,
            "content": "Đẹp quá 😀",
            "status": "pending",
            "decision_reasons": ["duplicate", "flood"],
            "created_at": at,
            "enqueued_at": at,
            "enqueue_attempts": 1,
        }
        session.add(Comment(id="by-orm", **common))
        session.flush()
        repo.insert_comment_row(session, {"id": "by-driver", **common})
    columns = [c for c in Comment.__table__.columns if c.key != "id"]
    with db.session(read_only=True) as session:
        rows = {
            row[0]: tuple(row[1:])
            for row in session.execute(select(Comment.id, *columns).where(Comment.site_id == site.id))
        }
        raw = {
            row[0]: tuple(row[1:])
            for row in session.execute(
                text(
                    "SELECT id, CAST(created_at AS TEXT), CAST(decision_reasons AS TEXT), analysis IS NULL"
                    " FROM comments WHERE site_id = :s"
                ),
                {"s": site.id},
            )
        }
    assert rows["by-driver"] == rows["by-orm"]
    assert dict(zip([c.key for c in columns], rows["by-driver"], strict=True))["decision_reasons"] == [
        "duplicate",
        "flood",
    ]
    assert raw["by-driver"] == raw["by-orm"]
    assert raw["by-driver"][2], "an unset JSON column is SQL NULL, not the JSON text 'null'"


def test_a_post_refused_inside_its_write_gives_the_lock_back(client, auth, db):
    """An unknown parent is found only in the write transaction: 422, and the next post goes at once."""
    body = {"article_id": "a-1", "content": "Trả lời một bình luận", "author": {"name": "Lan"}}
    refused = client.post(
        "/api/v1/comments", json={**body, "author": {"name": "Hùng"}, "parent_id": "nope"}, headers=auth
    )
    assert refused.status_code == 422
    assert "parent_id" in refused.get_json()["error"]["fields"]
    if db.dialect == "sqlite":
        assert not writer_turns(db.engine.url.database).lock.locked()
    started = time.monotonic()
    assert client.post("/api/v1/comments", json=body, headers=auth).status_code == 202
    assert time.monotonic() - started < 5
    with db.session(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 1
        authors = session.execute(select(Author.name)).scalars().all()
    assert authors == ["Lan"], "the refused post's new author is rolled back with it"
