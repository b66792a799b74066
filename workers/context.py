"""What a worker process holds for its whole life: settings, database, Redis and the models."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import redis

from moderation.queueing import ScoringQueue, connect
from moderation.scoring import Analyzer, load_analyzer
from moderation.scoring.registry import ModelRegistry
from moderation.settings import Settings
from moderation.storage.db import Database


@dataclass
class WorkerContext:
    settings: Settings
    db: Database
    redis: redis.Redis
    queue: ScoringQueue
    analyzer: Analyzer
    #: Every version a site may name (promoted candidates, shadows); ``analyzer`` is its default.
    registry: ModelRegistry

    @classmethod
    def build(cls, settings: Settings, analyzer: Analyzer | None = None) -> WorkerContext:
        """Load the models first: a worker with a broken artifact must refuse to start."""
        if settings.redis_url is None:
            raise ValueError("REDIS_URL must be set for a worker")
        analyzer = analyzer or load_analyzer(settings.model_dir)
        connection = connect(settings.redis_url)
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            redis=connection,
            queue=ScoringQueue(
                connection,
                queue_name=settings.queue_name,
                batch_size=settings.batch_size,
                max_drainers=settings.max_drainers,
                job_timeout=settings.job_timeout,
            ),
            analyzer=analyzer,
            registry=ModelRegistry(settings.model_dir, settings.model_store_dir, default=analyzer),
        )

    def close(self) -> None:
        self.db.dispose()
        self.redis.close()


_context: WorkerContext | None = None
_lock = threading.Lock()


def set_context(context: WorkerContext | None) -> None:
    global _context
    with _lock:
        _context = context


def get_context() -> WorkerContext:
    """The process's context, built from the environment on first use (RQ imports jobs by path)."""
    global _context
    if _context is None:
        with _lock:
            if _context is None:
                _context = WorkerContext.build(Settings.from_env())
    return _context
