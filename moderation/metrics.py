"""Prometheus metrics that add up across processes and machines.

Workers run on other processes (or hosts) than the web server that answers ``/metrics``, so
scoring timings are accumulated in Redis and comment counts come from the database at scrape
time; nothing depends on which web process is scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import redis
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

SCORING_KEY = "moderation:metrics:scoring"
#: Upper bounds (seconds) of the scoring-time histogram of one batch.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def record_scoring(connection: redis.Redis, seconds: float, comments: int) -> None:
    """Add one scored batch to the shared histogram (best effort: metrics never fail a job)."""
    try:
        pipe = connection.pipeline(transaction=False)
        for bound in BUCKETS:
            if seconds <= bound:
                pipe.hincrby(SCORING_KEY, f"le:{bound}", 1)
        pipe.hincrby(SCORING_KEY, "count", 1)
        pipe.hincrbyfloat(SCORING_KEY, "sum", seconds)
        pipe.hincrby(SCORING_KEY, "comments", comments)
        pipe.execute()
    except RedisError:
        log.warning("could not record scoring metrics", exc_info=True)


class ModerationCollector(Collector):
    def __init__(
        self,
        status_counts: Callable[[], dict[str, int]],
        queue_depths: Callable[[], dict[str, int]],
        connection: Callable[[], redis.Redis | None],
    ) -> None:
        self._status_counts = status_counts
        self._queue_depths = queue_depths
        self._connection = connection

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
        up = GaugeMetricFamily(
            "moderation_dependency_up", "1 if the dependency answered the scrape", labels=["dependency"]
        )
        try:
            counts = self._status_counts()
            comments = GaugeMetricFamily("moderation_comments", "Comments by status", labels=["status"])
            for status, count in sorted(counts.items()):
                comments.add_metric([status], count)
            yield comments
            up.add_metric(["database"], 1)
        except Exception:
            log.warning("metrics: database unavailable", exc_info=True)
            up.add_metric(["database"], 0)
        try:
            depths = self._queue_depths()
            depth = GaugeMetricFamily(
                "moderation_queue_depth", "Items waiting in the queues", labels=["queue"]
            )
            for name, value in sorted(depths.items()):
                depth.add_metric([name], value)
            yield depth
            yield from self._scoring()
            up.add_metric(["redis"], 1)
        except (RedisError, OSError):
            log.warning("metrics: Redis unavailable", exc_info=True)
            up.add_metric(["redis"], 0)
        yield up

    def _scoring(self) -> Iterator[HistogramMetricFamily | CounterMetricFamily]:
        connection = self._connection()
        if connection is None:
            return
        raw = {k.decode(): v.decode() for k, v in connection.hgetall(SCORING_KEY).items()}
        buckets = [(str(bound), float(raw.get(f"le:{bound}", 0))) for bound in BUCKETS]
        count = float(raw.get("count", 0))
        buckets.append(("+Inf", count))
        yield HistogramMetricFamily(
            "moderation_scoring_batch_seconds",
            "Time to score one batch of comments (models, rules and policy)",
            buckets=buckets,
            sum_value=float(raw.get("sum", 0)),
        )
        scored = CounterMetricFamily("moderation_comments_scored", "Comments scored by the workers")
        scored.add_metric([], float(raw.get("comments", 0)))
        yield scored


def build_registry(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
