"""Fixtures: a real Redis, real databases (SQLite and PostgreSQL), the app, burst workers.

Redis: ``MODERATION_TEST_REDIS_URL`` if set, else a private redis-server started for the session.
PostgreSQL: ``MODERATION_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
a throw-away database is created in it. When it cannot be reached the PostgreSQL half of the
suite is skipped, unless ``MODERATION_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) makes it fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from moderation.app import create_app
from moderation.settings import Settings
from moderation.storage.db import Database
from moderation.storage.migrate import upgrade
from moderation.storage.models import Base
from moderation.supervisor import EmbeddedRedis

pytest_plugins = ["tests.dashboard_fixtures"]

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("MODERATION_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    process = server.start()
    yield server.url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def _postgres_admin_url() -> str:
    return Settings.from_env(
        {"DATABASE_URL": os.environ.get("MODERATION_TEST_POSTGRES_URL", DEFAULT_POSTGRES)}
    ).database_url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    admin_url = _postgres_admin_url()
    required = os.environ.get("MODERATION_TEST_REQUIRE_POSTGRES") == "1"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        if required:
            pytest.fail(f"PostgreSQL required but unreachable at {admin_url}: {exc}")
        pytest.skip(
            f"PostgreSQL unreachable at {admin_url} ({type(exc).__name__}); set MODERATION_TEST_POSTGRES_URL"
        )
    name = f"moderation_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'moderation.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def _empty_tables(db: Database) -> None:
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    from moderation.services import site_cache

    database = Database(database_url)
    _empty_tables(database)
    # Emptied tables reuse ids: a site cached by an earlier test must not stand in for a new one.
    site_cache.invalidate()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def analyzer():
    from moderation.scoring import load_analyzer

    return load_analyzer()


@pytest.fixture
def settings(db: Database, redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        secret_key=TEST_SECRET,
        instance_dir=tmp_path / "instance",
        database_url=db.url,
        redis_url=redis_url,
        queue_name="moderation-test",
        batch_size=64,
        sweep_interval=0,
        sweep_grace_seconds=0,
        sweep_stale_seconds=300,
        log_level="WARNING",
    )


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings=settings)
    yield app
    app.extensions["moderation"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The ``moderation`` command line, configured like the app through the environment."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url or "")
    monkeypatch.setenv("MODERATION_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("MODERATION_QUEUE", settings.queue_name)
    return CliRunner()


@pytest.fixture
def worker_context(settings: Settings, analyzer):
    from workers.context import WorkerContext, set_context

    context = WorkerContext.build(settings, analyzer=analyzer)
    set_context(context)
    yield context
    set_context(None)
    context.close()


@pytest.fixture
def run_workers(worker_context):
    """Run a burst worker in this process until the queue is empty; returns the jobs it ran."""

    from rq import Queue, SimpleWorker
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    def run() -> int:
        queue = Queue(worker_context.settings.queue_name, connection=worker_context.redis)
        registries = (FinishedJobRegistry(queue=queue), FailedJobRegistry(queue=queue))
        before = sum(registry.count for registry in registries)
        SimpleWorker([queue], connection=worker_context.redis).work(burst=True, logging_level="WARNING")
        return sum(registry.count for registry in registries) - before

    return run


@pytest.fixture
def site_key(db: Database) -> str:
    from moderation import services

    with db.session() as session:
        site, key = services.create_site(session, "demo")
        # Pipeline tests post the same text many times from one reader; the door's limits, repeat
        # and flood checks have their own tests (test_door.py), so they are out of the way here.
        services.update_abuse_settings(
            session,
            site.id,
            {
                "duplicate_window_minutes": 0,
                "flood_window_minutes": 0,
                "ip_rate": "100000/minute",
                "author_rate": "100000/minute",
            },
            actor="test",
        )
    return key


@pytest.fixture
def auth(site_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site_key}"}
