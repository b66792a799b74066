"""RQ jobs. The web layer enqueues them by dotted path (``workers.jobs.drain_pending``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.exceptions import RedisError
from rq import get_current_job

from moderation import services
from moderation.errors import QueueUnavailable, StorageUnavailable, TrainingUnavailable
from moderation.metrics import record_scoring
from moderation.services import privacy
from workers.context import WorkerContext, get_context

log = logging.getLogger(__name__)
STORAGE_RETRIES = (1.0, 2.0, 4.0)


def _score_batch(
    context: WorkerContext, ids: list[str], job_id: str, owner: str | None = None
) -> services.ScoringReport:
    """Score one batch, giving the ids back to the list if the database cannot take the results."""
    for attempt, delay in enumerate((*STORAGE_RETRIES, None), start=1):
        started = time.perf_counter()
        try:
            report = services.score_comments(context.db, context.analyzer, ids, models=context.registry)
        except StorageUnavailable as exc:
            if delay is None:
                context.queue.give_back(ids, owner)
                raise
            log.warning(
                "job %s: database unavailable (attempt %d): %s; retrying in %.0fs",
                job_id,
                attempt,
                exc,
                delay,
            )
            time.sleep(delay)
            continue
        context.queue.batch_done(owner)
        record_scoring(context.redis, time.perf_counter() - started, len(ids))
        for comment_id in report.errors:
            log.error(
                "job %s: scoring failed for comment %s; held for review as scoring_error", job_id, comment_id
            )
        return report
    raise AssertionError("unreachable")


def drain_pending() -> dict[str, Any]:
    """Pop batches of comment ids until the list is empty, scoring and deciding each batch."""
    context = get_context()
    job = get_current_job()
    job_id = job.id if job else "-"
    # The batch in flight is kept under the worker's name: if this process dies mid-batch,
    # ``moderation up`` (or the sweep) puts it back on the list at once (queueing.ScoringQueue.recover).
    owner = job.worker_name if job is not None and job.worker_name else None
    totals: dict[str, Any] = {"batches": 0, "comments": 0, "scored": 0, "by_status": {}}
    redis_waits = 0
    while True:
        try:
            _drain(context, job_id, owner, totals)
            break
        except RedisError as exc:
            # Redis went away mid-drain (restarted, say): wait for it and go on, rather than fail
            # the job with a claim and a batch in flight that only the sweep would find.
            redis_waits += 1
            if redis_waits > 3:
                raise
            log.warning("job %s: Redis unavailable (%s); waiting for it", job_id, exc)
            wait_for_redis(context.redis, timeout=60.0)
    log.info("job %s: %s", job_id, totals)
    return totals


def _drain(context: WorkerContext, job_id: str, owner: str | None, totals: dict[str, Any]) -> None:
    if owner is not None:
        recovered = context.queue.start_draining(owner)
        if recovered:
            log.warning("job %s: %d comments this worker had in flight are queued again", job_id, recovered)
    while True:
        ids = context.queue.pop_batch(linger=context.settings.batch_linger_seconds, owner=owner)
        if not ids:
            if context.queue.release_or_continue(owner):
                continue
            return
        try:
            report = _score_batch(context, ids, job_id, owner)
        except StorageUnavailable:
            # The ids are back on the list; release our claim so the sweeper restarts draining later.
            context.queue.release(owner)
            log.error("job %s: database still unavailable; %d comments left on the queue", job_id, len(ids))
            raise
        totals["batches"] += 1
        totals["comments"] += len(ids)
        totals["scored"] += report.scored
        for status, count in report.by_status.items():
            totals["by_status"][status] = totals["by_status"].get(status, 0) + count


def wait_for_redis(connection: Any, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.ping()
            return
        except RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def erase_old_personal_data(context: WorkerContext | None = None) -> dict[str, int]:
    """The retention job: erase readers' addresses and user agents past the retention period."""
    context = context or get_context()
    try:
        report = privacy.erase_old_personal_data(context.db, context.settings.retention_days)
    except StorageUnavailable as exc:
        log.warning("retention skipped: %s", exc)
        return {"comments": 0, "reports": 0}
    if report.comments or report.reports:
        log.info("retention: erased addresses of %d comments and %d reports", report.comments, report.reports)
    return {"comments": report.comments, "reports": report.reports}


