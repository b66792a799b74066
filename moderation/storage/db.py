"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from moderation.errors import StorageUnavailable


def _sqlite_connect(foreign_keys: bool) -> Any:
    def connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions (the driver's own handling breaks SAVEPOINTs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets the web process read while a worker writes; the busy timeout waits out short locks.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    return connect


#: The rare waits other than for the write lock (a reader during WAL recovery after a crash).
BUSY_TIMEOUT_MS = 30000
#: How long a writer waits for the write lock before the database counts as unavailable.
WRITE_LOCK_TIMEOUT = 30.0
#: A waiting writer tries again after this long, growing to ``WRITE_RETRY_MAX``. SQLite's own busy
#: handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and then 100 ms between tries: in a
#: burst, where a web thread or worker holds the lock a millisecond or two, a writer slept up to
#: 100 ms for a lock long free (the p99 tail docs/performance.md measures).
WRITE_RETRY_FIRST = 0.0002
WRITE_RETRY_MAX = 0.002
#: ``Database.session(read_only=True)`` sets this execution option: a plain (deferred) BEGIN.
READ_ONLY = "moderation_read_only"


class WriterTurns:
    """The writers of one SQLite file within this process, one at a time on a ``threading.Lock``.

    Threads that each polled SQLite's lock woke on their own schedule, after it was free, and
    contended for it with the GIL held; queued on a Python lock, the next writer is woken as soon
    as the last one commits. Other processes (the workers, other web processes) still meet at
    SQLite's own lock. A turn is taken at BEGIN IMMEDIATE and given back by the commit, the
    rollback (also the pool's on returning a connection) or the connection's close, whichever
    comes first, so a failed write never leaves it taken.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: ``id()`` of the DBAPI connections whose transaction holds the turn (at most one).
        self.holders: set[int] = set()

    def take(self, dbapi: sqlite3.Connection, deadline: float) -> None:
        if not self.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked (writer queue)")
            )
        self.holders.add(id(dbapi))

    def give_back(self, dbapi: Any) -> None:
        raw = getattr(dbapi, "dbapi_connection", dbapi)
        if id(raw) in self.holders:
            self.holders.discard(id(raw))
            self.lock.release()


#: One queue of writers per database file in this process (engines of one file share it).
_turns: dict[str, WriterTurns] = {}
_turns_lock = threading.Lock()


def _reset_turns_after_fork() -> None:
    # A child forked while a thread of the parent held a turn would otherwise never get one.
    global _turns_lock
    _turns.clear()
    _turns_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_turns_after_fork)


def writer_turns(path: str) -> WriterTurns:
    key = os.path.realpath(path)
    with _turns_lock:
        return _turns.setdefault(key, WriterTurns())


def _sqlite_begin(turns: WriterTurns | None) -> Any:
    def begin(connection: Any) -> None:
        """IMMEDIATE takes the write lock up front: a deferred transaction that reads then writes
        fails at once (SQLITE_BUSY, no waiting) when another process wrote in between, e.g. a worker
        and the web. A read-only session begins deferred: under WAL it never waits for, nor holds
        up, a writer."""
        dbapi = connection.connection.dbapi_connection
        if connection.get_execution_options().get(READ_ONLY):
            dbapi.execute("BEGIN")
            return
        deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
        if turns is not None:
            turns.take(dbapi, deadline)
        try:
            _begin_immediate(dbapi, deadline)
        except BaseException:
            if turns is not None:
                turns.give_back(dbapi)
            raise

    return begin


def _begin_immediate(dbapi: sqlite3.Connection, deadline: float) -> None:
    # Wait for the lock with short sleeps of our own instead of SQLite's busy handler; the busy
    # timeout is off only while asking for the lock (two PRAGMAs cost microseconds).
    dbapi.execute("PRAGMA busy_timeout=0")
    try:
        delay = WRITE_RETRY_FIRST
        while True:
            try:
                dbapi.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    # As SQLAlchemy wraps driver errors, so that callers answer 503.
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            time.sleep(delay)
            delay = min(WRITE_RETRY_MAX, delay * 1.5)
    finally:
        dbapi.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _give_back_after(dialect: Any, turns: WriterTurns) -> None:
    """Give the turn back once the transaction ends: after the driver's commit or rollback (the pool
    rolls back a connection it takes back), or when a connection is closed (invalidated)."""
    for name in ("do_commit", "do_rollback", "do_close"):
        original = getattr(dialect, name)

        def wrapped(dbapi_connection: Any, _original: Any = original) -> None:
            try:
                _original(dbapi_connection)
            finally:
                turns.give_back(dbapi_connection)

        setattr(dialect, name, wrapped)


def make_engine(url: str, *, sqlite_foreign_keys: bool = True, **kwargs: Any) -> Engine:
    """An engine with each backend's settings; migrations turn SQLite's foreign keys off, because
    rebuilding a table (how SQLite alters one) would otherwise cascade-delete the rows that point to it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_connect(sqlite_foreign_keys))
        turns = writer_turns(database) if database and database != ":memory:" else None
        if turns is not None:
            _give_back_after(engine.dialect, turns)
        event.listen(engine, "begin", _sqlite_begin(turns))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("connect_timeout", 5)
    return create_engine(url, connect_args=connect_args, **kwargs)


class Database:
    """One engine and session factory per process; ``session()`` commits or rolls back."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on error.

        ``read_only``: a session that never writes (on SQLite it then neither waits for nor blocks
        the one writer). Connection failures surface as ``StorageUnavailable`` so callers answer 503.
        """
        session = self.sessionmaker()
        try:
            if read_only and self.dialect == "sqlite":
                session.connection(execution_options={READ_ONLY: True})
            yield session
            session.commit()
        except (OperationalError, DBAPIError) as exc:
            session.rollback()
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise StorageUnavailable(f"database unavailable: {exc.orig or exc}") from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execution_options(**{READ_ONLY: True}).execute(text("SELECT 1"))
        except (OperationalError, DBAPIError) as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig or exc}") from exc

    def dispose(self) -> None:
        self.engine.dispose()
