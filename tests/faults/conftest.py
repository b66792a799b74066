"""Fixtures for fault tests: real worker processes, a Redis the test can stop, a cuttable database."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from moderation import services
from moderation.queueing import ScoringQueue, connect
from moderation.settings import Settings
from moderation.storage.db import Database
from moderation.storage.models import Comment
from moderation.supervisor import EmbeddedRedis, wait_for_redis

DATASETS = Path(
    os.environ.get("MODERATION_DATASETS_DIR", Path(__file__).resolve().parents[3] / "shared" / "datasets")
)
FALLBACK_TEXTS = [
    "Bài viết rất hay, cảm ơn tác giả đã phản ánh kịp thời.",
    "Chính quyền cần vào cuộc xử lý dứt điểm tình trạng này.",
    "Mong tỉnh sớm nâng cấp con đường để bà con đi lại thuận tiện.",
    "Thông tin hữu ích, tôi sẽ chia sẻ cho người thân.",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


def real_texts(count: int) -> list[str]:
    """News comments to score: ViCTSD dev texts when the datasets are there, else a few samples."""
    path = DATASETS / "victsd" / "dev.csv"
    texts: list[str] = []
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            texts = [row["Comment"] for row in csv.DictReader(handle) if row.get("Comment")]
    texts = texts or FALLBACK_TEXTS
    return [f"{texts[i % len(texts)]} ({i})" for i in range(count)]


class StoppableRedis:
    """A private redis-server on a fixed port, keeping its data (AOF) across stop and start."""

    def __init__(self, data_dir: Path) -> None:
        self.server = EmbeddedRedis(data_dir)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        process = self.server.process
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[StoppableRedis]:
    redis_server = StoppableRedis(tmp_path / "redis")
    redis_server.start()
    yield redis_server
    redis_server.stop()


@pytest.fixture
def fault_settings(settings: Settings) -> Settings:
    """Short sweep timings so recovery happens within a test; a queue of this test's own."""
    return settings.with_overrides(
        queue_name=f"faults-{uuid.uuid4().hex[:8]}",
        batch_size=50,
        sweep_interval=0.5,
        sweep_grace_seconds=0.5,
        sweep_stale_seconds=3.0,
    )


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url or "",
            "MODERATION_QUEUE": settings.queue_name,
            "MODERATION_BATCH_SIZE": str(settings.batch_size),
            "MODERATION_SWEEP_INTERVAL": str(settings.sweep_interval),
            "MODERATION_SWEEP_GRACE": str(settings.sweep_grace_seconds),
            "MODERATION_SWEEP_STALE": str(settings.sweep_stale_seconds),
            "MODERATION_MODEL_DIR": str(settings.model_dir),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def spawn_worker(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``moderation worker`` processes; every one still running is killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def spawn(settings: Settings, **extra: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "moderation", "worker"],
            env=worker_env(settings, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = Path(log.name)  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all())


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def store_comments(db: Database, site_name: str, texts: list[str]) -> list[str]:
    """Store comments as the API does (door checks relaxed for the site), without queueing them."""
    with db.session() as session:
        site, _ = services.create_site(session, site_name)
        services.update_abuse_settings(
            session, site.id, {"duplicate_window_minutes": 0, "flood_window_minutes": 0}, actor="test"
        )
        ids = []
        for index, text in enumerate(texts):
            submission = services.CommentSubmission(
                article_id=f"a{index % 20}", content=text, author_name=f"Bạn đọc {index}"
            )
            ids.append(services.submit_comment(session, site, submission).id)
    return ids


def queue_for(settings: Settings) -> ScoringQueue:
    return ScoringQueue(
        connect(settings.redis_url or ""),
        queue_name=settings.queue_name,
        batch_size=settings.batch_size,
        max_drainers=settings.max_drainers,
    )


__all__ = [
    "counts",
    "queue_for",
    "real_texts",
    "store_comments",
    "wait_for_redis",
    "wait_until",
    "worker_env",
]
