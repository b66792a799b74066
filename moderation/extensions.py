"""Per-app resources (database, Redis, queue, analyzer), created in ``init_app``, never at import."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from moderation.limits import POST_LIMITS_PREFIX, WindowSet
from moderation.queueing import ScoringQueue, connect
from moderation.recent_texts import RedisRecentTexts
from moderation.settings import Settings
from moderation.storage.db import Database

if TYPE_CHECKING:
    import redis
    from prometheus_client import CollectorRegistry

    from moderation.scoring import Analyzer
    from moderation.scoring.registry import ModelRegistry


class Resources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.redis: redis.Redis | None = connect(settings.redis_url) if settings.redis_url else None
        self.queue: ScoringQueue | None = (
            ScoringQueue(
                self.redis,
                queue_name=settings.queue_name,
                batch_size=settings.batch_size,
                max_drainers=settings.max_drainers,
                job_timeout=settings.job_timeout,
            )
            if self.redis is not None
            else None
        )
        #: Recent fingerprints for the door's repeat and flood checks (none without Redis).
        self.recent: RedisRecentTexts | None = (
            RedisRecentTexts(self.redis) if self.redis is not None else None
        )
        #: The door's posting limits, counted in one Redis call (the limiter's strategy without Redis).
        self.post_limits: WindowSet | None = (
            WindowSet(self.redis, POST_LIMITS_PREFIX) if self.redis is not None else None
        )
        self._registry: ModelRegistry | None = None
        #: Cached by the ops blueprint: the artifact check result and the metrics registry.
        self.model_check: dict[str, Any] | None = None
        self.metrics_registry: CollectorRegistry | None = None
        self._registry_lock = threading.Lock()

    def analyzer(self) -> Analyzer:
        """The installed default models, loaded on first use: only ``/analyze`` scores in the web process."""
        return self.models().default

    def models(self) -> ModelRegistry:
        """Every installed version by name (sites' promoted models, candidates); loads nothing itself."""
        if self._registry is None:
            with self._registry_lock:
                if self._registry is None:
                    from moderation.scoring.registry import ModelRegistry

                    self._registry = ModelRegistry(self.settings.model_dir, self.settings.model_store_dir)
        return self._registry

    def close(self) -> None:
        self.db.dispose()
        if self.redis is not None:
            self.redis.close()


def init_app(app: Flask, settings: Settings) -> Resources:
    resources = Resources(settings)
    app.extensions["moderation"] = resources
    return resources


def resources() -> Resources:
    return current_app.extensions["moderation"]
