"""SQLite's one writer: read-only sessions never wait for it, writers wait their turn with short
sleeps of our own (not SQLite's busy handler), and give up with ``StorageUnavailable``."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from moderation.errors import StorageUnavailable
from moderation.storage import db as db_module
from moderation.storage.db import Database


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