def sweep(context: WorkerContext | None = None) -> dict[str, int]:
    """Re-enqueue comments that were never enqueued, whose push never reached the list, or whose
    job never finished; idempotent."""
    context = context or get_context()
    settings = context.settings
    result = {"restarted_drainers": 0, "requeued": 0, "recovered": 0}
    try:
        result["recovered"] = recover_dead_workers(context)
        if context.queue.ensure_drainers():
            result["restarted_drainers"] = 1
        lost = services.find_lost_comments(
            context.db,
            grace_seconds=settings.sweep_grace_seconds,
            stale_seconds=settings.sweep_stale_seconds,
            queued=context.queue.queued_ids(),
        )
        if lost:
            context.queue.push(lost)
            services.mark_enqueued(context.db, lost)
            result["requeued"] = len(lost)
            log.warning("sweep: re-enqueued %d comments that were lost or never enqueued", len(lost))
    except (StorageUnavailable, QueueUnavailable, RedisError) as exc:
        log.warning("sweep skipped: %s", exc)
    return result


def recover_dead_workers(context: WorkerContext) -> int:
    """Batches left in flight by workers RQ no longer knows (dead long enough for their
    registration to expire, e.g. in a container restarted without ``moderation up``) go back on
    the list. ``moderation up`` does it at once when it sees a worker die."""
    from rq import Worker

    alive = {worker.name for worker in Worker.all(connection=context.redis)}
    recovered = 0
    for owner in context.queue.inflight_owners():
        if owner not in alive:
            count = context.queue.recover(owner)
            if count:
                log.warning("sweep: %d comments left in flight by dead worker %s queued again", count, owner)
            recovered += count
    return recovered


#: A retraining job may take this long (a full training is tens of minutes on two cores).
RETRAIN_TIMEOUT_SECONDS = 3 * 3600


def retrain_job_id(site_id: int) -> str:
    return f"retrain-site-{site_id}"


def schedule_retraining(context: WorkerContext | None = None) -> list[int]:
    """Queue a retraining job for every site whose schedule is due (none by default); one per site."""
    from rq import Queue
    from rq.job import Job, JobStatus

    from moderation.services import learning

    context = context or get_context()
    try:
        with context.db.session() as session:
            due = learning.due_for_retraining(session)
    except StorageUnavailable as exc:
        log.warning("retraining schedule skipped: %s", exc)
        return []
    queue = Queue(context.settings.training_queue, connection=context.redis)
    queued = []
    for site_id in due:
        job_id = retrain_job_id(site_id)
        existing = Job.fetch(job_id, connection=context.redis) if Job.exists(job_id, context.redis) else None
        if existing is not None and existing.get_status() in (JobStatus.QUEUED, JobStatus.STARTED):
            continue
        queue.enqueue(
            "workers.jobs.retrain_site",
            site_id,
            job_id=job_id,
            job_timeout=RETRAIN_TIMEOUT_SECONDS,
            result_ttl=7 * 24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=f"retrain the model of site {site_id}",
        )
        queued.append(site_id)
    if queued:
        log.info("retraining queued for sites %s", queued)
    return queued


def retrain_site(site_id: int, quick: bool = False) -> dict[str, Any]:
    """The scheduled retrain: a candidate from the site's labels, promoted if the site's settings say
    so and the guard passes. Too few labels is not an error: it is reported and tried again later."""
    try:
        from moderation.training.config import FULL, QUICK
        from moderation.training.data import default_datasets_dir
        from moderation.training.loop import retrain_site as run
        from moderation.training.retrain import NotEnoughLabels
    except ModuleNotFoundError as exc:
        raise TrainingUnavailable(f"retraining needs {exc.name}. {TrainingUnavailable.__doc__}") from exc

    context = get_context()
    try:
        result = run(
            context.db,
            context.registry,
            site_id,
            datasets=default_datasets_dir(),
            store=context.settings.model_store_dir,
            config=QUICK if quick else FULL,
            echo=lambda line: log.info("retrain site %s: %s", site_id, line),
        )
    except NotEnoughLabels as exc:
        log.info("retrain site %s skipped: %s", site_id, exc)
        return {"site_id": site_id, "skipped": str(exc)}
    return {
        "site_id": site_id,
        "version": result.version,
        "passed": result.passed,
        "promoted": result.promoted,
    }
