"""The worker process: load the models once, run the periodic sweep, and work the RQ queue."""

from __future__ import annotations

import logging
import os
import threading
import time

import redis
from rq import Queue, SimpleWorker

from moderation.settings import Settings
from workers import jobs
from workers.context import WorkerContext, set_context

log = logging.getLogger(__name__)
RETENTION_LOCK = "moderation:retention-lock"
#: The retention job runs at most this often across all workers.
RETENTION_EVERY_SECONDS = 3600
RETRAIN_SCHEDULE_LOCK = "moderation:retrain-schedule-lock"
#: How often workers look for sites whose retraining schedule is due.
RETRAIN_CHECK_EVERY_SECONDS = 3600


class Sweeper(threading.Thread):
    """Runs ``jobs.sweep`` every interval, and hourly the retention job and the check for scheduled
    retraining; Redis locks keep one of each at a time across workers."""

    def __init__(self, context: WorkerContext) -> None:
        super().__init__(name="sweeper", daemon=True)
        self.context = context
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = self.context.settings.sweep_interval
        while not self.stopped.wait(interval):
            try:
                if self.context.queue.acquire_sweep_lock(interval * 0.9):
                    jobs.sweep(self.context)
                if self.context.queue.acquire_lock(RETENTION_LOCK, RETENTION_EVERY_SECONDS):
                    jobs.erase_old_personal_data(self.context)
                if self.context.queue.acquire_lock(RETRAIN_SCHEDULE_LOCK, RETRAIN_CHECK_EVERY_SECONDS):
                    jobs.schedule_retraining(self.context)
            except Exception:
                log.exception("periodic job failed; will retry in %.0fs", interval)

    def stop(self) -> None:
        self.stopped.set()


def wait_for_redis(connection: redis.Redis, *, first: float = 0.5, longest: float = 10.0) -> None:
    """Redis away (restarting, say) is waited out here rather than crashing the worker: a
    supervisor would count each crash towards giving up."""
    delay = first
    while True:
        try:
            connection.ping()
            return
        except redis.RedisError as exc:
            log.warning("Redis unavailable (%s); worker waits %.1fs", exc, delay)
            time.sleep(delay)
            delay = min(longest, delay * 2)


def run_worker(
    settings: Settings, *, burst: bool = False, name: str | None = None, training: bool = False
) -> None:
    """Block working the queue. SimpleWorker keeps the models in this process, loaded once;
    batching (one job drains many comments) keeps RQ's per-job overhead out of the way. A training
    worker (``training``) works the retraining queue only, so scoring never waits behind a retrain."""
    if settings.worker_nice and hasattr(os, "nice"):
        # Scoring can wait a few milliseconds; a reader posting a comment should not.
        os.nice(settings.worker_nice)
    context = WorkerContext.build(settings)
    set_context(context)
    wait_for_redis(context.redis)
    log.info(
        "worker ready: model %s, queue %s",
        context.analyzer.model_version,
        settings.training_queue if training else settings.queue_name,
    )
    sweeper = Sweeper(context)
    if not burst and settings.sweep_interval > 0:
        sweeper.start()
    jobs.sweep(context)
    queue = settings.training_queue if training else settings.queue_name
    worker = SimpleWorker([Queue(queue, connection=context.redis)], connection=context.redis, name=name)
    try:
        worker.work(burst=burst, logging_level=settings.log_level, with_scheduler=False)
    finally:
        sweeper.stop()
        context.close()
        set_context(None)
